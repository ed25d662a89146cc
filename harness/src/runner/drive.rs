//! Drives one case against one endpoint: connect, send each step, wait for its reply under the
//! step timeout, let the dialect frame and classify, record the transcript.

use super::connection::{Connection, Target};
use super::transcript::Transcript;
use crate::case::Case;
use crate::dialect::{self, Conversation, Dialect, Ending, Framer, Received, SendError};
use crate::direction::Direction;
use crate::verdict::Verdict;
use bytes::BytesMut;
use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone)]
pub struct Settings {
    /// How long each step waits for its reply (and a connection attempt for the server).
    pub step_timeout: Duration,
    /// The most transcript bytes kept per case.
    pub transcript_limit: usize,
    /// The suite's `[dialect_settings]`, as its dialect typed them.
    pub dialect: dialect::Settings,
    /// How many times a case the server was too busy for is run again (`--retry-busy`).
    pub retry_busy: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            step_timeout: Duration::from_secs(5),
            transcript_limit: 64 * 1024,
            dialect: dialect::Settings::none(),
            retry_busy: 0,
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
    /// Each answered request: the stage it opened and how long its reply took.
    pub exchanges: Vec<Exchange>,
}

/// A live reply that means something other than the recorded one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Divergence {
    /// 1-based number of the step whose reply differs.
    pub step: usize,
    pub recorded: String,
    pub live: String,
}

/// One request and its reply's latency, for load mode's per-stage figures.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub stage: String,
    pub latency: Duration,
}

struct Driver<'a> {
    dialect: &'a dyn Dialect,
    divergences: Vec<Divergence>,
    exchanges: Vec<Exchange>,
    started: Instant,
    settings: &'a Settings,
    transcript: Transcript,
    conversation: Box<dyn Conversation>,
    /// Frames the server's side of the connection.
    framer: Box<dyn Framer + 'a>,
    buf: BytesMut,
}

/// How one step's exchange ended, when it did not end with the reply the step waited for.
type Outcome = (Verdict, bool);

/// A server message whose head came this long ago (or half the step timeout, if that is
/// shorter) and whose end has not yet come (an HTTP body still arriving, or stalled) is shown
/// to the conversation, which may decide from its head as a client acting on the head would.
/// Long enough that a body sent right behind its head is read whole and judged with it; short
/// beside the step timeout.
pub const HEAD_GRACE: Duration = Duration::from_millis(500);

/// The part of a request held back until the server's go-ahead, and when it goes anyway.
struct Rest {
    bytes: bytes::Bytes,
    at: tokio::time::Instant,
}

/// Runs `case` against `target` with the suite's `variables`.
pub async fn drive(
    target: &Target,
    case: &Case,
    variables: &BTreeMap<String, String>,
    settings: &Settings,
) -> CaseRun {
    // Held for the whole case, before its clock starts.
    let connection_slot = match &target.connections {
        Some(limit) => limit.clone().acquire_owned().await.ok(),
        None => None,
    };
    let others_at_start = target.in_flight.fetch_add(1, Ordering::Relaxed);
    let dialect = case.dialect;
    let mut driver = Driver {
        dialect,
        divergences: Vec::new(),
        exchanges: Vec::new(),
        started: Instant::now(),
        settings,
        transcript: Transcript::new(settings.transcript_limit),
        conversation: dialect.conversation(case.identity.as_ref(), &settings.dialect),
        framer: dialect::framer(dialect, Direction::Server),
        buf: BytesMut::with_capacity(4096),
    };
    let addr = &target.addr;
    let mut open_connection = None;
    let verdict = match tokio::time::timeout(settings.step_timeout, target.connect()).await {
        Ok(Ok(mut connection)) => {
            let mut values = variables.clone();
            values.extend(case.variables.clone());
            // `{host}`: the target's host, e.g. for a TLS server name.
            values
                .entry("host".to_string())
                .or_insert_with(|| target.host().to_string());
            let (verdict, open) = driver.steps(&mut connection, target, case, values).await;
            if open {
                driver.say_goodbye(&mut connection).await;
            }
            open_connection = Some(connection);
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
    let others = others_at_start.max(target.in_flight.fetch_sub(1, Ordering::Relaxed) - 1);
    let run = CaseRun {
        verdict: throttling_hint(verdict, others, target.connections.is_some()).bounded(),
        duration: driver.started.elapsed(),
        transcript: driver.transcript,
        divergences: driver.divergences,
        exchanges: driver.exchanges,
    };
    if let (Some(_), Some(connection)) = (&connection_slot, open_connection) {
        await_server_close(connection, settings.step_timeout).await;
    }
    run
}

/// A busy verdict, or a connection refused or reset before the server said anything, while
/// other cases were connected to the same server, says how to stop causing it.
fn throttling_hint(mut verdict: Verdict, others: usize, limited: bool) -> Verdict {
    let dropped = verdict.reason.contains("reset") || verdict.reason.starts_with("cannot connect");
    if verdict.kind != crate::verdict::VerdictKind::Error
        || others == 0
        || !(verdict.is_busy() || dropped)
    {
        return verdict;
    }
    let (plural, were) = if others == 1 {
        ("", "was")
    } else {
        ("s", "were")
    };
    let limit = if limited {
        "lower the target's max_connections"
    } else {
        "set the target's max_connections"
    };
    verdict.reason = format!(
        "{}; {others} other connection{plural} to this server {were} open: it may be throttling the harness (lower --jobs, or {limit})",
        verdict.reason
    );
    verdict
}

/// A server that limits connections counts one until it has closed it, not until the client
/// has: dropbear's main process frees a slot only once the child serving it has exited. The
/// slot is given back once the server has closed its side too (or after a short bound), so a
/// slow machine never has more connections open at the server than the target allows.
async fn await_server_close(mut connection: Connection, step_timeout: Duration) {
    let bound = Duration::from_secs(2).min(step_timeout);
    let _ = tokio::time::timeout(bound, async {
        let _ = connection.shutdown().await;
        let mut sink = [0u8; 4096];
        while let Ok(n) = connection.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

impl Driver<'_> {
    /// Runs the steps; returns the verdict and whether the connection is still open.
    async fn steps(
        &mut self,
        connection: &mut Connection,
        target: &Target,
        case: &Case,
        mut values: BTreeMap<String, String>,
    ) -> Outcome {
        if self.dialect.server_speaks_first()
            && let Err(outcome) = self.greeting(connection).await
        {
            return outcome;
        }
        for (number, step) in case.steps.iter().enumerate().map(|(i, s)| (i + 1, s)) {
            if !step.conditions.iter().all(|c| c.holds(&values)) {
                continue;
            }
            let bytes = match self.conversation.send(step.request.as_ref(), &values) {
                Ok(bytes) => bytes,
                Err(SendError::Unset(name)) => {
                    let reason = format!(
                        "variable `{name}` has no value at {}: the pattern meant to capture it did not match",
                        step.location
                    );
                    return (self.pending_or_error(reason), true);
                }
                Err(e) => {
                    let reason = format!("cannot send the step at {}: {e}", step.location);
                    return (Verdict::error(self.conversation.stage(), reason), true);
                }
            };
            // A request held back in part (HTTP's `Expect: 100-continue`) sends its first
            // part now and the rest once the server says go on, or after the wait.
            let held = self
                .conversation
                .held_back(&bytes)
                .filter(|h| h.first > 0 && h.first < bytes.len());
            let first = held.map_or_else(|| bytes.clone(), |h| bytes.slice(..h.first));
            self.record(Direction::Client, &first);
            self.framer.client_sent(&bytes);
            let sent = (self.conversation.stage(), self.started.elapsed());
            // One deadline for the whole exchange, however the server spends it.
            let deadline = tokio::time::Instant::now() + self.settings.step_timeout;
            if let Err(outcome) = self
                .write_within(connection, &first, &bytes, deadline)
                .await
            {
                return outcome;
            }
            // A request that opens TLS with no answer (MySQL's SSLRequest) is answered by
            // the TLS handshake itself.
            if self.conversation.tls_follows() {
                if let Err(outcome) = self.upgrade(connection, target, &bytes).await {
                    return outcome;
                }
                continue;
            }
            let rest = held.map(|h| Rest {
                bytes: bytes.slice(h.first..),
                at: (tokio::time::Instant::now() + h.wait).min(deadline),
            });
            let reply = match self
                .await_reply(
                    connection,
                    &bytes,
                    number,
                    step.recorded_reply.as_deref(),
                    sent,
                    deadline,
                    rest,
                )
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
                    "reply `{}` does not match expect /{}/ at {}",
                    reply.text.trim_end(),
                    expect.as_str(),
                    step.location
                );
                return (self.pending_or_error(reason), true);
            }
            if reply.upgrade_to_tls && !self.buf.is_empty() {
                // Bytes sent in the clear behind the go-ahead would be read as if TLS had
                // protected them (CVE-2021-23222, CVE-2011-0411): a client must refuse them.
                let reason = format!(
                    "the server sent {} bytes in the clear after agreeing to TLS, before the handshake",
                    self.buf.len()
                );
                let _ = self.record_unframed();
                return (Verdict::error(self.conversation.stage(), reason), false);
            }
            if reply.upgrade_to_tls
                && let Err(outcome) = self.upgrade(connection, target, &bytes).await
            {
                return outcome;
            }
        }
        (self.conversation.ended(Ending::ScriptEnded), true)
    }

    /// Starts TLS on the connection, after `request` (the step that asked for it).
    async fn upgrade(
        &mut self,
        connection: &mut Connection,
        target: &Target,
        request: &[u8],
    ) -> Result<(), Outcome> {
        let upgraded = tokio::time::timeout(
            self.settings.step_timeout,
            connection.upgrade(target.tls_for_upgrade()),
        )
        .await;
        match upgraded {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                let reason = format!(
                    "the TLS handshake after `{}` failed: {e}",
                    self.first_line(Direction::Client, request)
                );
                Err((self.pending_or_error(reason), false))
            }
            Err(_) => {
                let reason = format!(
                    "no TLS handshake after `{}` within {}",
                    self.first_line(Direction::Client, request),
                    show(self.settings.step_timeout)
                );
                Err((self.pending_or_error(reason), false))
            }
        }
    }

    /// Reads the greeting of a server that speaks first, before any step is sent: the
    /// conversation judges it as the answer to the connection (a busy or refusing server
    /// says so here).
    async fn greeting(&mut self, connection: &mut Connection) -> Result<(), Outcome> {
        let sent = (self.conversation.stage(), self.started.elapsed());
        let deadline = tokio::time::Instant::now() + self.settings.step_timeout;
        self.await_reply(connection, &[], 0, None, sent, deadline, None)
            .await
            .map(|_| ())
    }

    /// Reads until the reply to the request just sent (at `sent`: its stage and time), until
    /// `deadline` at the latest, however many other messages arrive meanwhile; sends the
    /// request's `rest` on the server's go-ahead or at its time. `Err` carries the verdict
    /// when the conversation ended first, with whether the connection is still open.
    #[allow(clippy::too_many_arguments)]
    async fn await_reply(
        &mut self,
        connection: &mut Connection,
        request: &[u8],
        number: usize,
        recorded_reply: Option<&str>,
        (stage, sent_at): (String, Duration),
        deadline: tokio::time::Instant,
        mut rest: Option<Rest>,
    ) -> Result<Received, Outcome> {
        let mut unanswered = 0usize;
        // The last message, for a reason that says where the server stopped.
        let mut last: Option<bytes::Bytes> = None;
        // The server closed its side, or reset it (`ending` says which): what the framer still
        // holds is framed, then it ends. A response cut short by a reset is still what the
        // server said, not a close before any response.
        let mut closed = false;
        let mut ending = Ending::Closed;
        // When the framer began holding a message not yet whole, and whether it has been
        // held for [`HEAD_GRACE`].
        let mut partial_since: Option<tokio::time::Instant> = None;
        loop {
            let now = tokio::time::Instant::now();
            if !closed && now >= deadline {
                return Err((self.timed_out(request, unanswered, last.as_deref()), true));
            }
            if rest.as_ref().is_some_and(|r| now >= r.at)
                && let Err(outcome) = self.send_rest(connection, &mut rest, deadline).await
            {
                return Err(outcome);
            }
            let framed = match self.framer.next(&mut self.buf) {
                Ok(None) if closed => Ok(self.framer.finish(&mut self.buf)),
                framed => framed,
            };
            match framed {
                Ok(Some(raw)) => {
                    partial_since = None;
                    unanswered += 1;
                    self.record(Direction::Server, &raw);
                    let received = self.conversation.receive(raw.clone());
                    last = Some(raw.clone());
                    if received.compared
                        && let Some(recorded) = recorded_reply
                    {
                        let live = self.dialect.describe(Direction::Server, &raw);
                        self.compare(number, recorded, &live);
                    }
                    if received.answers_request || received.verdict.is_some() {
                        self.exchanges.push(Exchange {
                            stage: stage.clone(),
                            latency: self.started.elapsed().saturating_sub(sent_at),
                        });
                    }
                    if let Some(verdict) = received.verdict {
                        return Err((verdict, true));
                    }
                    if let Some(answer) = self.conversation.respond() {
                        self.send_answer(connection, &answer, deadline).await?;
                        continue;
                    }
                    if received.answers_request && rest.is_some() {
                        // A final answer before the held-back part went: that part is never
                        // sent, so the connection can carry nothing more.
                        let reason = format!(
                            "the server answered `{}` before its body was sent",
                            self.first_line(Direction::Client, request)
                        );
                        return Err((self.pending_or_error(reason), true));
                    }
                    if received.answers_request {
                        return Ok(received);
                    }
                    if received.go_ahead
                        && let Err(outcome) = self.send_rest(connection, &mut rest, deadline).await
                    {
                        return Err(outcome);
                    }
                    continue;
                }
                Ok(None) if closed => {
                    let _ = self.record_unframed();
                    return Err((self.conversation.ended(ending), false));
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = self.record_unframed();
                    let stage = self.conversation.stage();
                    // A peer that does not speak the protocol gets no protocol farewell.
                    return Err((
                        Verdict::error(stage, format!("unparseable reply: {e}")),
                        false,
                    ));
                }
            }
            // A message begun and not ended: after the grace, its head may decide.
            let grace_at = match self.framer.partial() {
                Some(_) => {
                    let since = *partial_since.get_or_insert(now);
                    Some(since + HEAD_GRACE.min(self.settings.step_timeout / 2))
                }
                None => {
                    partial_since = None;
                    None
                }
            };
            if grace_at.is_some_and(|at| now >= at)
                && let Some(partial) = self.framer.partial()
                && let Some(verdict) = self.conversation.unfinished(partial)
            {
                let _ = self.record_unframed();
                return Err((verdict, true));
            }
            // One timer for the whole wait, not one per read: the deadline, or sooner the
            // time the held-back part goes, or the grace's end.
            let mut wake = deadline;
            if let Some(r) = &rest {
                wake = wake.min(r.at);
            }
            if let Some(at) = grace_at.filter(|&at| at > now) {
                wake = wake.min(at);
            }
            let read = tokio::select! {
                biased;
                read = connection.read_buf(&mut self.buf) => Some(read),
                () = tokio::time::sleep_until(wake) => None,
            };
            match read {
                Some(Ok(0)) => closed = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    closed = true;
                    ending = ending_of(&e);
                }
                // A time passed while reading: handled at the top of the loop.
                None => {}
            }
        }
    }

    /// Sends the held-back part of the request, if any is left.
    async fn send_rest(
        &mut self,
        connection: &mut Connection,
        rest: &mut Option<Rest>,
        deadline: tokio::time::Instant,
    ) -> Result<(), Outcome> {
        let Some(Rest { bytes, .. }) = rest.take() else {
            return Ok(());
        };
        self.record(Direction::Client, &bytes);
        match tokio::time::timeout_at(deadline, connection.write_all(&bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err((self.conversation.ended(ending_of(&e)), false)),
            Err(_) => {
                let reason = format!(
                    "server did not take the rest of the request within {}",
                    show(self.settings.step_timeout)
                );
                Err((self.pending_or_error(reason), false))
            }
        }
    }

    /// Sends what the conversation answers a server message with, within the step's deadline.
    async fn send_answer(
        &mut self,
        connection: &mut Connection,
        answer: &[u8],
        deadline: tokio::time::Instant,
    ) -> Result<(), Outcome> {
        self.record(Direction::Client, answer);
        self.framer.client_sent(answer);
        self.write_within(connection, answer, answer, deadline)
            .await
    }

    /// Writes `bytes` by `deadline`; a failure is the verdict, naming `shown` (the whole
    /// request, of which `bytes` may be the first part).
    async fn write_within(
        &mut self,
        connection: &mut Connection,
        bytes: &[u8],
        shown: &[u8],
        deadline: tokio::time::Instant,
    ) -> Result<(), Outcome> {
        match tokio::time::timeout_at(deadline, connection.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err((self.conversation.ended(ending_of(&e)), false)),
            Err(_) => {
                let reason = format!(
                    "server did not take `{}` within {}",
                    self.first_line(Direction::Client, shown),
                    show(self.settings.step_timeout)
                );
                Err((self.pending_or_error(reason), false))
            }
        }
    }

    /// The verdict when the deadline passed before the reply to `request`.
    fn timed_out(&mut self, request: &[u8], unanswered: usize, last: Option<&[u8]>) -> Verdict {
        let held = self.record_unframed();
        let timeout = show(self.settings.step_timeout);
        if request.is_empty() {
            let reason = match held {
                Some(begun) => format!(
                    "no whole greeting within {timeout}: it began `{begun}` and never ended"
                ),
                None => format!("no greeting from the server within {timeout}"),
            };
            return self.pending_or_error(reason);
        }
        let request = self.first_line(Direction::Client, request);
        let reason = if let Some(begun) = held {
            format!(
                "no whole reply to `{request}` within {timeout}: it began `{begun}` and never ended"
            )
        } else if unanswered == 0 {
            format!("no reply to `{request}` within {timeout}")
        } else {
            let last = last
                .map(|raw| self.first_line(Direction::Server, raw))
                .unwrap_or_default();
            format!(
                "no reply to `{request}` within {timeout}: the server kept sending other messages ({unanswered} of them, the last `{last}`)"
            )
        };
        self.pending_or_error(reason)
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

    /// A message's first line as the dialect describes it, for reasons.
    fn first_line(&self, from: Direction, bytes: &[u8]) -> String {
        let described = self.dialect.describe(from, bytes);
        described.lines().next().unwrap_or_default().to_string()
    }

    /// A verdict the dialect already holds outranks a harness failure that came after it.
    fn pending_or_error(&mut self, reason: String) -> Verdict {
        self.conversation
            .pending()
            .unwrap_or_else(|| Verdict::error(self.conversation.stage(), reason))
    }

    async fn say_goodbye(&mut self, connection: &mut Connection) {
        if let Some(bytes) = self.conversation.farewell() {
            let polite = Duration::from_millis(200).min(self.settings.step_timeout);
            if let Ok(Ok(())) = tokio::time::timeout(polite, connection.write_all(&bytes)).await {
                self.record(Direction::Client, &bytes);
            }
        }
        let _ = connection.shutdown().await;
    }

    fn record(&mut self, direction: Direction, bytes: &[u8]) {
        self.transcript
            .push(direction, self.started.elapsed(), bytes);
    }

    /// Bytes the server sent that never made a whole message still belong in the transcript:
    /// the message the framer holds (a head whose body never ended), then the bytes left
    /// over. Returns the held message's first line, as the dialect describes it.
    fn record_unframed(&mut self) -> Option<String> {
        let held = self.framer.finish(&mut self.buf);
        if let Some(message) = &held {
            self.record(Direction::Server, message);
        }
        if !self.buf.is_empty() {
            let rest = self.buf.split();
            self.record(Direction::Server, &rest);
        }
        held.map(|message| self.first_line(Direction::Server, &message))
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
