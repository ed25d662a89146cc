//! One TLS connection as a client sees it up to the server's answer to its hello: records are
//! read until one decides. Warning alerts and HelloRequests are passed over as a real client
//! passes over them, a ServerHello is reassembled from as many records as carry it, and a
//! server that never gets to the point ends as an error within bounded memory.

use super::classify::{self, Deprecations};
use super::describe::{describe, describe_server_hello};
use super::handshake::Reassembly;
use super::hello::{self, Offer};
use super::record;
use super::request::TlsRequest;
use super::server_hello::{SERVER_HELLO, server_answer};
use crate::dialect::{Conversation, Ending, Received, Request, SendError, downcast};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::{Bytes, BytesMut};
use std::collections::BTreeMap;

const HELLO_REQUEST: u8 = 0;
const WARNING: u8 = 1;
const CLOSE_NOTIFY: u8 = 0;
/// Records that bring no ServerHello closer (warning alerts, HelloRequests, empty fragments)
/// a server may send before it is judged to be stalling.
pub const MAX_IDLE_RECORDS: usize = 32;

pub struct TlsConversation {
    deprecations: Deprecations,
    offer: Option<Offer>,
    sent: bool,
    /// Records received so far.
    records: usize,
    /// Of those, records that brought the answer no closer.
    idle: usize,
    handshake: Reassembly,
}

impl TlsConversation {
    pub fn new(deprecations: Deprecations) -> TlsConversation {
        TlsConversation {
            deprecations,
            offer: None,
            sent: false,
            records: 0,
            idle: 0,
            handshake: Reassembly::default(),
        }
    }

    /// The verdict `raw` (one framed record) brings, if it decides.
    fn read(&mut self, raw: &[u8], text: &str) -> Option<Verdict> {
        let Ok(Some(r)) = record::decode(&mut BytesMut::from(raw), false) else {
            return Some(Verdict::error(
                "ClientHello",
                format!("not a TLS record: {text}"),
            ));
        };
        let verdict = match r.content_type {
            record::ALERT => self.alerts(&r.fragment, text),
            record::HANDSHAKE => self.handshake(&r.fragment),
            _ => Some(Verdict::error(
                "ClientHello",
                format!("unexpected record from the server before its ServerHello: {text}"),
            )),
        };
        if verdict.is_none() && self.idle > MAX_IDLE_RECORDS {
            return Some(Verdict::error(
                "ClientHello",
                format!(
                    "the server sent {} records without a ServerHello, {} of them bringing none closer",
                    self.records, self.idle
                ),
            ));
        }
        verdict
    }

    /// Warning alerts are passed over (RFC 5246 7.2: not fatal); a fatal one, or the server
    /// closing its side, locks out.
    fn alerts(&mut self, fragment: &[u8], text: &str) -> Option<Verdict> {
        if fragment.is_empty() || !fragment.len().is_multiple_of(2) {
            return Some(Verdict::error(
                "ClientHello",
                format!("malformed alert record from the server: {text}"),
            ));
        }
        for alert in fragment.chunks_exact(2) {
            let (level, description) = (alert[0], alert[1]);
            if description == CLOSE_NOTIFY {
                return Some(Verdict::new(
                    VerdictKind::LockedOut,
                    "ClientHello",
                    "the server closed the session (close_notify) before the ServerHello",
                    Some(text.to_string()),
                ));
            }
            if level != WARNING {
                return Some(classify::alert(level, description, text));
            }
        }
        self.idle += 1;
        None
    }

    /// Handshake bytes, gathered until the first message that is not a HelloRequest is whole.
    fn handshake(&mut self, fragment: &[u8]) -> Option<Verdict> {
        if fragment.is_empty() {
            self.idle += 1;
            return None;
        }
        self.handshake.push(fragment);
        loop {
            if let Some(kind) = self
                .handshake
                .next_kind()
                .filter(|k| ![HELLO_REQUEST, SERVER_HELLO].contains(k))
            {
                return Some(Verdict::error(
                    "ServerHello",
                    format!(
                        "the server's first handshake message is not a ServerHello: handshake message {kind}"
                    ),
                ));
            }
            let message = match self.handshake.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => return None,
                Err(e) => return Some(Verdict::error("ServerHello", e.to_string())),
            };
            if message[0] == HELLO_REQUEST {
                // RFC 5246 7.4.1.1: ignored while a handshake is under way.
                self.idle += 1;
                continue;
            }
            let text = describe_server_hello(&message);
            return Some(match server_answer(&message) {
                Some(answer) => {
                    classify::answer(&answer, self.offer.as_ref(), &self.deprecations, &text)
                }
                None => Verdict::error(
                    "ServerHello",
                    format!(
                        "the server's ServerHello is malformed: {} bytes",
                        message.len()
                    ),
                ),
            });
        }
    }
}

impl Conversation for TlsConversation {
    fn send(
        &mut self,
        request: &dyn Request,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        let request: &TlsRequest = downcast(request).map_err(SendError::Invalid)?;
        let bytes = request.encode(values)?;
        self.observe_sent(&bytes);
        Ok(Bytes::from(bytes))
    }

    fn receive(&mut self, raw: Bytes) -> Received {
        self.records += 1;
        let text = describe(Direction::Server, &raw);
        match self.read(&raw, &text) {
            Some(verdict) => {
                self.handshake.clear();
                Received {
                    text: verdict.decided_by.clone().unwrap_or(text),
                    // Compared with a recording's reply only when one record said it all.
                    answers_request: self.records == 1,
                    verdict: Some(verdict),
                    upgrade_to_tls: false,
                }
            }
            None => Received::aside(text),
        }
    }

    fn stage(&self) -> String {
        "ClientHello".to_string()
    }

    fn pending(&self) -> Option<Verdict> {
        None
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        let ended = if how == Ending::Reset {
            "reset"
        } else {
            "closed"
        };
        match how {
            Ending::ScriptEnded => {
                Verdict::error("ClientHello", "the case sent nothing the server answered")
            }
            Ending::Closed | Ending::Reset if self.sent && self.handshake.is_partial() => {
                Verdict::new(
                    VerdictKind::LockedOut,
                    "ClientHello",
                    format!(
                        "the server {ended} the connection partway through a handshake message"
                    ),
                    None,
                )
            }
            Ending::Closed | Ending::Reset if self.sent => Verdict::new(
                VerdictKind::LockedOut,
                "ClientHello",
                format!("the server {ended} the connection without a ServerHello"),
                None,
            ),
            Ending::Closed | Ending::Reset => Verdict::error(
                "ClientHello",
                "the connection ended before anything was sent",
            ),
        }
    }

    fn observe_sent(&mut self, message: &[u8]) {
        self.offer = hello::offer(message).or(self.offer.take());
        self.sent = true;
    }

    fn farewell(&self) -> Option<Bytes> {
        None
    }
}
