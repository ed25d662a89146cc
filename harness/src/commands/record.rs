//! `harness record`: the recording proxy, until interrupted or N sessions are written.

use super::Failure;
use crate::capture::record;
use crate::cli::RecordArgs;
use crate::exit;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub async fn record(args: &RecordArgs) -> Result<i32, Failure> {
    let dialect = super::dialect(&args.dialect)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", args.out.display())))?;
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
    let proxy = tokio::spawn(record::proxy(
        listener,
        args.upstream.clone(),
        args.out.clone(),
        dialect,
        Duration::from_secs(10),
        done,
    ));
    let mut count = 0usize;
    let mut failed = false;
    loop {
        tokio::select! {
            result = written.recv() => match result {
                Some(Ok(session)) => {
                    count += 1;
                    crate::status::say(&format!("wrote {} and {} ({} messages)", session.case.display(), session.pcapng.display(), session.messages));
                    if args.sessions.is_some_and(|n| count >= n) {
                        break;
                    }
                }
                Some(Err(e)) => {
                    failed = true;
                    eprintln!("error: {e}");
                }
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    proxy.abort();
    Ok(if failed { exit::RUNTIME } else { exit::SUCCESS })
}
