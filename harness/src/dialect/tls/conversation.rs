//! One TLS connection as a client sees it, up to the end of the server's first flight:
//! records are read until one decides. Warning alerts and HelloRequests are passed over as a
//! real client passes over them, a ServerHello is reassembled from as many records as carry
//! it, and a server that never gets to the point ends as an error within bounded memory.
//! After a ServerHello that admits, the rest of the flight is read (see [`flight`]): in the
//! clear up to TLS 1.2; in TLS 1.3 only when the harness put its own key share in the hello,
//! else the verdict rests on the ServerHello.
//!
//! [`flight`]: super::flight

use super::classify::{self, Deprecations};
use super::constraints::{self, Constraints};
use super::describe::{describe, describe_server_hello};
use super::flight::{Flight, Judge, Read};
use super::handshake::Reassembly;
use super::hello::{self, Offer};
use super::key_share::OwnShares;
use super::names;
use super::record;
use super::request::TlsRequest;
use super::server_hello::{SERVER_HELLO, ServerAnswer, server_answer};
use super::tls13::ServerHandshakeKey;
use crate::dialect::{Conversation, Ending, Received, Request, SendError, downcast};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::{Bytes, BytesMut};
use std::collections::BTreeMap;

const HELLO_REQUEST: u8 = 0;
const CLIENT_HELLO: u8 = 1;
const WARNING: u8 = 1;
const CLOSE_NOTIFY: u8 = 0;
const TLS13: u16 = 0x0304;
/// Records that bring no verdict closer (warning alerts, HelloRequests, empty fragments,
/// ChangeCipherSpecs, messages a flight may hold but nothing reads) a server may send before
/// it is judged to be stalling.
pub const MAX_IDLE_RECORDS: usize = 32;

/// How far the conversation has got.
enum Phase {
    AwaitingHello,
    /// TLS 1.2 and older: the flight after the ServerHello, in the clear.
    ClearFlight(Flight),
    /// TLS 1.3: the encrypted flight, opened with the key the harness's own share gave.
    EncryptedFlight {
        flight: Flight,
        key: Box<ServerHandshakeKey>,
        inner: Reassembly,
    },
}

pub struct TlsConversation {
    deprecations: Deprecations,
    constraints: Constraints,
    /// Whether the harness puts its own key shares in the hellos it sends.
    own_key_shares: bool,
    declared: bool,
    own: OwnShares,
    offer: Option<Offer>,
    /// The ClientHello handshake message as sent: the start of TLS 1.3's transcript.
    client_hello: Vec<u8>,
    sent: bool,
    /// Records received so far.
    records: usize,
    /// Of those, records that brought the answer no closer.
    idle: usize,
    handshake: Reassembly,
    phase: Phase,
}

impl TlsConversation {
    pub fn new(deprecations: Deprecations) -> TlsConversation {
        TlsConversation {
            deprecations,
            constraints: Constraints::default(),
            own_key_shares: true,
            declared: false,
            own: OwnShares::default(),
            offer: None,
            client_hello: Vec::new(),
            sent: false,
            records: 0,
            idle: 0,
            handshake: Reassembly::default(),
            phase: Phase::AwaitingHello,
        }
    }

    fn judge(&self) -> Judge<'_> {
        Judge {
            constraints: &self.constraints,
            offer: self.offer.as_ref(),
            policy: &self.deprecations,
        }
    }

    /// Reads the client's constraints from the case's variables, once.
    fn declare(&mut self, values: &BTreeMap<String, String>) -> Result<(), SendError> {
        if self.declared {
            return Ok(());
        }
        self.declared = true;
        self.constraints = Constraints::from_variables(values).map_err(SendError::Invalid)?;
        self.own_key_shares = match values.get("key_share").map(|v| v.trim()) {
            None | Some("" | "own") => true,
            Some("recorded") => false,
            Some(other) => {
                return Err(SendError::Invalid(format!(
                    "variable `key_share` is `{other}`: `own` or `recorded`"
                )));
            }
        };
        Ok(())
    }

    /// The verdict `raw` (one framed record) brings, if it decides.
    fn read(&mut self, raw: &[u8], text: &str) -> Option<Verdict> {
        let Ok(Some(r)) = record::decode(&mut BytesMut::from(raw), false) else {
            return Some(Verdict::error(
                self.stage(),
                format!("not a TLS record: {text}"),
            ));
        };
        let verdict = match (r.content_type, &self.phase) {
            (record::ALERT, _) => self.alerts(&r.fragment, text),
            (record::HANDSHAKE, Phase::AwaitingHello | Phase::ClearFlight(_)) => {
                self.handshake(&r.fragment)
            }
            (record::CHANGE_CIPHER_SPEC, Phase::EncryptedFlight { .. }) => {
                // RFC 8446 D.4: middlebox compatibility, nothing to read.
                self.idle += 1;
                None
            }
            (record::CHANGE_CIPHER_SPEC, Phase::ClearFlight(flight)) => {
                // An abbreviated handshake: the server resumed a session, so it shows no
                // certificate or key exchange.
                Some(flight.admission(
                    &self.deprecations,
                    Some("the server resumed a session and showed no certificate"),
                ))
            }
            (record::APPLICATION_DATA, Phase::EncryptedFlight { .. }) => self.encrypted(raw),
            _ => Some(Verdict::error(
                self.stage(),
                format!("unexpected record from the server: {text}"),
            )),
        };
        if verdict.is_none() && self.idle > MAX_IDLE_RECORDS {
            return Some(Verdict::error(
                self.stage(),
                format!(
                    "the server sent {} records without a decision, {} of them bringing none closer",
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
                self.stage(),
                format!("malformed alert record from the server: {text}"),
            ));
        }
        for alert in fragment.chunks_exact(2) {
            let (level, description) = (alert[0], alert[1]);
            if description == CLOSE_NOTIFY {
                return Some(Verdict::new(
                    VerdictKind::LockedOut,
                    self.stage(),
                    format!(
                        "the server closed the session (close_notify) {}",
                        self.before_what()
                    ),
                    Some(text.to_string()),
                ));
            }
            if level != WARNING {
                return Some(classify::alert(
                    level,
                    description,
                    &self.before_what(),
                    text,
                ));
            }
        }
        self.idle += 1;
        None
    }

    /// `before the ServerHello`, or `after the ServerHello, before the flight ended`.
    fn before_what(&self) -> String {
        match self.phase {
            Phase::AwaitingHello => "before the ServerHello".to_string(),
            _ => "after the ServerHello, before its flight ended".to_string(),
        }
    }

    /// Handshake bytes in the clear, gathered into whole messages: the ServerHello, then in
    /// TLS 1.2 and older the rest of the flight.
    fn handshake(&mut self, fragment: &[u8]) -> Option<Verdict> {
        if fragment.is_empty() {
            self.idle += 1;
            return None;
        }
        self.handshake.push(fragment);
        loop {
            if matches!(self.phase, Phase::AwaitingHello)
                && let Some(kind) = self
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
                Err(e) => return Some(Verdict::error(self.stage(), e.to_string())),
            };
            if let Phase::ClearFlight(flight) = &mut self.phase {
                let judge = Judge {
                    constraints: &self.constraints,
                    offer: self.offer.as_ref(),
                    policy: &self.deprecations,
                };
                match flight.message(&message, &judge) {
                    Read::Decided(verdict) => return Some(verdict),
                    Read::More(read) => {
                        self.idle += usize::from(!read);
                        continue;
                    }
                }
            }
            if message[0] == HELLO_REQUEST {
                // RFC 5246 7.4.1.1: ignored while a handshake is under way.
                self.idle += 1;
                continue;
            }
            if let Some(verdict) = self.server_hello(&message) {
                return Some(verdict);
            }
        }
    }

    /// The ServerHello: a verdict when it decides alone, else the flight to read next.
    fn server_hello(&mut self, message: &[u8]) -> Option<Verdict> {
        let text = describe_server_hello(message);
        let Some(answer) = server_answer(message) else {
            return Some(Verdict::error(
                "ServerHello",
                format!(
                    "the server's ServerHello is malformed: {} bytes",
                    message.len()
                ),
            ));
        };
        let ServerAnswer::Hello {
            version,
            cipher,
            share,
        } = &answer
        else {
            return Some(classify::answer(
                &answer,
                self.offer.as_ref(),
                &self.deprecations,
                &text,
            ));
        };
        let decided = classify::answer(&answer, self.offer.as_ref(), &self.deprecations, &text);
        if decided.kind == VerdictKind::LockedOut {
            return Some(decided);
        }
        if let Some(reason) = constraints::version_refusal(&self.constraints, *version) {
            return Some(Verdict::new(
                VerdictKind::LockedOut,
                "ServerHello",
                reason,
                Some(text),
            ));
        }
        let mut flight = Flight::new(*version, *cipher, text);
        if *version != TLS13 {
            self.phase = Phase::ClearFlight(flight);
            return None;
        }
        let Some((group, public)) = share else {
            return Some(flight.admission(
                &self.deprecations,
                Some("no key share: decided at the ServerHello"),
            ));
        };
        if let Some(refused) = flight.key_share(*group, &self.judge()) {
            return Some(refused);
        }
        if !self.own.holds(*group) {
            let note = format!(
                "the certificate is encrypted and the harness holds no {} key: decided at the ServerHello",
                names::group_name(*group)
            );
            return Some(flight.admission(&self.deprecations, Some(&note)));
        }
        let transcript = [self.client_hello.as_slice(), message].concat();
        let key = self
            .own
            .agree(*group, public)
            .and_then(|shared| ServerHandshakeKey::derive(*cipher, &shared, &transcript));
        match key {
            Ok(key) => {
                self.phase = Phase::EncryptedFlight {
                    flight,
                    key: Box::new(key),
                    inner: Reassembly::default(),
                };
                None
            }
            Err(e) => Some(flight.admission(
                &self.deprecations,
                Some(&format!("{e}: decided at the ServerHello")),
            )),
        }
    }

    /// One encrypted record of a TLS 1.3 flight.
    fn encrypted(&mut self, raw: &[u8]) -> Option<Verdict> {
        let Phase::EncryptedFlight { flight, key, inner } = &mut self.phase else {
            return None;
        };
        let (kind, plain) = match key.open(raw) {
            Ok(opened) => opened,
            Err(e) => {
                return Some(flight.admission(
                    &self.deprecations,
                    Some(&format!("{e}: decided at the ServerHello")),
                ));
            }
        };
        match kind {
            record::HANDSHAKE => inner.push(&plain),
            record::ALERT if plain.len() == 2 => {
                let text = format!(
                    "encrypted Alert {} {}",
                    classify::alert_level(plain[0]),
                    names::alert_name(plain[1])
                );
                return Some(classify::alert(
                    plain[0].max(2),
                    plain[1],
                    "after the ServerHello, before its flight ended",
                    &text,
                ));
            }
            other => {
                return Some(Verdict::error(
                    "ServerHello",
                    format!("an encrypted record of type {other} in the server's flight"),
                ));
            }
        }
        let judge = Judge {
            constraints: &self.constraints,
            offer: self.offer.as_ref(),
            policy: &self.deprecations,
        };
        loop {
            match inner.next_message() {
                Ok(Some(message)) => match flight.message(&message, &judge) {
                    Read::Decided(verdict) => return Some(verdict),
                    Read::More(read) => self.idle += usize::from(!read),
                },
                Ok(None) => return None,
                Err(e) => return Some(Verdict::error("ServerHello", e.to_string())),
            }
        }
    }

    /// The admission the ServerHello gave, when the flight after it never ended.
    fn unfinished(&self, how: &str) -> Option<Verdict> {
        let flight = match &self.phase {
            Phase::AwaitingHello => return None,
            Phase::ClearFlight(flight) | Phase::EncryptedFlight { flight, .. } => flight,
        };
        Some(flight.admission(
            &self.deprecations,
            Some(&format!(
                "the server {how} before its flight ended: decided on what it showed"
            )),
        ))
    }
}

impl Conversation for TlsConversation {
    fn send(
        &mut self,
        request: &dyn Request,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        self.declare(values)?;
        let request: &TlsRequest = downcast(request).map_err(SendError::Invalid)?;
        let mut bytes = request.encode(values)?;
        if self.own_key_shares {
            self.own = OwnShares::replace(&mut bytes);
        }
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
        match self.phase {
            Phase::AwaitingHello => "ClientHello",
            _ => "ServerHello",
        }
        .to_string()
    }

    fn pending(&self) -> Option<Verdict> {
        self.unfinished("went quiet")
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        let ended = if how == Ending::Reset {
            "reset"
        } else {
            "closed"
        };
        if let Some(verdict) = self.unfinished(&format!("{ended} the connection")) {
            return verdict;
        }
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
        if let Some(offer) = hello::offer(message) {
            self.offer = Some(offer);
            if message.get(5) == Some(&CLIENT_HELLO) {
                self.client_hello = message[5..].to_vec();
            }
        }
        self.sent = true;
    }

    fn farewell(&self) -> Option<Bytes> {
        None
    }
}
