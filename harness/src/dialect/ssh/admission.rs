//! The admission point of an SSH connection: the server's key-exchange messages read as the
//! negotiated method has them, the verdict they give (admitted, or warned for what is
//! deprecated), and what strict key exchange (OpenSSH's Terrapin mitigation) makes of packets
//! that are not part of the key exchange.

use super::conversation::{KexState, SshConversation};
use super::kex;
use super::negotiate::{self, Negotiated};
use super::reply::{self, Family};
use super::wire;
use crate::verdict::{Verdict, VerdictKind};

impl SshConversation {
    /// What strict key exchange, when both sides offered it, makes of the packets the server
    /// has sent: a violation ends the connection as OpenSSH's client ends it.
    pub(super) fn strict_violation(&self) -> Option<Verdict> {
        let (client, server) = (self.client_kexinit.as_ref()?, self.server_kexinit.as_ref()?);
        if !negotiate::strict(client, server) {
            return None;
        }
        let (kind, seq, text) = self.foreign.as_ref()?;
        let message = reply::name(Family::Unknown, *kind);
        let (what, openssh) = if self.kexinit_seq.is_some_and(|k| k > *seq) {
            (
                format!("its KEXINIT was not its first packet: {message} came before it"),
                "KEXINIT was not the first packet".to_string(),
            )
        } else if *kind == wire::NEWKEYS {
            (
                format!("it sent {message} before its key-exchange reply"),
                format!("unexpected packet type {kind} (seqnr {seq})"),
            )
        } else {
            (
                format!("it sent {message} before NEWKEYS"),
                format!("unexpected packet type {kind} (seqnr {seq})"),
            )
        };
        Some(Verdict::new(
            VerdictKind::LockedOut,
            "key exchange",
            format!(
                "strict KEX violation: both sides offered strict key exchange ({}, {}) and {what}; OpenSSH's client disconnects here (\"strict KEX violation: {openssh}\"), so a client like it cannot connect",
                negotiate::STRICT_CLIENT,
                negotiate::STRICT_SERVER
            ),
            Some(text.clone()),
        ))
    }

    /// A key-exchange message from the server (31 or 33), read as the negotiated method has
    /// it: `Ok(None)` when the exchange goes on (a group-exchange group), `Ok(Some)` at the
    /// admission point, `Err` for a message the method does not have here.
    pub(super) fn key_exchange(
        &mut self,
        kind: u8,
        payload: &[u8],
        text: &str,
    ) -> Result<Option<Verdict>, Verdict> {
        let negotiated = match self.negotiated() {
            Some(Ok(n)) => n,
            Some(Err(no_match)) => {
                return Err(Verdict::new(
                    VerdictKind::LockedOut,
                    "KEXINIT",
                    format!(
                        "{no_match} (the server answered the key exchange anyway; a real client disconnects on the server's KEXINIT: OpenSSH's says \"{}\")",
                        no_match.openssh_says()
                    ),
                    self.server_kexinit_text.clone(),
                ));
            }
            None => {
                return Err(Verdict::error(
                    "key exchange",
                    format!(
                        "a key-exchange reply, but the client sent no KEXINIT the harness could read: nothing was negotiated to judge it by: {text}"
                    ),
                ));
            }
        };
        let family = reply::family(&negotiated.kex);
        let came = reply::name(family, kind);
        let wrong = |expected: String| {
            Verdict::error(
                "key exchange",
                format!(
                    "{} negotiated, so {expected} was expected; {came} came instead: {text}",
                    negotiated.kex
                ),
            )
        };
        if self.kex == KexState::NotStarted {
            return Err(Verdict::error(
                "key exchange",
                format!("{came} before the client's key-exchange init: {text}"),
            ));
        }
        match (family, kind, &self.kex) {
            (Family::GroupExchange, wire::KEX_REPLY, KexState::AwaitingGroup) => {
                match kex::gex_group(payload) {
                    Some((p, g)) => {
                        self.kex = KexState::Group(p, g);
                        Ok(None)
                    }
                    None => Err(Verdict::error(
                        "key exchange",
                        format!("a malformed group: {text}"),
                    )),
                }
            }
            (Family::GroupExchange, wire::KEX_REPLY, _) => {
                Err(wrong(reply::name(family, wire::GEX_REPLY)))
            }
            (Family::GroupExchange, wire::GEX_REPLY, KexState::AwaitingGroup) => {
                Err(wrong(reply::name(family, wire::KEX_REPLY)))
            }
            (Family::Ecdh | Family::Dh, wire::GEX_REPLY, _) => {
                Err(wrong(reply::name(family, wire::KEX_REPLY)))
            }
            _ => match reply::check(family, &negotiated.kex, payload) {
                Ok(()) => Ok(Some(self.admission(&negotiated, text))),
                Err(why) => Err(Verdict::error(
                    "key exchange",
                    format!("{came} for {} that does not decode: {why}", negotiated.kex),
                )),
            },
        }
    }

    /// The server answered the key exchange: admitted, or warned for what was deprecated.
    fn admission(&self, negotiated: &Negotiated, text: &str) -> Verdict {
        let mut deprecated: Vec<String> = Vec::new();
        for algorithm in negotiated.algorithms() {
            if let Some(pattern) = self.deprecations.matching(algorithm) {
                let item = if pattern == algorithm {
                    algorithm.to_string()
                } else {
                    format!("{algorithm} ({pattern})")
                };
                if !deprecated.contains(&item) {
                    deprecated.push(item);
                }
            }
        }
        Verdict::admitted_or_warned(
            "key exchange",
            format!(
                "the server answered the key exchange: {}",
                negotiated.summary()
            ),
            &deprecated,
            ("; deprecated: ", ", "),
            Some(text.to_string()),
        )
    }
}
