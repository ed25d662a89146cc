//! Drives one case against one endpoint: connect, send each step, wait for its reply under the
//! step timeout, let the dialect classify, record the transcript.

use super::transcript::{Direction, Transcript};
use crate::case::Case;
use crate::dialect::{Conversation, Dialect, Ending, Received};
use crate::verdict::Verdict;
use bytes::BytesMut;
use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone)]
pub struct Settings {
    /// How long each step waits for its reply (and a connection attempt for the server).
    pub step_timeout: Duration,
    /// The most transcript bytes kept per case.
    pub transcript_limit: usize,
    /// The suite's `[dialect_settings]` (TLS: what counts as deprecated).
    pub dialect: toml::Table,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            step_timeout: Duration::from_secs(5),
            transcript_limit: 64 * 1024,
            dialect: toml::Table::new(),
        }
    }
}

/// What happened when one case ran.
#[derive(Debug, Clone)]
pub struct CaseRun {
    pub verdict: Verdict,
    pub transcript: Transcript,
    pub duration: Duration,
    /// Where a replayed capture's live replies differ from the recorded ones.
    pub divergences: Vec<Divergence>,
}

/// A live reply that means something other than the recorded one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Divergence {
    /// 1-based number of the step whose reply differs.
    pub step: usize,
    pub recorded: String,
    pub live: String,
}

struct Driver<'a> {
    dialect: &'a dyn Dialect,
    divergences: Vec<Divergence>,
    started: Instant,
    settings: &'a Settings,
    transcript: Transcript,
    conversation: Box<dyn Conversation>,
    buf: BytesMut,
}

/// Runs `case` against `addr` with the suite's `variables`.
pub async fn drive(
    addr: &str,
    case: &Case,
    dialect: &dyn Dialect,
    variables: &BTreeMap<String, String>,
    settings: &Settings,
) -> CaseRun {
    let mut driver = Driver {
        dialect,
        divergences: Vec::new(),
        started: Instant::now(),
        settings,
        transcript: Transcript::new(settings.transcript_limit),
        conversation: dialect.conversation(case.identity.as_ref(), &settings.dialect),
        buf: BytesMut::with_capacity(4096),
    };
    let verdict = match tokio::time::timeout(settings.step_timeout, TcpStream::connect(addr)).await
    {
        Ok(Ok(mut stream)) => {
            let _ = stream.set_nodelay(true);
            let mut values = variables.clone();
            values.extend(case.variables.clone());
            // `{host}`: the target's host, e.g. for a TLS server name.
            let host = addr
                .rsplit_once(':')
                .map_or(addr, |(h, _)| h)
                .trim_matches(['[', ']']);
            values
                .entry("host".to_string())
                .or_insert_with(|| host.to_string());
            let (verdict, open) = driver.steps(&mut stream, case, values).await;
            if open {
                driver.say_goodbye(&mut stream).await;
            }
            verdict
        }
        Ok(Err(e)) => Verdict::error("connect", format!("cannot connect to {addr}: {e}")),
        Err(_) => Verdict::error(
            "connect",
            format!(
                "no connection to {addr} within {}",
                show(settings.step_timeout)
            ),
        ),
    };
    CaseRun {
        verdict,
        duration: driver.started.elapsed(),
        transcript: driver.transcript,
        divergences: driver.divergences,
    }
}

impl Driver<'_> {
    /// Runs the steps; returns the verdict and whether the connection is still open.
    async fn steps(
        &mut self,
        stream: &mut TcpStream,
        case: &Case,
        mut values: BTreeMap<String, String>,
    ) -> (Verdict, bool) {
        let mut trid = 0u32;
        for (number, step) in case.steps.iter().enumerate().map(|(i, s)| (i + 1, s)) {
            if !step.conditions.iter().all(|c| c.holds(&values)) {
                continue;
            }
            trid += 1;
            values.insert("trid".to_string(), trid.to_string());
            let expanded = step.send.expand(&values).and_then(|line| {
                let body = step.body.as_ref().map(|b| b.expand(&values)).transpose()?;
                Ok((line, body))
            });
            let (line, body) = match expanded {
                Ok(parts) => parts,
                Err(name) => {
                    let reason = format!(
                        "variable `{name}` has no value: the pattern meant to capture it did not match"
                    );
                    return (self.pending_or_error(reason), true);
                }
            };
            let bytes = match self.conversation.send(&line, body.as_deref()) {
                Ok(bytes) => bytes,
                Err(e) => {
                    return (
                        Verdict::error(
                            self.conversation.stage(),
                            format!("cannot send `{line}`: {e}"),
                        ),
                        true,
                    );
                }
            };
            self.record(Direction::Client, &bytes);
            match tokio::time::timeout(self.settings.step_timeout, stream.write_all(&bytes)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return (self.conversation.ended(ending_of(&e)), false),
                Err(_) => {
                    let reason = format!(
                        "server did not take `{line}` within {}",
                        show(self.settings.step_timeout)
                    );
                    return (self.pending_or_error(reason), false);
                }
            }
            let reply = match self
                .await_reply(stream, &line, number, step.recorded_reply.as_deref())
                .await
            {
                Ok(reply) => reply,
                Err(outcome) => return outcome,
            };
            for pattern in step.capture.iter().chain(&step.expect) {
                if let Some(found) = pattern.captures(&reply.text) {
                    for name in pattern.capture_names().flatten() {
                        if let Some(m) = found.name(name) {
                            values.insert(name.to_string(), m.as_str().to_string());
                        }
                    }
                }
            }
            if let Some(expect) = &step.expect
                && !expect.is_match(&reply.text)
            {
                let reason = format!(
                    "reply `{}` does not match expect /{}/",
                    reply.text.trim_end(),
                    expect.as_str()
                );
                return (self.pending_or_error(reason), true);
            }
        }
        (self.conversation.ended(Ending::ScriptEnded), true)
    }

    /// Reads until the reply to the request just sent. `Err` carries the verdict when the
    /// conversation ended first, with whether the connection is still open.
    async fn await_reply(
        &mut self,
        stream: &mut TcpStream,
        line: &str,
        step: usize,
        recorded: Option<&str>,
    ) -> Result<Received, (Verdict, bool)> {
        let deadline = tokio::time::Instant::now() + self.settings.step_timeout;
        loop {
            match self.conversation.receive(&mut self.buf) {
                Ok(Some(received)) => {
                    self.record(Direction::Server, &received.raw.clone());
                    if received.answers_request
                        && let Some(recorded) = recorded
                    {
                        self.compare(step, recorded, &received.text);
                    }
                    if let Some(verdict) = received.verdict {
                        return Err((verdict, true));
                    }
                    if received.answers_request {
                        return Ok(received);
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    self.record_unframed();
                    let stage = self.conversation.stage();
                    // A peer that does not speak the protocol gets no protocol farewell.
                    return Err((
                        Verdict::error(stage, format!("unparseable reply: {e}")),
                        false,
                    ));
                }
            }
            match tokio::time::timeout_at(deadline, stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) => {
                    self.record_unframed();
                    return Err((self.conversation.ended(Ending::Closed), false));
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    self.record_unframed();
                    return Err((self.conversation.ended(ending_of(&e)), false));
                }
                Err(_) => {
                    self.record_unframed();
                    let reason = format!(
                        "no reply to `{line}` within {}",
                        show(self.settings.step_timeout)
                    );
                    return Err((self.pending_or_error(reason), true));
                }
            }
        }
    }

    fn compare(&mut self, step: usize, recorded: &str, live: &str) {
        if self.dialect.normalize(recorded) != self.dialect.normalize(live) {
            self.divergences.push(Divergence {
                step,
                recorded: recorded.trim_end().to_string(),
                live: live.trim_end().to_string(),
            });
        }
    }

    /// A verdict the dialect already holds outranks a harness failure that came after it.
    fn pending_or_error(&mut self, reason: String) -> Verdict {
        self.conversation
            .pending()
            .unwrap_or_else(|| Verdict::error(self.conversation.stage(), reason))
    }

    async fn say_goodbye(&mut self, stream: &mut TcpStream) {
        if let Some(bytes) = self.conversation.farewell() {
            let polite = Duration::from_millis(200).min(self.settings.step_timeout);
            if let Ok(Ok(())) = tokio::time::timeout(polite, stream.write_all(&bytes)).await {
                self.record(Direction::Client, &bytes);
            }
        }
        let _ = stream.shutdown().await;
    }

    fn record(&mut self, direction: Direction, bytes: &[u8]) {
        self.transcript
            .push(direction, self.started.elapsed(), bytes);
    }

    /// Bytes the server sent that never made a whole message still belong in the transcript.
    fn record_unframed(&mut self) {
        if !self.buf.is_empty() {
            let rest = self.buf.split();
            self.record(Direction::Server, &rest);
        }
    }
}

fn ending_of(error: &io::Error) -> Ending {
    match error.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => Ending::Reset,
        _ => Ending::Closed,
    }
}

/// `5s`, `250ms`.
pub fn show(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
