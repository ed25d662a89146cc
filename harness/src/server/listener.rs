//! The reference server's network side: accepts connections, feeds each client's bytes to
//! its dialect's session and writes the replies, with an idle timeout, a connection limit and one log line
//! per client. At the limit, a newcomer is admitted by closing the connection that has gone
//! longest without a whole message (see [`super::activity`]), once that one has been quiet for
//! [`MIN_QUIET_TO_EVICT`]; otherwise the newcomer is refused.

use super::activity::{Activity, Tracked};
use super::{Action, ServerPolicy};
use crate::date::Date;
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
    pub policy: Arc<dyn ServerPolicy>,
    pub as_of: Date,
    /// A client silent (or not reading) for this long is disconnected.
    pub idle_timeout: Duration,
    /// Connections open at once; past it, the quietest is closed or the newcomer refused.
    pub max_connections: usize,
    /// Past this, a connection not yet admitted is as quiet as it was, however much it sends.
    pub admission_budget: Duration,
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

/// A full server closes a connection to admit a newcomer only when that one has sent no whole
/// message for this long: a burst of new clients does not evict each other mid-handshake.
pub const MIN_QUIET_TO_EVICT: Duration = Duration::from_secs(1);

/// How long an admitted newcomer waits for the evicted connection to give up its slot.
const SLOT_WAIT: Duration = Duration::from_secs(1);

/// How long a newcomer to a full server waits for a connection to become evictable (quiet for
/// [`MIN_QUIET_TO_EVICT`]) before it is refused: a burst of connections all accepted in the
/// last second must not lock real clients out.
const NEWCOMER_WAIT: Duration = Duration::from_secs(3);

/// Newcomers waiting at once; past it, a newcomer to a full server is refused at once.
const MAX_WAITING: usize = 256;

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
        .in_force(config.as_of)
        .map_err(StartError::NoPhase)?;
    let bind_error = |source| StartError::Bind {
        addr: listen.to_string(),
        source,
    };
    let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let waiting = Arc::new(Semaphore::new(MAX_WAITING));
    let activity = Arc::new(Activity::default());
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
            let config = config.clone();
            // Only a connection holding a slot is tracked: a newcomer waiting for one can be
            // neither chosen for eviction nor choose itself.
            if let Ok(slot) = slots.clone().try_acquire_owned() {
                let tracked = activity.track();
                tokio::spawn(async move {
                    serve_connection(stream, peer, tracked, &config).await;
                    drop(slot);
                });
            } else if let Ok(waiter) = waiting.clone().try_acquire_owned() {
                let (slots, activity) = (slots.clone(), activity.clone());
                tokio::spawn(async move {
                    let evicted = wait_to_evict(&activity).await;
                    drop(waiter);
                    let slot = match evicted {
                        true => tokio::time::timeout(SLOT_WAIT, slots.acquire_owned())
                            .await
                            .ok()
                            .and_then(Result::ok),
                        false => None,
                    };
                    match slot {
                        Some(slot) => {
                            let tracked = activity.track();
                            serve_connection(stream, peer, tracked, &config).await;
                            drop(slot);
                        }
                        None => refuse(peer, &config),
                    }
                });
            } else {
                refuse(peer, &config);
            }
        }
    });
    Ok(RunningServer { addr, task })
}

/// Evicts the quietest connection once one has been quiet long enough, within
/// [`NEWCOMER_WAIT`]; returns whether one was.
async fn wait_to_evict(activity: &Activity) -> bool {
    let deadline = tokio::time::Instant::now() + NEWCOMER_WAIT;
    loop {
        if activity.evict_quietest(MIN_QUIET_TO_EVICT) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn refuse(peer: SocketAddr, config: &ServerConfig) {
    if let Some(log) = &config.log {
        log.line(format!(
            "{peer} refused: connection limit {} reached and no connection quiet for {:?}",
            config.max_connections, MIN_QUIET_TO_EVICT
        ));
    }
}

/// Why a connection ended before its conversation did: the server needed its slot.
const EVICTED: &str =
    "closed to admit a newcomer: quiet longest when the connection limit was reached";

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    mut tracked: Tracked,
    config: &ServerConfig,
) {
    let evicted = tracked.evicted.clone();
    let _ = stream.set_nodelay(true);
    let Some(mut session) = config.policy.session(config.as_of) else {
        return;
    };
    let mut buf = BytesMut::with_capacity(1024);
    let ending = 'conversation: loop {
        loop {
            let actions = match session.handle(&mut buf) {
                Ok(Some(actions)) => {
                    tracked.touch(session.admitted(), config.admission_budget);
                    actions
                }
                Ok(None) => break,
                Err(e) => break 'conversation format!("malformed input: {e}"),
            };
            for action in actions {
                match action {
                    Action::Send(bytes) => {
                        let write =
                            tokio::time::timeout(config.idle_timeout, stream.write_all(&bytes));
                        tokio::select! {
                            written = write => if !matches!(written, Ok(Ok(()))) {
                                break 'conversation "client stopped reading".to_string();
                            },
                            () = evicted.notified() => break 'conversation EVICTED.to_string(),
                        }
                    }
                    Action::ClientLeft => break 'conversation "client signed out".to_string(),
                    Action::Close => break 'conversation "server closed".to_string(),
                }
            }
        }
        let read = tokio::time::timeout(config.idle_timeout, stream.read_buf(&mut buf));
        let read = tokio::select! {
            read = read => read,
            () = evicted.notified() => break EVICTED.to_string(),
        };
        match read {
            Ok(Ok(0)) => break "client closed".to_string(),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => break format!("read failed: {e}"),
            Err(_) => break format!("idle for {:?}", config.idle_timeout),
        }
    };
    let _ = stream.shutdown().await;
    if let Some(log) = &config.log {
        log.line(format!("{peer} {} ({ending})", session.summary()));
    }
}
