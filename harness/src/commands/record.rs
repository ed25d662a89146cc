//! `harness record`: the recording proxy, until interrupted (SIGINT, SIGTERM) or N sessions
//! are written; either way every session still open is written before it exits.

use super::Failure;
use crate::capture::record;
use crate::cli::RecordArgs;
use crate::exit;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// The signals that stop a recording: SIGINT and SIGTERM (Ctrl-C where there are no others),
/// caught from when this is made.
struct Stops {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Stops {
    fn new() -> std::io::Result<Stops> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Stops {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Stops {})
    }

    /// Waits for the next one; says which.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "interrupted",
                _ = self.terminate.recv() => "terminated",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "interrupted"
        }
    }
}

pub async fn record(args: &RecordArgs) -> Result<i32, Failure> {
    let dialect = super::dialect(&args.dialect)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", args.out.display())))?;
    // Before the banner: from then on a signal stops the recording cleanly.
    let mut stops =
        Stops::new().map_err(|e| Failure::Runtime(format!("cannot catch signals: {e}")))?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    crate::status::say(&format!(
        "recording on {addr} → {}, into {}",
        args.upstream,
        args.out.display()
    ));
    let (done, mut written) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    let settings = record::Settings {
        connect_timeout: Duration::from_secs(10),
        idle_timeout: args.idle_timeout,
        name: args.name.as_deref().map(std::sync::Arc::from),
    };
    let proxy = tokio::spawn(record::proxy(
        listener,
        args.upstream.clone(),
        args.out.clone(),
        dialect,
        settings,
        stopped,
        done,
    ));
    let mut count = 0usize;
    let mut failed = false;
    let mut stopping = false;
    // Until the proxy has written its last session and let go of the channel.
    loop {
        let why = tokio::select! {
            result = written.recv() => match result {
                Some(Ok(session)) => {
                    count += 1;
                    crate::status::say(&format!(
                        "wrote {} and {} ({} messages, ended by {})",
                        session.case.display(),
                        session.pcapng.display(),
                        session.messages,
                        session.ended_by
                    ));
                    match args.sessions {
                        Some(n) if count >= n => "the session limit is reached",
                        _ => continue,
                    }
                }
                Some(Err(e)) => {
                    failed = true;
                    eprintln!("error: {e}");
                    continue;
                }
                None => break,
            },
            why = stops.next(), if !stopping => why,
        };
        if !stopping {
            stopping = true;
            crate::status::say(&format!(
                "stopping ({why}): writing the sessions still open"
            ));
            let _ = stop.send(true);
        }
    }
    let _ = proxy.await;
    Ok(if failed { exit::RUNTIME } else { exit::SUCCESS })
}
