//! One connection of a file dialect: notes each line sent (its verb is the stage, its
//! deprecated items are warnings), reads each reply by the rules as the answer to the oldest
//! request not yet answered (a client that pipelines, as SMTP's PIPELINING allows, has its
//! MAIL answered before its DATA), and turns what they say into a verdict naming the stage
//! and the deciding reply.

use super::framer;
use super::rules::{self, Reading};
use super::spec::{Action, Spec, first_stage};
use super::steps::{self, FileStep};
use crate::dialect::{Conversation, Ending, Received, SendError};
use crate::verdict::{Verdict, VerdictKind};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};

/// The most warnings kept: a client repeating a deprecated request is warned once per item.
const MAX_WARNINGS: usize = 16;
/// The most requests awaiting an answer that are remembered; older ones are forgotten.
const MAX_OUTSTANDING: usize = 64;

/// A request sent: the stage it opens and its line, without its terminator.
#[derive(Clone)]
struct Sent {
    stage: String,
    line: String,
}

pub struct FileConversation {
    spec: &'static Spec,
    /// The request answered last (before any: the greeting, or the connection).
    answered: Sent,
    /// Requests not yet answered, oldest first.
    outstanding: VecDeque<Sent>,
    /// The stage of the last verb sent: a free line goes on with it.
    verb_stage: String,
    warnings: Vec<String>,
    /// The client sent the file's farewell verb (SMTP's QUIT): a close after it is its doing.
    left: bool,
}

impl FileConversation {
    pub fn new(spec: &'static Spec) -> FileConversation {
        let first = first_stage(spec.server_first).to_string();
        FileConversation {
            spec,
            answered: Sent {
                stage: first.clone(),
                line: String::new(),
            },
            outstanding: VecDeque::new(),
            verb_stage: first,
            warnings: Vec::new(),
            left: false,
        }
    }

    fn note_sent(&mut self, message: &[u8]) {
        let line = framer::text(message);
        // A free line (a base64 answer) goes on with the stage of the verb it answers.
        if let Some(verb) = steps::verb_of(self.spec, &line) {
            self.verb_stage.clone_from(&verb.name);
            let farewell = self.spec.farewell.as_deref();
            self.left |= farewell
                .and_then(|f| steps::verb_of(self.spec, f))
                .is_some_and(|f| f.name == verb.name);
        }
        let warnings = rules::request_warnings(self.spec, &line);
        self.warn(warnings);
        if self.outstanding.len() == MAX_OUTSTANDING {
            self.outstanding.pop_front();
        }
        self.outstanding.push_back(Sent {
            stage: self.verb_stage.clone(),
            line,
        });
    }

    /// The request the next reply answers: the oldest not yet answered, else the last one.
    fn current(&self) -> &Sent {
        self.outstanding.front().unwrap_or(&self.answered)
    }

    fn warn(&mut self, warnings: Vec<String>) {
        for w in warnings {
            if !self.warnings.contains(&w) && self.warnings.len() < MAX_WARNINGS {
                self.warnings.push(w);
            }
        }
    }

    /// The verdict `reading` gives at `stage`, `message` having decided it.
    fn verdict(
        &self,
        stage: &str,
        reading: &Reading<'_>,
        message: Option<&str>,
    ) -> Option<Verdict> {
        let first = message.map(|m| m.lines().next().unwrap_or_default());
        let reason = || match (reading.reason, first) {
            (Some(reason), _) => reason.to_string(),
            (None, Some(first)) => format!("the server answered `{first}`"),
            (None, None) => "the connection ended".to_string(),
        };
        let decided_by = message.map(str::to_string);
        let stage = stage.to_string();
        let kind = match reading.action {
            Action::Admitted | Action::Warned => {
                let verdict = Verdict::admitted_or_warned(
                    stage,
                    reason(),
                    &self.warnings,
                    ("; warned: ", "; "),
                    decided_by,
                );
                // A rule that warns warns even when the session earned no warning of its own.
                return Some(match reading.action {
                    Action::Warned => Verdict {
                        kind: VerdictKind::Warned,
                        ..verdict
                    },
                    _ => verdict,
                });
            }
            Action::LockedOut => VerdictKind::LockedOut,
            Action::Error => VerdictKind::Error,
            Action::Busy => return Some(Verdict::busy(stage, reason(), decided_by, None)),
            Action::Aside | Action::UpgradeTls | Action::Continue => return None,
        };
        Some(Verdict::new(kind, stage, reason(), decided_by))
    }
}

impl Conversation<FileStep> for FileConversation {
    fn send(
        &mut self,
        step: &FileStep,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        Ok(Bytes::from(steps::expand(self.spec, step, values)?))
    }

    fn observe_sent(&mut self, message: &[u8]) {
        self.note_sent(message);
    }

    fn receive(&mut self, message: Bytes) -> Received {
        let text = framer::text(&message);
        let request = self.current().clone();
        let reading = rules::read(self.spec, &request.stage, &request.line, &text);
        let warnings = rules::reply_warnings(self.spec, &text);
        self.warn(warnings);
        let verdict = self.verdict(&request.stage, &reading, Some(&text));
        if reading.action != Action::Aside {
            self.outstanding.pop_front();
            self.answered = request;
        }
        let mut received = match reading.action {
            Action::Aside => Received::aside(text),
            _ => Received::reply(text),
        };
        received.upgrade_to_tls = reading.action == Action::UpgradeTls;
        received.verdict = verdict;
        received
    }

    fn tls_negotiated(&mut self, version: u16) -> Vec<String> {
        let warnings = rules::tls_warnings(self.spec, version);
        self.warn(warnings.clone());
        warnings
    }

    fn stage(&self) -> String {
        self.current().stage.clone()
    }

    fn pending(&self) -> Option<Verdict> {
        None
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        let stage = self.stage();
        if how == Ending::ScriptEnded {
            let reason = format!("the case ended at {stage} before any verdict");
            return Verdict::error(stage, reason);
        }
        if self.left {
            let reason = format!(
                "the client signed off ({stage}) before any verdict, and the server {} the connection as asked: no decision of the server's",
                how.verb()
            );
            return Verdict::error(stage, reason);
        }
        let reset = how == Ending::Reset;
        let reading = rules::ending(self.spec, &stage, reset);
        let what = if reset {
            "the server reset the connection"
        } else {
            "the server closed the connection"
        };
        let reading = Reading {
            reason: Some(reading.reason.unwrap_or(what)),
            ..reading
        };
        self.verdict(&stage, &reading, None)
            .unwrap_or_else(|| Verdict::error(stage.clone(), what))
    }

    fn client_left(&self) -> bool {
        self.left
    }

    fn farewell(&self) -> Option<Bytes> {
        self.spec
            .farewell
            .as_ref()
            .map(|line| Bytes::from(format!("{line}{}", self.spec.framing.terminator)))
    }
}
