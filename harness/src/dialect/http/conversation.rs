//! One HTTP connection as a client sees it. Each request waits for its final response; an
//! admission is held (a later response on the same connection may still warn or lock out)
//! and given when the case ends; a lockout or a server fault decides at once. Informational
//! responses are passed over, as a client passes over them, up to a bound.

use super::describe::describe;
use super::head::{self, Head};
use super::policy::Policy;
use super::request::HttpRequest;
use crate::dialect::{Conversation, Ending, Received, Request, SendError, downcast};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};

/// Informational (1xx) responses a server may send before it is judged to be stalling.
pub const MAX_INFORMATIONAL: usize = 16;

pub struct HttpConversation {
    policy: Policy,
    /// Requests sent and not yet finally answered, oldest first.
    outstanding: VecDeque<Sent>,
    sent: usize,
    informational: usize,
    /// The admission (or warning) so far; given when the conversation ends.
    held: Option<Verdict>,
}

struct Sent {
    /// `GET /api/v2/status`: the stage a verdict names.
    line: String,
    /// The request asked `Expect: 100-continue` and no 100 has answered it yet.
    awaits_continue: bool,
}

impl HttpConversation {
    pub fn new(policy: Policy) -> HttpConversation {
        HttpConversation {
            policy,
            outstanding: VecDeque::new(),
            sent: 0,
            informational: 0,
            held: None,
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
        // A 100 lets a client that asked for it send its body: that is the step's reply.
        let continues = head.status() == Some(100)
            && self
                .outstanding
                .front_mut()
                .is_some_and(|r| std::mem::take(&mut r.awaits_continue));
        Received {
            answers_request: continues,
            compared: continues,
            ..Received::reply(text)
        }
    }

    fn final_response(&mut self, head: &Head, raw: &[u8], text: String) -> Received {
        let stage = self
            .outstanding
            .pop_front()
            .map_or_else(|| "response".to_string(), |r| r.line);
        let status = head.status().unwrap_or_default();
        let status_line = head.start_line();
        let body = &raw[head.len..];
        if self.policy.is_busy(status) {
            let verdict = Verdict::busy(
                &stage,
                format!(
                    "the server answered {status_line}{}: busy, not refusing the client (busy_statuses)",
                    said(body, head)
                ),
                Some(status_line),
                super::retry_after::seconds(head),
            );
            return Received::decided(text, verdict);
        }
        let kind = self.policy.status(status);
        let verdict = match kind {
            Some(VerdictKind::Admitted) => {
                let verdict = match self.warning(head, body) {
                    Some((why, evidence)) => Verdict::new(
                        VerdictKind::Warned,
                        &stage,
                        format!("the server answered {status_line}, with a warning: {why}"),
                        Some(format!("{status_line} ({evidence})")),
                    ),
                    None => Verdict::new(
                        VerdictKind::Admitted,
                        &stage,
                        format!("the server answered {status_line}"),
                        Some(status_line.clone()),
                    ),
                };
                // A warning stays a warning whatever later responses say.
                if self
                    .held
                    .as_ref()
                    .is_none_or(|h| h.kind != VerdictKind::Warned)
                {
                    self.held = Some(verdict);
                }
                if status != 101 {
                    return Received::reply(text);
                }
                // The connection is no longer HTTP: nothing more will be said in it.
                return Received::decided(text, self.held.clone().expect("held above"));
            }
            Some(VerdictKind::LockedOut) => Verdict::new(
                VerdictKind::LockedOut,
                &stage,
                format!("the server answered {status_line}{}", said(body, head)),
                Some(status_line),
            ),
            Some(VerdictKind::Error) => Verdict::new(
                VerdictKind::Error,
                &stage,
                format!(
                    "the server answered {status_line}{}: a server fault, not a policy (error_statuses)",
                    said(body, head)
                ),
                Some(status_line),
            ),
            _ => Verdict::error(
                &stage,
                format!("the server answered {status_line}, a status no setting classifies"),
            ),
        };
        Received::decided(text, verdict)
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

impl Conversation for HttpConversation {
    fn send(
        &mut self,
        request: &dyn Request,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        let request: &HttpRequest = downcast(request).map_err(SendError::Invalid)?;
        let bytes = request.encode(values)?;
        self.observe_sent(&bytes);
        Ok(Bytes::from(bytes))
    }

    fn observe_sent(&mut self, message: &[u8]) {
        self.sent += 1;
        // A body sent after a 100 Continue is the rest of a request already noted.
        if let Ok(Some(head)) = head::parse(message, true) {
            self.outstanding.push_back(Sent {
                line: head
                    .start_line()
                    .rsplit_once(' ')
                    .map_or_else(|| head.start_line(), |(l, _)| l.to_string()),
                awaits_continue: head
                    .header("expect")
                    .is_some_and(|e| e.eq_ignore_ascii_case("100-continue")),
            });
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
        self.held.clone()
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        if let Some(held) = &self.held {
            return held.clone();
        }
        let stage = self.stage();
        let ended = if how == Ending::Reset {
            "reset"
        } else {
            "closed"
        };
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
