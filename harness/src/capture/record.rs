//! The recording proxy: forwards each client connection to the upstream server and records
//! what passes. A session is written (`recording`) when it closes, when it has been idle for
//! the idle timeout, or when the proxy is stopped (a signal, or its session limit): every
//! session open then is written as far as it got.

use super::flows::End;
pub use super::recording::Recorded;
use super::recording::{self, Recording, Session};
use crate::dialect::Dialect;
use crate::direction::Direction;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// How the proxy treats each session.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long to wait for the upstream to accept a connection.
    pub connect_timeout: Duration,
    /// A session with no bytes either way for this long is ended and written.
    pub idle_timeout: Duration,
    /// The client's name in the cases written (`name =`), when the recorder was told it.
    pub name: Option<std::sync::Arc<str>>,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Proxies connections accepted on `listener` to `upstream`, sending each written session (or
/// why one could not be) on `done`. When `stop` turns true it accepts no more, ends every open
/// session, and returns once each is written.
pub async fn proxy(
    listener: TcpListener,
    upstream: String,
    out: PathBuf,
    dialect: &'static dyn Dialect,
    settings: Settings,
    stop: watch::Receiver<bool>,
    done: mpsc::UnboundedSender<Result<Recorded, String>>,
) {
    // Numbered after the sessions an earlier run left in the folder.
    let mut next_id = super::output::next_number(&out).unwrap_or(0);
    let mut sessions = tokio::task::JoinSet::new();
    let mut stopping = stop.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        let (client, peer) = match accepted {
            Ok(accepted) => accepted,
            // Out of file descriptors, or a connection reset before it was accepted: the
            // listener itself is fine.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let id = next_id;
        next_id += 1;
        let (upstream, out, done, stop, settings) = (
            upstream.clone(),
            out.clone(),
            done.clone(),
            stop.clone(),
            settings.clone(),
        );
        sessions.spawn(async move {
            let name = settings.name.clone();
            let Some(session) = connect(id, client, peer, &upstream, settings, stop).await else {
                return;
            };
            let result = match session {
                Ok((session, recording)) => {
                    recording::write(&session, recording, &out, dialect, name.as_deref())
                }
                Err(e) => Err(e),
            };
            let _ = done.send(result);
        });
        while sessions.try_join_next().is_some() {}
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
}

/// Connects to the upstream and proxies until the session ends. `None` when the proxy was
/// stopped before the upstream answered: nothing passed, so there is nothing to write.
async fn connect(
    id: u64,
    client: TcpStream,
    peer: std::net::SocketAddr,
    upstream: &str,
    settings: Settings,
    mut stop: watch::Receiver<bool>,
) -> Option<Result<(Session, Recording), String>> {
    let connect_timeout = settings.connect_timeout;
    let connecting = tokio::time::timeout(connect_timeout, TcpStream::connect(upstream));
    let server = tokio::select! {
        connected = connecting => connected,
        _ = stop.wait_for(|stop| *stop) => return None,
    };
    let server = match server {
        Ok(Ok(server)) => server,
        Ok(Err(e)) => return Some(Err(format!("cannot reach upstream {upstream}: {e}"))),
        Err(_) => {
            return Some(Err(format!(
                "no connection to upstream {upstream} within {connect_timeout:?}"
            )));
        }
    };
    let server_addr = match server.peer_addr() {
        Ok(addr) => addr,
        Err(e) => return Some(Err(e.to_string())),
    };
    let first_ns = now_ns();
    let recording = Arc::new(Mutex::new(Recording::default()));
    let started = Instant::now();
    let active = Arc::new(AtomicU64::new(0));
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let both = async {
        tokio::join!(
            pump(
                client_read,
                server_write,
                Direction::Client,
                &recording,
                started,
                &active
            ),
            pump(
                server_read,
                client_write,
                Direction::Server,
                &recording,
                started,
                &active
            ),
        )
    };
    // Whichever comes first; the pumps (and with them both connections) are dropped after.
    let end = tokio::select! {
        (client_reset, server_reset) = both => {
            if client_reset || server_reset { End::Reset } else { End::Fin }
        }
        _ = idle(started, &active, settings.idle_timeout) => End::Idle,
        _ = stop.wait_for(|stop| *stop) => End::Stopped,
    };
    let recording = std::mem::take(&mut *recording.lock().unwrap_or_else(|e| e.into_inner()));
    let session = Session {
        id,
        client: peer,
        server: server_addr,
        first_ns,
        end,
    };
    Some(Ok((session, recording)))
}

/// Returns once nothing has passed either way for `timeout`.
async fn idle(started: Instant, active: &AtomicU64, timeout: Duration) {
    loop {
        let last = Duration::from_millis(active.load(Ordering::Relaxed));
        let quiet = started.elapsed().saturating_sub(last);
        if quiet >= timeout {
            return;
        }
        tokio::time::sleep(timeout - quiet).await;
    }
}

/// Copies one direction, recording each chunk; returns whether it ended in an error (reset).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    direction: Direction,
    recording: &Mutex<Recording>,
    started: Instant,
    active: &AtomicU64,
) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    let other = match direction {
        Direction::Client => Direction::Server,
        Direction::Server => Direction::Client,
    };
    // Each close is the doing of the side that made it: an end of stream or a reset read
    // from `direction`, a write refused by the other side.
    let close = |side: Direction, reset: bool| {
        if let Ok(mut recording) = recording.lock() {
            recording.close(side, reset);
        }
    };
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) => {
                close(direction, false);
                let _ = to.shutdown().await;
                return false;
            }
            Ok(n) => n,
            Err(_) => {
                close(direction, true);
                return true;
            }
        };
        active.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        if let Ok(mut recording) = recording.lock() {
            recording.chunk(direction, now_ns(), &buf[..n]);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            close(other, true);
            return true;
        }
    }
}
