//! One HTTP connection as a client sees it. Each request waits for its final response; an
//! admission is held (a later response on the same connection may still warn or lock out)
//! and given when the case ends; a lockout or a server fault decides at once. Informational
//! responses (100, 103 Early Hints) never decide: they are passed over, as a client passes
//! over them, up to a bound. A request with `Expect: 100-continue` and its body goes as curl
//! sends it: the head, then the body on the server's 100 or after [`CONTINUE_WAIT`]. A final
//! response whose body is still coming is judged by its head where the policy needs no body.

use super::describe::describe;
use super::framing::KEPT_BODY;
use super::head::{self, Head};
use super::policy::Policy;
use super::request::HttpRequest;
use crate::dialect::{Conversation, Ending, HeldBack, Received, SendError};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};

/// Informational (1xx) responses a server may send before it is judged to be stalling.
pub const MAX_INFORMATIONAL: usize = 16;
/// How long a request with `Expect: 100-continue` waits for the server's 100 before sending
/// its body anyway: curl's default (its `--expect100-timeout`, 1 second), as RFC 9110 section
/// 10.1.1 lets a client do.
pub const CONTINUE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

pub struct HttpConversation {
    policy: Policy,
    /// Requests sent and not yet finally answered, oldest first.
    outstanding: VecDeque<Sent>,
    sent: usize,
    informational: usize,
    /// The admission (or warning) so far; given when the conversation ends.
    held: Option<Verdict>,
    /// What the head of a response whose body is still coming says, while the policy waits
    /// for its body: the verdict if the body never comes.
    early: Option<Verdict>,
}

struct Sent {
    /// `GET /api/v2/status`: the stage a verdict names.
    line: String,
    /// What a 100 Continue means to this request, until one has come.
    on_continue: OnContinue,
}

/// What a 100 Continue means to the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnContinue {
    /// Nothing: the request did not ask for one, or one came already.
    Nothing,
    /// The request asked `Expect: 100-continue` and its body is a later step: the 100 is the
    /// step's reply.
    Reply,
    /// The request asked for it with its body behind its head: the 100 is the go-ahead for
    /// the body, held back until then.
    GoAhead,
}

impl HttpConversation {
    pub fn new(policy: Policy) -> HttpConversation {
        HttpConversation {
            policy,
            outstanding: VecDeque::new(),
            sent: 0,
            informational: 0,
            held: None,
            early: None,
        }
    }

    fn informational(&mut self, head: &Head, text: String) -> Received {
        self.informational += 1;
        if self.informational > MAX_INFORMATIONAL {
            let verdict = Verdict::error(
                self.stage(),
                format!(
                    "the server sent {} informational responses and no final one",
                    self.informational
                ),
            );
            return Received::decided(text, verdict);
        }
        // A 100 lets a client that asked for it send its body.
        let on_continue = match (head.status(), self.outstanding.front_mut()) {
            (Some(100), Some(request)) => {
                std::mem::replace(&mut request.on_continue, OnContinue::Nothing)
            }
            _ => OnContinue::Nothing,
        };
        let answers = on_continue == OnContinue::Reply;
        Received {
            answers_request: answers,
            compared: answers,
            go_ahead: on_continue == OnContinue::GoAhead,
            ..Received::reply(text)
        }
    }

    /// The verdict a final response gives; `whole` says whether its body came to its end
    /// (a head judged without it says so, and quotes none of it).
    fn judge(&self, head: &Head, body: &[u8], stage: &str, whole: bool) -> Verdict {
        let status = head.status().unwrap_or_default();
        let status_line = head.start_line();
        let unfinished = if whole {
            ""
        } else {
            "; judged by its head, its body still coming"
        };
        let said = if whole {
            said(body, head)
        } else {
            String::new()
        };
        if self.policy.is_busy(status) {
            return Verdict::busy(
                stage,
                format!(
                    "the server answered {status_line}{said}: busy, not refusing the client (busy_statuses){unfinished}"
                ),
                Some(status_line),
                super::retry_after::seconds(head),
            );
        }
        match self.policy.status(status) {
            Some(VerdictKind::Admitted) => match self.warning(head, body) {
                Some((why, evidence)) => Verdict::new(
                    VerdictKind::Warned,
                    stage,
                    format!("the server answered {status_line}, with a warning: {why}{unfinished}"),
                    Some(format!("{status_line} ({evidence})")),
                ),
                None => Verdict::new(
                    VerdictKind::Admitted,
                    stage,
                    format!("the server answered {status_line}{unfinished}"),
                    Some(status_line.clone()),
                ),
            },
            Some(VerdictKind::LockedOut) => Verdict::new(
                VerdictKind::LockedOut,
                stage,
                format!("the server answered {status_line}{said}{unfinished}"),
                Some(status_line),
            ),
            Some(VerdictKind::Error) => Verdict::new(
                VerdictKind::Error,
                stage,
                format!(
                    "the server answered {status_line}{said}: a server fault, not a policy (error_statuses){unfinished}"
                ),
                Some(status_line),
            ),
            _ => Verdict::error(
                stage,
                format!(
                    "the server answered {status_line}, a status no setting classifies{unfinished}"
                ),
            ),
        }
    }

    /// An admission joins what is held: a warning stays a warning whatever later responses say.
    fn hold(&mut self, verdict: Verdict) {
        if self
            .held
            .as_ref()
            .is_none_or(|h| h.kind != VerdictKind::Warned)
        {
            self.held = Some(verdict);
        }
    }

    fn final_response(&mut self, head: &Head, raw: &[u8], text: String) -> Received {
        self.early = None;
        let stage = self
            .outstanding
            .pop_front()
            .map_or_else(|| "response".to_string(), |r| r.line);
        let verdict = self.judge(head, &raw[head.len..], &stage, true);
        if !matches!(verdict.kind, VerdictKind::Admitted | VerdictKind::Warned) {
            return Received::decided(text, verdict);
        }
        self.hold(verdict);
        if head.status() != Some(101) {
            return Received::reply(text);
        }
        // The connection is no longer HTTP: nothing more will be said in it.
        Received::decided(text, self.held.clone().expect("held above"))
    }

    /// The first warning the response carries: why, and the header (or body line) that says it.
    fn warning(&self, head: &Head, body: &[u8]) -> Option<(String, String)> {
        for rule in &self.policy.warning_headers {
            for value in head.headers_named(&rule.name) {
                if rule.value.as_ref().is_none_or(|p| p.is_match(value)) {
                    let field = format!("{}: {value}", rule.name);
                    let why = match super::dates::date_in(&rule.name, value) {
                        Some(date) => format!("{field} ({date})"),
                        None => field.clone(),
                    };
                    return Some((why, field));
                }
            }
        }
        let text = String::from_utf8_lossy(body);
        self.policy.warning_body.iter().find_map(|pattern| {
            let found = pattern.find(&text)?;
            let line = text[..found.start()].rfind('\n').map_or(0, |i| i + 1);
            let end = text[found.end()..]
                .find('\n')
                .map_or(text.len(), |i| found.end() + i);
            let line = text[line..end].trim().to_string();
            Some((
                format!("the body says `{line}` (/{}/)", pattern.as_str()),
                line,
            ))
        })
    }
}

/// Whether a request asks `Expect: 100-continue` in a version that has it (HTTP/1.1).
fn asks_continue(head: &Head) -> bool {
    matches!(head.start, head::Start::Request { minor: 1.., .. })
        && head
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
}

/// ` ("first line of the body")`, when the body is short text.
fn said(body: &[u8], head: &Head) -> String {
    let chunked = head.body_length(None) == Ok(head::BodyLength::Chunked);
    if chunked || body.is_empty() || body.len() > 4096 {
        return String::new();
    }
    match std::str::from_utf8(body)
        .ok()
        .and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
    {
        Some(line) if line.len() <= 200 && !line.trim_start().starts_with('<') => {
            format!(" (\"{}\")", line.trim())
        }
        _ => String::new(),
    }
}

impl Conversation<HttpRequest> for HttpConversation {
    fn send(
        &mut self,
        request: &HttpRequest,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        Ok(Bytes::from(request.encode(values)?))
    }

    fn observe_sent(&mut self, message: &[u8]) {
        self.sent += 1;
        // A body sent after a 100 Continue is the rest of a request already noted.
        if let Ok(Some(head)) = head::parse(message, true) {
            let on_continue = match (asks_continue(&head), message.len() > head.len) {
                (false, _) => OnContinue::Nothing,
                (true, false) => OnContinue::Reply,
                (true, true) => OnContinue::GoAhead,
            };
            self.outstanding.push_back(Sent {
                line: head
                    .start_line()
                    .rsplit_once(' ')
                    .map_or_else(|| head.start_line(), |(l, _)| l.to_string()),
                on_continue,
            });
        }
    }

    /// A request with `Expect: 100-continue` and its body sends its head first: the body
    /// goes on the server's 100, or after [`CONTINUE_WAIT`], as curl sends it.
    fn held_back(&self, request: &[u8]) -> Option<HeldBack> {
        let head = head::parse(request, true).ok()??;
        (asks_continue(&head) && request.len() > head.len).then_some(HeldBack {
            first: head.len,
            wait: CONTINUE_WAIT,
        })
    }

    /// A final response whose body is still coming decides by its head, unless the policy
    /// reads bodies (`warning_body`) and what came of the body may yet warn: then the policy
    /// reads on, to the [`KEPT_BODY`] bytes it ever reads, and the head's verdict stands if
    /// the rest never comes.
    fn unfinished(&mut self, raw: &[u8]) -> Option<Verdict> {
        let head = head::parse(raw, false).ok()??;
        if head.status().is_none_or(|s| s < 200 || s == 101) {
            return None;
        }
        let body = &raw[head.len..];
        let stage = self.stage();
        let verdict = self.judge(&head, body, &stage, false);
        let body_may_warn = verdict.kind == VerdictKind::Admitted
            && !self.policy.warning_body.is_empty()
            && body.len() < KEPT_BODY;
        if body_may_warn {
            self.early = Some(verdict);
            return None;
        }
        self.outstanding.pop_front();
        match verdict.kind {
            VerdictKind::Admitted | VerdictKind::Warned => {
                self.hold(verdict);
                self.held.clone()
            }
            _ => Some(verdict),
        }
    }

    fn receive(&mut self, raw: Bytes) -> Received {
        let text = describe(Direction::Server, &raw);
        match head::parse(&raw, false) {
            Ok(Some(head)) if head.status().is_some_and(|s| s < 200 && s != 101) => {
                self.informational(&head, text)
            }
            Ok(Some(head)) => self.final_response(&head, &raw, text),
            parsed => {
                let what = match parsed {
                    Ok(None) => "a response cut short",
                    _ => "not an HTTP response",
                };
                let verdict = Verdict::error(
                    self.stage(),
                    format!("{what}: {}", text.lines().next().unwrap_or_default()),
                );
                Received::decided(text, verdict)
            }
        }
    }

    fn stage(&self) -> String {
        self.outstanding
            .front()
            .map_or_else(|| "request".to_string(), |r| r.line.clone())
    }

    fn pending(&self) -> Option<Verdict> {
        match (&self.held, &self.early) {
            (Some(held), _) if held.kind == VerdictKind::Warned => Some(held.clone()),
            (_, Some(early)) => Some(early.clone()),
            (held, None) => held.clone(),
        }
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        if let Some(held) = self.pending() {
            return held;
        }
        let stage = self.stage();
        let ended = how.verb();
        match how {
            Ending::ScriptEnded => {
                Verdict::error(stage, "the case sent nothing the server answered")
            }
            Ending::Closed | Ending::Reset if self.sent > 0 => Verdict::new(
                VerdictKind::LockedOut,
                &stage,
                format!("the server {ended} the connection before any response to `{stage}`"),
                None,
            ),
            Ending::Closed | Ending::Reset => {
                Verdict::error(stage, "the connection ended before anything was sent")
            }
        }
    }

    fn farewell(&self) -> Option<Bytes> {
        None
    }
}
