//! Scale: many client sessions held open at once against the reference server (a separate
//! `harness serve` process, so each side has its own descriptor limit), and the peak resident
//! memory each session costs, harness and server together.

use crate::case::Case;
use crate::date::Date;
use crate::dialect::Conversation;
use crate::direction::Direction;
use crate::suite::Suite;
use bytes::BytesMut;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone)]
pub struct Scale {
    pub sessions: usize,
    pub harness_kib: f64,
    pub server_kib: f64,
}

impl Scale {
    pub fn per_session_kib(&self) -> f64 {
        (self.harness_kib + self.server_kib) / self.sessions.max(1) as f64
    }
}

/// A memory figure of a process from /proc, KiB: `VmRSS` (resident now) or `VmHWM` (peak).
fn status_kib(pid: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0.0)
}

/// Resident memory of a process now, KiB.
fn rss_kib(pid: &str) -> f64 {
    status_kib(pid, "VmRSS:")
}

/// Peak resident memory of a process since [`reset_peak`], KiB.
fn peak_rss_kib(pid: &str) -> f64 {
    status_kib(pid, "VmHWM:")
}

/// Starts a process's peak resident memory afresh from its present size (Linux `clear_refs`
/// 5), so earlier stages of the benchmark do not count. Where that is refused, the figure is
/// the peak since the process started, which can only overstate.
fn reset_peak(pid: &str) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// A client session held after the replies to its first two requests: socket, framing
/// buffer and classifier state.
struct Held {
    _stream: TcpStream,
    _conversation: Box<dyn Conversation>,
    _buf: BytesMut,
}

/// The client the sessions play: the suite's most common one (by population share), else its
/// first case.
fn most_common(suite: &Suite) -> Option<&Case> {
    let share = |c: &Case| suite.population.shares.get(&c.id).copied().unwrap_or(0.0);
    suite
        .cases
        .iter()
        .map(|c| c.as_ref())
        .fold(None, |best: Option<&Case>, c| match best {
            Some(b) if share(b) >= share(c) => Some(b),
            _ => Some(c),
        })
}

async fn open(addr: &str, case: &Case, values: &BTreeMap<String, String>) -> Option<Held> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let mut conversation = case
        .dialect
        .conversation(case.identity.as_ref(), &Default::default());
    let mut buf = BytesMut::with_capacity(512);
    for step in case.steps.iter().take(2) {
        let bytes = conversation.send(step.request.as_ref(), values).ok()?;
        stream.write_all(&bytes).await.ok()?;
        'reply: loop {
            while let Ok(Some(raw)) = case.dialect.frame(Direction::Server, &mut buf) {
                if conversation.receive(raw).answers_request {
                    break 'reply;
                }
            }
            if stream.read_buf(&mut buf).await.ok()? == 0 {
                return None;
            }
        }
    }
    Some(Held {
        _stream: stream,
        _conversation: conversation,
        _buf: buf,
    })
}

pub async fn hold(
    exe: &Path,
    suite: &Suite,
    policy: &Path,
    as_of: Date,
    sessions: usize,
) -> Result<Scale, String> {
    let case = most_common(suite).ok_or("the suite has no case")?;
    let mut values = suite.variables.clone();
    values.insert("host".to_string(), "127.0.0.1".to_string());
    let mut server = Command::new(exe)
        .args([
            "serve",
            "--dialect",
            suite.dialect.name(),
            "--as-of",
            &as_of.to_string(),
            "--listen",
            "127.0.0.1:0",
            "--idle-timeout",
            "600s",
        ])
        .arg("--policy")
        .arg(policy)
        .args(["--max-connections", &(sessions + 100).to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start harness serve: {e}"))?;
    let mut log = BufReader::new(server.stdout.take().ok_or("no server stdout")?);
    let mut banner = String::new();
    log.read_line(&mut banner).map_err(|e| e.to_string())?;
    // The server logs a line per client only when one leaves; drain it so it never blocks.
    std::thread::spawn(move || for _ in log.lines() {});
    let addr = banner
        .split_whitespace()
        .nth(2)
        .ok_or("no address in the server's banner")?
        .to_string();
    let server_pid = server.id().to_string();
    reset_peak(&server_pid);
    reset_peak("self");
    let (server_before, harness_before) = (rss_kib(&server_pid), rss_kib("self"));
    let mut held = Vec::with_capacity(sessions);
    let mut failed = 0usize;
    while held.len() + failed < sessions {
        let batch = (sessions - held.len() - failed).min(500);
        let opened = futures_join(batch, &addr, case, &values).await;
        for session in opened {
            match session {
                Some(s) => held.push(s),
                None => failed += 1,
            }
        }
    }
    let scale = Scale {
        sessions: held.len(),
        harness_kib: peak_rss_kib("self") - harness_before,
        server_kib: peak_rss_kib(&server_pid) - server_before,
    };
    drop(held);
    let _ = server.kill();
    let _ = server.wait();
    if failed > 0 {
        return Err(format!(
            "{failed} of {sessions} sessions could not be opened (raise `ulimit -n`?)"
        ));
    }
    Ok(scale)
}

async fn futures_join(
    n: usize,
    addr: &str,
    case: &Case,
    values: &BTreeMap<String, String>,
) -> Vec<Option<Held>> {
    let mut set = tokio::task::JoinSet::new();
    let case = std::sync::Arc::new(case.clone());
    let values = std::sync::Arc::new(values.clone());
    for _ in 0..n {
        let (addr, case, values) = (addr.to_string(), case.clone(), values.clone());
        set.spawn(async move { open(&addr, &case, &values).await });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(joined) = set.join_next().await {
        out.push(joined.ok().flatten());
    }
    out
}
