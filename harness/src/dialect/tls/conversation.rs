//! One TLS connection as a client sees it, up to the end of the server's first flight:
//! records are read until one decides. Warning alerts and HelloRequests are passed over as a
//! real client passes over them, messages are reassembled from as many records as carry them,
//! and a server that never gets to the point ends as an error within bounded memory.
//! After a ServerHello that admits, the rest of the flight is read (see [`flight`]): in the
//! clear up to TLS 1.2; in TLS 1.3 only when the harness put its own key share in the hello,
//! else the verdict rests on the ServerHello. A server that closes before its flight ends
//! locks the client out, as the client sees it.
//!
//! [`flight`]: super::flight

use super::classify::{self, Deprecations};
use super::constraints::{self, Constraints};
use super::describe::{describe, describe_server_hello};
use super::flight::{Client, Flight, Read};
use super::handshake::{CLIENT_HELLO, HELLO_REQUEST, Reassembly, SERVER_HELLO};
use super::hello;
use super::key_share::OwnShares;
use super::names::{self, TLS13};
use super::record;
use super::request::TlsRequest;
use super::server_hello::{ServerAnswer, server_answer};
use super::tls13::ServerHandshakeKey;
use crate::dialect::{Conversation, Ending, Received, SendError, StepKind};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::{Bytes, BytesMut};
use std::collections::BTreeMap;

const WARNING: u8 = 1;
const FATAL: u8 = 2;
const CLOSE_NOTIFY: u8 = 0;
/// Records (or messages) that bring no verdict closer (warning alerts, HelloRequests, empty
/// fragments, ChangeCipherSpecs, messages nothing reads) a server may send before it is
/// judged to be stalling.
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

/// Why a TLS 1.3 hello went out with no key share of the harness's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shares {
    Own,
    /// `key_share = "recorded"`.
    Recorded,
    /// `send_hex`: bytes sent as they are.
    Raw,
}

pub struct TlsConversation {
    client: Client,
    shares: Shares,
    declared: bool,
    own: OwnShares,
    /// The groups of the key shares the hello sent.
    sent_share_groups: Vec<u16>,
    /// The hello offers a pre-shared key: its binder forbids replacing a key share.
    psk: bool,
    /// The ClientHello handshake message as sent: the start of TLS 1.3's transcript.
    client_hello: Vec<u8>,
    sent: bool,
    /// Records received so far.
    records: usize,
    /// Of those, records (or messages) that brought the answer no closer.
    idle: usize,
    handshake: Reassembly,
    phase: Phase,
}

impl TlsConversation {
    pub fn new(deprecations: Deprecations) -> TlsConversation {
        TlsConversation {
            client: Client {
                deprecations,
                ..Client::default()
            },
            shares: Shares::Own,
            declared: false,
            own: OwnShares::default(),
            sent_share_groups: Vec::new(),
            psk: false,
            client_hello: Vec::new(),
            sent: false,
            records: 0,
            idle: 0,
            handshake: Reassembly::default(),
            phase: Phase::AwaitingHello,
        }
    }

    /// Reads the client's constraints from the case's variables, once.
    fn declare(&mut self, values: &BTreeMap<String, String>) -> Result<(), SendError> {
        if self.declared {
            return Ok(());
        }
        self.declared = true;
        self.client.constraints =
            Constraints::from_variables(values).map_err(SendError::Variable)?;
        if constraints::recorded_key_shares(values).map_err(SendError::Variable)? {
            self.shares = Shares::Recorded;
        }
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
            (record::HANDSHAKE, Phase::EncryptedFlight { .. }) => Some(Verdict::error(
                "ServerHello",
                format!("a handshake record in the clear after a TLS 1.3 ServerHello: {text}"),
            )),
            (record::CHANGE_CIPHER_SPEC, Phase::EncryptedFlight { .. }) => {
                // RFC 8446 D.4: middlebox compatibility, nothing to read.
                self.idle += 1;
                None
            }
            (record::CHANGE_CIPHER_SPEC, Phase::ClearFlight(flight)) => {
                // An abbreviated handshake: the server resumed a session, so it shows no
                // certificate or key exchange; one the client never offered to resume is
                // unexpected_message to it.
                Some(if self.client.offer.as_ref().is_some_and(|o| o.resumes) {
                    flight.admission(
                        &self.client,
                        Some("the server resumed a session and showed no certificate"),
                    )
                } else {
                    Verdict::new(
                        VerdictKind::LockedOut,
                        "ServerHello",
                        "the server went to ChangeCipherSpec as if resuming a session, but the client offered none to resume",
                        Some(text.to_string()),
                    )
                })
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
                    "the server sent {} records without a decision: {} records or messages in them brought none closer",
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
            if description == CLOSE_NOTIFY || level != WARNING {
                return Some(self.alert(level, description, text));
            }
        }
        self.idle += 1;
        None
    }

    /// The lockout an alert (or the server closing its session) brings.
    fn alert(&self, level: u8, description: u8, text: &str) -> Verdict {
        let when = match self.phase {
            Phase::AwaitingHello => "before the ServerHello",
            _ => "after the ServerHello, before its flight ended",
        };
        if description == CLOSE_NOTIFY {
            return Verdict::new(
                VerdictKind::LockedOut,
                self.stage(),
                format!("the server closed the session (close_notify) {when}"),
                Some(text.to_string()),
            );
        }
        super::alerts::classed(
            &self.client.deprecations.alerts,
            description,
            classify::alert(level, description, when, text),
        )
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
            match &mut self.phase {
                Phase::ClearFlight(flight) => match flight.message(&message, &self.client) {
                    Read::Decided(verdict) => return Some(verdict),
                    Read::Progress => {}
                    Read::Nothing => self.idle += 1,
                },
                Phase::EncryptedFlight { .. } => {
                    return Some(Verdict::error(
                        "ServerHello",
                        "a handshake message in the clear after a TLS 1.3 ServerHello",
                    ));
                }
                Phase::AwaitingHello if message[0] == HELLO_REQUEST => {
                    // RFC 5246 7.4.1.1: ignored while a handshake is under way.
                    self.idle += 1;
                }
                Phase::AwaitingHello => {
                    if let Some(verdict) = self.server_hello(&message) {
                        return Some(verdict);
                    }
                }
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
        let decided = classify::answer(
            &answer,
            self.client.offer.as_ref(),
            &self.client.deprecations,
            &text,
        );
        let ServerAnswer::Hello {
            version,
            cipher,
            share,
        } = answer
        else {
            return Some(decided);
        };
        if decided.kind == VerdictKind::LockedOut {
            return Some(decided);
        }
        let locked_out =
            |reason: String| Verdict::new(VerdictKind::LockedOut, "ServerHello", reason, None);
        if let Some(reason) = constraints::version_refusal(&self.client.constraints, version) {
            return Some(Verdict {
                decided_by: Some(text),
                ..locked_out(reason)
            });
        }
        let mut flight = Flight::new(version, cipher, text.clone());
        if version != TLS13 {
            self.phase = Phase::ClearFlight(flight);
            return None;
        }
        let Some((group, public)) = share else {
            return Some(flight.admission(
                &self.client,
                Some("no key share: decided at the ServerHello"),
            ));
        };
        let group_name = names::group_name(group);
        // RFC 8446 4.2.8: a share on a group the client sent none for is illegal_parameter.
        if !self.sent_share_groups.is_empty() && !self.sent_share_groups.contains(&group) {
            return Some(Verdict {
                decided_by: Some(text),
                ..locked_out(format!(
                    "the server's key share is on {group_name}, for which the client sent no share"
                ))
            });
        }
        if let Some(refused) = flight.key_share(group, &self.client) {
            return Some(refused);
        }
        if !self.own.holds(group) {
            let why = match self.shares {
                Shares::Recorded => "the case sends its key shares as recorded".to_string(),
                Shares::Raw => "send_hex sends its key shares as they are".to_string(),
                // Nothing was sent: `judge` reading a recording, whose keys are the client's.
                Shares::Own if !self.declared => {
                    "a recording's keys are its client's, not the harness's".to_string()
                }
                Shares::Own if self.psk => {
                    "the hello offers a pre-shared key, whose binder keeps its key shares as they are".to_string()
                }
                Shares::Own => format!("the harness holds no {group_name} key"),
            };
            let note =
                format!("the certificate is encrypted and {why}: decided at the ServerHello");
            return Some(flight.admission(&self.client, Some(&note)));
        }
        let Ok(shared) = self.own.agree(group, &public) else {
            return Some(Verdict {
                decided_by: Some(text),
                ..locked_out(format!(
                    "the server's {group_name} key share is not a valid public key"
                ))
            });
        };
        let transcript = [self.client_hello.as_slice(), message].concat();
        match ServerHandshakeKey::derive(cipher, &shared, &transcript) {
            Ok(key) => {
                self.phase = Phase::EncryptedFlight {
                    flight,
                    key: Box::new(key),
                    inner: Reassembly::default(),
                };
                None
            }
            Err(e) => Some(flight.admission(
                &self.client,
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
                return Some(Verdict::error(
                    "ServerHello",
                    format!("the server's flight cannot be read: {e}"),
                ));
            }
        };
        match kind {
            record::HANDSHAKE if plain.is_empty() => {
                self.idle += 1;
                return None;
            }
            record::HANDSHAKE => inner.push(&plain),
            record::ALERT if plain.len() == 2 => {
                let text = format!(
                    "encrypted Alert {} {}",
                    classify::alert_level(plain[0]),
                    names::alert_name(plain[1])
                );
                // RFC 8446 6: every alert but close_notify ends the handshake, whatever its
                // level says.
                let verdict = self.alert(plain[0].max(FATAL), plain[1], &text);
                return Some(verdict);
            }
            other => {
                return Some(Verdict::error(
                    "ServerHello",
                    format!("an encrypted record of type {other} in the server's flight"),
                ));
            }
        }
        loop {
            match inner.next_message() {
                Ok(Some(message)) => match flight.message(&message, &self.client) {
                    Read::Decided(verdict) => return Some(verdict),
                    Read::Progress => {}
                    Read::Nothing => self.idle += 1,
                },
                Ok(None) => return None,
                Err(e) => return Some(Verdict::error("ServerHello", e.to_string())),
            }
        }
    }

    /// Whether a ServerHello has been read and its flight has not ended.
    fn in_flight(&self) -> bool {
        !matches!(self.phase, Phase::AwaitingHello)
    }
}

impl Conversation<TlsRequest> for TlsConversation {
    fn prepare(
        &mut self,
        kind: StepKind,
        values: &BTreeMap<String, String>,
    ) -> Result<(), SendError> {
        self.declare(values)?;
        if kind == StepKind::Raw {
            self.shares = Shares::Raw;
        }
        Ok(())
    }

    fn send(
        &mut self,
        request: &TlsRequest,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        let mut bytes = request.encode(values)?;
        if self.shares == Shares::Own {
            self.own = OwnShares::replace(&mut bytes);
        }
        Ok(Bytes::from(bytes))
    }

    fn receive(&mut self, raw: Bytes) -> Received {
        self.records += 1;
        let text = describe(Direction::Server, &raw);
        let before = self.in_flight();
        let verdict = self.read(&raw, &text);
        // The record holding the ServerHello is what a recording's reply is compared with.
        let compared = !before && (self.in_flight() || verdict.is_some());
        match verdict {
            Some(verdict) => {
                self.handshake.clear();
                Received {
                    text: verdict.decided_by.clone().unwrap_or(text),
                    answers_request: true,
                    compared,
                    verdict: Some(verdict),
                    upgrade_to_tls: false,
                    go_ahead: false,
                }
            }
            None => Received {
                compared,
                ..Received::aside(text)
            },
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
        None
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        let ended = how.verb();
        match how {
            Ending::ScriptEnded if self.in_flight() => Verdict::error(
                "ServerHello",
                "the case ended before the server's flight did",
            ),
            Ending::ScriptEnded => {
                Verdict::error("ClientHello", "the case sent nothing the server answered")
            }
            Ending::Closed | Ending::Reset if self.in_flight() => Verdict::new(
                VerdictKind::LockedOut,
                "ServerHello",
                format!(
                    "the server {ended} the connection after its ServerHello, before its flight ended"
                ),
                None,
            ),
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
            self.client.offer = Some(offer);
            if message.get(5) == Some(&CLIENT_HELLO) {
                self.client_hello = message[5..].to_vec();
                self.sent_share_groups = hello::key_shares(message)
                    .into_iter()
                    .map(|(group, _)| group)
                    .collect();
                self.psk = hello::offers_psk(message);
            }
        }
        self.sent = true;
    }

    fn farewell(&self) -> Option<Bytes> {
        None
    }
}
