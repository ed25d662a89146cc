//! One SSH connection as a client sees it, up to the key-exchange reply: identification lines,
//! both KEXINITs (negotiated as RFC 4253 section 7.1 says), the client's key-exchange init, and
//! the server's reply, the admission point: by then the server has agreed to every algorithm
//! class. Admitted only when every class has a common algorithm and the reply is the message
//! the negotiated method expects, decoded as that method has it (31 means three things).
//! A DISCONNECT, a close after the client's KEXINIT, or a refused identification locks out; a
//! server KEXINIT with no common algorithm in a class locks out there, as a real client
//! disconnects there, the reason naming the class. A server's wrong guess
//! (first_kex_packet_follows) is ignored as RFC 4253 section 7 says; with strict key exchange
//! agreed, any other packet before NEWKEYS ends it as OpenSSH's client ends it.

use super::describe::{describe, is_line};
use super::framing::payload;
use super::kex::{self, Method};
use super::negotiate::{self, Negotiated, NoMatch, negotiate};
use super::policy::{Deprecations, SshPolicy};
use super::request::{self, SshRequest};
use super::wire::{self, KexInit};
use crate::dialect::{Conversation, Ending, Received, SendError};
use crate::dialect::{RefusalClass, RefusalClasses};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::Bytes;
use num_bigint::BigUint;
use std::collections::BTreeMap;

/// Lines a server may send before its identification (OpenSSH's client allows 1024).
pub const MAX_PRE_BANNER_LINES: usize = 1024;
/// IGNORE, DEBUG and like messages a server may send before it is judged to be stalling.
pub const MAX_IDLE_MESSAGES: usize = 64;

pub struct SshConversation {
    pub(super) deprecations: Deprecations,
    /// What a DISCONNECT's reason code means.
    refusals: RefusalClasses,
    pub(super) client_ident: Option<String>,
    pub(super) server_ident: Option<String>,
    pub(super) client_kexinit: Option<KexInit>,
    pub(super) server_kexinit: Option<KexInit>,
    /// The server's KEXINIT as described: what decides a failed negotiation.
    pub(super) server_kexinit_text: Option<String>,
    /// Lines before the server's identification.
    pub(super) pre_banner: usize,
    /// The sequence number of the server's KEXINIT.
    pub(super) kexinit_seq: Option<u32>,
    /// A line after it: the server's words on refusing the client's identification.
    pub(super) refusal: Option<String>,
    pub(super) idle: usize,
    pub(super) kex: KexState,
    /// The client's wrong guess (first_kex_packet_follows) has gone out, and the real init
    /// behind it.
    pub(super) guess_dropped: bool,
    /// Binary packets the server has sent: the next one's sequence number.
    pub(super) server_packets: u32,
    /// The first packet the server sent that is not part of the key exchange (IGNORE, DEBUG,
    /// ...), with its sequence number: what strict key exchange forbids.
    pub(super) foreign: Option<(u8, u32, String)>,
    /// The server's KEXINIT guessed wrong: its next packet is ignored.
    pub(super) discard_next: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KexState {
    NotStarted,
    /// A group-exchange request went out.
    AwaitingGroup,
    /// The server's group arrived; the client's init is due.
    Group(BigUint, BigUint),
    AwaitingReply,
}

impl SshConversation {
    pub fn new(deprecations: Deprecations) -> SshConversation {
        SshConversation {
            deprecations,
            refusals: SshPolicy::default().refusals,
            client_ident: None,
            server_ident: None,
            client_kexinit: None,
            server_kexinit: None,
            server_kexinit_text: None,
            pre_banner: 0,
            kexinit_seq: None,
            refusal: None,
            idle: 0,
            kex: KexState::NotStarted,
            guess_dropped: false,
            server_packets: 0,
            foreign: None,
            discard_next: false,
        }
    }

    /// The suite's classes of DISCONNECT reasons instead of the defaults.
    pub fn with_refusals(mut self, refusals: RefusalClasses) -> SshConversation {
        self.refusals = refusals;
        self
    }

    pub(super) fn negotiated(&self) -> Option<Result<Negotiated, NoMatch>> {
        Some(negotiate(
            self.client_kexinit.as_ref()?,
            self.server_kexinit.as_ref()?,
        ))
    }

    /// The lockout a failed negotiation means, once both KEXINITs are known.
    fn no_match(&self) -> Option<Verdict> {
        let Some(Err(no_match)) = self.negotiated() else {
            return None;
        };
        Some(Verdict::new(
            VerdictKind::LockedOut,
            "KEXINIT",
            no_match.to_string(),
            self.server_kexinit_text.clone(),
        ))
    }

    /// The key-exchange payload to send now, in place of `recorded` where given: the recorded
    /// init when it fits the negotiated method, else one made afresh.
    fn kex_payload(&self, recorded: Option<&[u8]>) -> Result<Option<Vec<u8>>, SendError> {
        if let KexState::Group(p, g) = &self.kex {
            return kex::gex_init(p, g).map(Some);
        }
        let negotiated = match self.negotiated() {
            Some(Ok(n)) => n.kex,
            // Nothing to negotiate with: the server is about to end it, and says how.
            Some(Err(_)) => return Ok(None),
            None if recorded.is_some() => return Ok(None),
            None => return Err(SendError::TooEarly("KEXINIT")),
        };
        if let Some(recorded) = recorded {
            let fits = match recorded.first() {
                Some(&wire::KEX_INIT) => kex::public_len(&negotiated).is_none_or(|lengths| {
                    wire::Reader(&recorded[1..])
                        .string()
                        .is_some_and(|value| lengths.contains(&value.len()))
                }),
                Some(&wire::GEX_REQUEST) => kex::method(&negotiated) == Some(Method::GroupExchange),
                _ => return Ok(None),
            };
            if fits || kex::method(&negotiated).is_none() {
                return Ok(None);
            }
        }
        match kex::method(&negotiated) {
            Some(method) => kex::init(method).map(Some),
            None => Err(SendError::CannotMake(format!(
                "a {negotiated} key exchange"
            ))),
        }
    }

    /// Whether `recorded` is a key-exchange init the client sent as a guess (its KEXINIT set
    /// first_kex_packet_follows) that the live server's KEXINIT proves wrong: the first key
    /// exchange or host key algorithm of the two differ.
    fn wrong_guess(&self, recorded: &[u8]) -> bool {
        let (Some(client), Some(server)) = (&self.client_kexinit, &self.server_kexinit) else {
            return false;
        };
        let is_init = !is_line(recorded)
            && payload(recorded).and_then(|p| p.first()) == Some(&wire::KEX_INIT);
        is_init
            && client.first_kex_follows
            && !self.guess_dropped
            && self.kex == KexState::NotStarted
            && (client.kex.first() != server.kex.first()
                || client.host_key.first() != server.host_key.first())
    }

    fn line(&mut self, line: &str, text: String) -> Received {
        if line.starts_with("SSH-") {
            self.server_ident = Some(line.to_string());
            let version = line.split('-').nth(1).unwrap_or_default();
            let client_version = self
                .client_ident
                .as_deref()
                .and_then(|i| i.split('-').nth(1))
                .unwrap_or("2.0");
            // An SSH-1 client meeting an SSH-2 server gives up here, as the server does.
            if version == "2.0" && !["2.0", "1.99"].contains(&client_version) {
                let verdict = Verdict::new(
                    VerdictKind::LockedOut,
                    "identification",
                    format!(
                        "protocol major versions differ: the server speaks SSH-2 only, the client SSH-{client_version}"
                    ),
                    Some(text.clone()),
                );
                return Received::decided(text, verdict);
            }
            if version != "2.0" && version != "1.99" {
                let verdict = Verdict::new(
                    VerdictKind::LockedOut,
                    "identification",
                    format!("the server speaks SSH protocol {version} only"),
                    Some(text.clone()),
                );
                return Received::decided(text, verdict);
            }
            return Received::reply(text);
        }
        if self.server_ident.is_some() {
            self.refusal = Some(line.to_string());
        } else {
            self.pre_banner += 1;
            if self.pre_banner > MAX_PRE_BANNER_LINES {
                let verdict = Verdict::error(
                    "identification",
                    format!(
                        "the server sent {} lines and no identification",
                        self.pre_banner
                    ),
                );
                return Received::decided(text, verdict);
            }
        }
        Received::aside(text)
    }

    fn packet(&mut self, payload: &[u8], text: String) -> Received {
        let kind = payload[0];
        let seq = self.server_packets;
        self.server_packets = self.server_packets.wrapping_add(1);
        if std::mem::take(&mut self.discard_next) {
            // RFC 4253 section 7: the packet after a wrong guess is silently ignored.
            return Received::aside(text);
        }
        match kind {
            wire::KEXINIT => self.server_kexinit(payload, seq, text),
            wire::DISCONNECT => {
                let (code, description) = wire::disconnect(payload).unwrap_or_default();
                let reason = match self.negotiated() {
                    Some(Err(no_match)) => format!("{no_match} (the server disconnected)"),
                    _ => format!(
                        "the server disconnected: {} ({})",
                        description.trim(),
                        wire::disconnect_reason(code)
                    ),
                };
                let stage = self.stage();
                let decided_by = Some(text.clone());
                let verdict = match self.refusals.class(&code.to_string()) {
                    RefusalClass::LockedOut => {
                        Verdict::new(VerdictKind::LockedOut, stage, reason, decided_by)
                    }
                    RefusalClass::Busy => Verdict::busy(
                        stage,
                        format!("the server was busy, not refusing the client: {reason}"),
                        decided_by,
                        None,
                    ),
                    RefusalClass::Error => Verdict::new(
                        VerdictKind::Error,
                        stage,
                        format!("the server failed: {reason}"),
                        decided_by,
                    ),
                };
                Received::decided(text, verdict)
            }
            // Nothing was agreed yet: whatever this answers, it is not the client's offer.
            wire::KEX_REPLY | wire::GEX_REPLY if self.server_kexinit.is_none() => {
                let verdict = Verdict::error(
                    self.stage(),
                    format!("a key-exchange reply before the server's KEXINIT: {text}"),
                );
                Received::decided(text, verdict)
            }
            wire::KEX_REPLY | wire::GEX_REPLY => {
                if let Some(verdict) = self.strict_violation() {
                    return Received::decided(text, verdict);
                }
                match self.key_exchange(kind, payload, &text) {
                    Ok(None) => Received::reply(text),
                    Ok(Some(verdict)) | Err(verdict) => Received::decided(text, verdict),
                }
            }
            wire::IGNORE | wire::DEBUG | wire::UNIMPLEMENTED | wire::EXT_INFO | wire::NEWKEYS => {
                if self.foreign.is_none() {
                    self.foreign = Some((kind, seq, text.clone()));
                }
                if let Some(verdict) = self.strict_violation() {
                    return Received::decided(text, verdict);
                }
                self.idle += 1;
                if self.idle > MAX_IDLE_MESSAGES {
                    let verdict = Verdict::error(
                        self.stage(),
                        format!(
                            "the server sent {} messages that bring no key exchange closer",
                            self.idle
                        ),
                    );
                    return Received::decided(text, verdict);
                }
                Received::aside(text)
            }
            other => {
                let verdict = Verdict::error(
                    self.stage(),
                    format!("unexpected message {other} before the key-exchange reply: {text}"),
                );
                Received::decided(text, verdict)
            }
        }
    }

    /// The server's KEXINIT: with the client's known, a class with no common algorithm locks
    /// out here (a real client disconnects on reading it), and strict key exchange is checked.
    fn server_kexinit(&mut self, payload: &[u8], seq: u32, text: String) -> Received {
        self.server_kexinit = KexInit::parse(payload);
        self.server_kexinit_text = Some(text.clone());
        self.kexinit_seq = Some(seq);
        let Some(server) = &self.server_kexinit else {
            let verdict = Verdict::error("KEXINIT", format!("a malformed KEXINIT: {text}"));
            return Received::decided(text, verdict);
        };
        if let Some(verdict) = self.no_match() {
            return Received::decided(text, verdict);
        }
        if let Some(verdict) = self.strict_violation() {
            return Received::decided(text, verdict);
        }
        if server.first_kex_follows
            && let Some(Ok(negotiated)) = self.negotiated()
        {
            self.discard_next = negotiate::guessed_wrong(server, &negotiated);
        }
        Received::reply(text)
    }
}

/// A payload as a packet, as its framer would frame it.
fn as_packet(payload: &[u8]) -> Bytes {
    Bytes::from(super::framing::packet(payload))
}

impl Conversation<SshRequest> for SshConversation {
    fn send(
        &mut self,
        request: &SshRequest,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        Ok(match request {
            SshRequest::Ident(template) => {
                let line = template.expand(values).map_err(SendError::Unset)?;
                Bytes::from(format!("{line}\r\n"))
            }
            SshRequest::KexInit(template) => {
                let text = template.expand(values).map_err(SendError::Unset)?;
                let mut cookie = [0u8; 16];
                ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut cookie)
                    .map_err(|_| SendError::NoRandom("no random bytes for the cookie"))?;
                as_packet(&request::kexinit(&text)?.encode(cookie))
            }
            // With no common method nothing is sent: the server's answer decides.
            SshRequest::Kex => match self.kex_payload(None)? {
                Some(payload) => as_packet(&payload),
                None => Bytes::new(),
            },
        })
    }

    fn send_recorded(
        &mut self,
        bytes: &[u8],
        _values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        if self.wrong_guess(bytes) {
            // RFC 4253 7: the server silently drops a wrongly guessed key-exchange packet,
            // so the init it will answer goes right behind it, as the real client sends it.
            let fresh = self.kex_payload(None)?;
            let mut both = bytes.to_vec();
            both.extend(
                fresh
                    .map(|p| super::framing::packet(&p))
                    .unwrap_or_default(),
            );
            self.guess_dropped = true;
            return Ok(Bytes::from(both));
        }
        // The recorded init, unless the live key exchange needs another one.
        let recorded = (!is_line(bytes)).then(|| payload(bytes)).flatten();
        let in_kex = matches!(self.kex, KexState::Group(..))
            || recorded.is_some_and(|p| [wire::KEX_INIT, wire::GEX_REQUEST].contains(&p[0]));
        Ok(match recorded.filter(|_| in_kex) {
            Some(p) => match self.kex_payload(Some(p))? {
                Some(fresh) => as_packet(&fresh),
                None => Bytes::copy_from_slice(bytes),
            },
            None => Bytes::copy_from_slice(bytes),
        })
    }

    fn observe_sent(&mut self, message: &[u8]) {
        if is_line(message) {
            if message.starts_with(b"SSH-") {
                self.client_ident = Some(String::from_utf8_lossy(message).trim_end().to_string());
            }
            return;
        }
        // A wrong guess goes out with the init the server will answer right behind it: each
        // packet counts, the last one last.
        let mut rest = message;
        while let Some(p) = payload(rest) {
            match p.first() {
                Some(&wire::KEXINIT) => self.client_kexinit = KexInit::parse(p),
                Some(&(wire::KEX_INIT | wire::GEX_INIT)) => self.kex = KexState::AwaitingReply,
                Some(&wire::GEX_REQUEST) => self.kex = KexState::AwaitingGroup,
                _ => {}
            }
            let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            match rest.get(4 + length..) {
                Some(next) if !next.is_empty() => rest = next,
                _ => break,
            }
        }
    }

    fn receive(&mut self, raw: Bytes) -> Received {
        let text = describe(Direction::Server, &raw);
        // Before its identification a server sends lines, as the framer reads them, even
        // one that starts with a zero byte and so looks like a packet.
        if is_line(&raw) || self.server_ident.is_none() {
            let line = String::from_utf8_lossy(&raw).trim_end().to_string();
            return self.line(&line, text);
        }
        match payload(&raw).filter(|p| !p.is_empty()) {
            Some(p) => self.packet(p, text),
            None => {
                let verdict = Verdict::error(self.stage(), format!("not an SSH packet: {text}"));
                Received::decided(text, verdict)
            }
        }
    }

    fn stage(&self) -> String {
        match (&self.server_ident, &self.server_kexinit, &self.kex) {
            (None, ..) => "identification",
            (_, None, _) => "KEXINIT",
            _ => "key exchange",
        }
        .to_string()
    }

    fn pending(&self) -> Option<Verdict> {
        self.no_match()
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        if let Some(verdict) = self.no_match() {
            return verdict;
        }
        let closed = how.verb();
        let stage = self.stage();
        if how == Ending::ScriptEnded {
            return Verdict::error(
                stage,
                "the case ended before the server's key-exchange reply",
            );
        }
        if let Some(refusal) = &self.refusal {
            return Verdict::new(
                VerdictKind::LockedOut,
                "identification",
                format!(
                    "the server refused the identification `{}`: {refusal}",
                    self.client_ident.as_deref().unwrap_or("?")
                ),
                Some(refusal.clone()),
            );
        }
        let ident = self.client_ident.as_deref().unwrap_or("?");
        let (stage, reason) = match (
            &self.server_ident,
            &self.server_kexinit,
            &self.client_kexinit,
        ) {
            // Nothing the client said was read yet: the server turned away a connection, not
            // a client, as sshd does past MaxStartups.
            (None, ..) => {
                return Verdict::busy(
                    stage,
                    format!(
                        "the server {closed} the connection before identifying itself, as a server past its connection limit does (sshd's MaxStartups)"
                    ),
                    None,
                    None,
                );
            }
            // sshd sends its KEXINIT once it has read the client's identification.
            (Some(_), None, _) => (
                "identification",
                format!(
                    "the server {closed} the connection after the client's identification `{ident}`, before its KEXINIT"
                ),
            ),
            (Some(_), Some(_), Some(_)) => (
                "KEXINIT",
                format!("the server {closed} the connection after the client's KEXINIT"),
            ),
            (Some(_), Some(_), None) => (
                "KEXINIT",
                format!("the server {closed} the connection before the client's KEXINIT"),
            ),
        };
        Verdict::new(VerdictKind::LockedOut, stage, reason, None)
    }

    fn farewell(&self) -> Option<Bytes> {
        None
    }
}
