//! The reference server's network side: accepts connections, frames client bytes, feeds each
//! session and writes its replies, with an idle timeout, a connection limit and one log line
//! per client.

use super::policy::Policy;
use super::session::{Action, Session};
use crate::date::Date;
use crate::dialect::msnp::{Limits, Sender, codec};
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub policy: Arc<Policy>,
    pub as_of: Date,
    /// A client silent (or not reading) for this long is disconnected.
    pub idle_timeout: Duration,
    /// Connections beyond this are closed at once.
    pub max_connections: usize,
    /// Where to write one line per client (never blocking the server); `None`: no log.
    pub log: Option<crate::status::Log>,
}

/// A server running on a tokio task; dropping it stops the server.
pub struct RunningServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningServer {
    /// Waits until the accept loop ends (it does not on its own).
    pub async fn wait(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

/// The limits the server holds clients to: real client lines and bodies are far smaller.
const CLIENT_LIMITS: Limits = Limits {
    max_line: 8 * 1024,
    max_body: 64 * 1024,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    NoPhase(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Binds `listen` and starts serving. Fails if the policy has no phase in force on `as_of`.
pub async fn start(listen: &str, config: ServerConfig) -> Result<RunningServer, StartError> {
    config
        .policy
        .phase_at(config.as_of)
        .map_err(StartError::NoPhase)?;
    let bind_error = |source| StartError::Bind {
        addr: listen.to_string(),
        source,
    };
    let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                if let Some(log) = &config.log {
                    log.line(format!(
                        "{peer} refused: connection limit {} reached",
                        config.max_connections
                    ));
                }
                drop(stream);
                continue;
            };
            let config = config.clone();
            tokio::spawn(async move {
                serve_connection(stream, peer, &config).await;
                drop(slot);
            });
        }
    });
    Ok(RunningServer { addr, task })
}

async fn serve_connection(mut stream: TcpStream, peer: SocketAddr, config: &ServerConfig) {
    let _ = stream.set_nodelay(true);
    let Ok(phase) = config.policy.phase_at(config.as_of) else {
        return;
    };
    let mut session = Session::new(&config.policy, phase, config.as_of);
    let mut buf = BytesMut::with_capacity(1024);
    let ending = 'conversation: loop {
        loop {
            let message = match codec::decode(&mut buf, Sender::Client, &CLIENT_LIMITS) {
                Ok(Some((message, _))) => message,
                Ok(None) => break,
                Err(e) => break 'conversation format!("malformed input: {e}"),
            };
            for action in session.handle(&message) {
                match action {
                    Action::Send(bytes) => {
                        let write =
                            tokio::time::timeout(config.idle_timeout, stream.write_all(&bytes));
                        if !matches!(write.await, Ok(Ok(()))) {
                            break 'conversation "client stopped reading".to_string();
                        }
                    }
                    Action::Close if message.command == "OUT" => {
                        break 'conversation "client signed out".to_string();
                    }
                    Action::Close => break 'conversation "server closed".to_string(),
                }
            }
        }
        match tokio::time::timeout(config.idle_timeout, stream.read_buf(&mut buf)).await {
            Ok(Ok(0)) => break "client closed".to_string(),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => break format!("read failed: {e}"),
            Err(_) => break format!("idle for {:?}", config.idle_timeout),
        }
    };
    let _ = stream.shutdown().await;
    if let Some(log) = &config.log {
        let client = session.client().unwrap_or_else(|| "(no CVR)".to_string());
        let protocol = session.protocol().unwrap_or_else(|| "-".to_string());
        let (verdict, reason) = match session.decision() {
            Some(d) => (d.verdict.as_str(), d.reason.as_str()),
            None => ("undecided", "left before the admission point"),
        };
        log.line(format!(
            "{peer} {client} {protocol} {verdict}: {reason} ({ending})"
        ));
    }
}
