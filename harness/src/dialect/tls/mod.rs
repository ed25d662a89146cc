//! TLS: replaying ClientHellos (recorded, or built from a description) and classifying the
//! server's answer by the negotiated version and cipher suite.
//!
//! A scripted step is `hello versions=... ciphers=... groups=... sni=...`; a recorded
//! ClientHello is replayed as recorded, its server name rewritten to `{host}`.

mod classify;
pub mod hello;
pub mod names;
mod reader;
pub mod record;
mod registry;
mod request;
pub mod server_hello;
mod sslv2;

use super::{
    Conversation, Dialect, Doc, Ending, FrameError, Identity, Received, RecordedIdentity, Request,
    SendError, SettingError, Settings, StepError, StepSource, downcast,
};
use crate::direction::Direction;
use crate::verdict::Verdict;
use bytes::{Bytes, BytesMut};
use classify::Deprecations;
use hello::Offer;
use request::TlsRequest;
use server_hello::ServerAnswer;
use std::collections::BTreeMap;

/// The TLS dialect.
pub struct Tls;

const STEP_KINDS: &[Doc] = &[
    Doc {
        name: "send = \"hello ...\"",
        about: "a ClientHello built from versions=, ciphers=, groups= and sni= (IANA names or 0x codes)",
    },
    Doc {
        name: "send_hex",
        about: "raw bytes, e.g. a ClientHello record, sent as they are",
    },
];

const SETTING_KEYS: &[Doc] = &[
    Doc {
        name: classify::DEPRECATED_VERSIONS,
        about: "versions that make an admitted client warned (default SSLv3, TLSv1, TLSv1.1)",
    },
    Doc {
        name: classify::DEPRECATED_CIPHERS,
        about: "substrings of cipher suite names that make an admitted client warned (default _CBC_, TLS_RSA_WITH_, _RC4_, _3DES_)",
    },
];

impl Dialect for Tls {
    fn name(&self) -> &'static str {
        "tls"
    }

    fn summary(&self) -> &'static str {
        "TLS ClientHellos against servers retiring protocol versions and cipher suites; decides at the ServerHello"
    }

    fn default_port(&self) -> u16 {
        443
    }

    fn step_kinds(&self) -> &'static [Doc] {
        STEP_KINDS
    }

    fn setting_keys(&self) -> &'static [Doc] {
        SETTING_KEYS
    }

    fn settings(&self, table: &BTreeMap<String, toml::Value>) -> Result<Settings, SettingError> {
        Ok(Settings::new(Deprecations::from_settings(table)?))
    }

    fn step(&self, source: &StepSource<'_>) -> Result<Box<dyn Request>, StepError> {
        request::compile(source)
    }

    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        Ok(record::decode(buf, from == Direction::Client)?.map(|r| r.raw))
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &Settings,
    ) -> Box<dyn Conversation> {
        Box::new(TlsConversation {
            deprecations: settings.get::<Deprecations>().cloned().unwrap_or_default(),
            offer: None,
            sent: false,
            heard: false,
        })
    }

    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        let offer = client_messages.iter().find_map(|m| hello::offer(m));
        RecordedIdentity {
            versions: offer.map(|o| {
                o.versions
                    .iter()
                    .map(|v| names::version_name(*v))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            client: None,
            account: None,
        }
    }

    fn replay(&self, message: &[u8], _account: Option<&str>) -> Result<Box<dyn Request>, String> {
        request::replay(message)
    }

    fn replay_note(&self) -> &'static str {
        "(its server name rewritten to {host})"
    }

    fn answers(&self, _request: &[u8], _reply: &[u8]) -> bool {
        true
    }

    fn describe(&self, from: Direction, bytes: &[u8]) -> String {
        describe(from, bytes)
    }
}

/// A record as a reader wants it: `ClientHello TLSv1.3 TLSv1.2 ...`, `ServerHello TLSv1.2 ...`,
/// `Alert fatal handshake_failure`; anything else by type and length.
pub fn describe(from: Direction, bytes: &[u8]) -> String {
    let mut buf = BytesMut::from(bytes);
    let Ok(Some(r)) = record::decode(&mut buf, from == Direction::Client) else {
        return format!("{} bytes, not a TLS record", bytes.len());
    };
    if let Some(o) = hello::offer(&r.raw) {
        return describe_offer(&o, r.sslv2);
    }
    if r.sslv2 {
        return format!(
            "SSLv2-compatible ClientHello (malformed), version {}",
            names::version_name(r.version)
        );
    }
    match (r.content_type, r.fragment.first()) {
        (record::HANDSHAKE, Some(2)) => match server_hello::server_answer(&r.fragment) {
            Some(ServerAnswer::Hello { version, cipher }) => {
                format!(
                    "ServerHello {} {}",
                    names::version_name(version),
                    names::cipher_name(cipher)
                )
            }
            Some(ServerAnswer::RetryRequest {
                version,
                cipher,
                group,
            }) => {
                let mut text = format!(
                    "HelloRetryRequest {} {}",
                    names::version_name(version),
                    names::cipher_name(cipher)
                );
                if let Some(g) = group {
                    text.push(' ');
                    text.push_str(&names::group_name(g));
                }
                text
            }
            None => "ServerHello (malformed)".to_string(),
        },
        (record::HANDSHAKE, Some(kind)) => {
            format!("handshake message {kind}, {} bytes", r.fragment.len())
        }
        (record::ALERT, _) if r.fragment.len() >= 2 => {
            let level = if r.fragment[0] == 2 {
                "fatal"
            } else {
                "warning"
            };
            format!("Alert {level} {}", names::alert_name(r.fragment[1]))
        }
        (record::CHANGE_CIPHER_SPEC, _) => "ChangeCipherSpec".to_string(),
        (record::APPLICATION_DATA, _) => format!("encrypted record, {} bytes", r.fragment.len()),
        (kind, _) => format!("record type {kind}, {} bytes", r.fragment.len()),
    }
}

fn describe_offer(o: &Offer, sslv2: bool) -> String {
    let versions: Vec<String> = o.versions.iter().map(|v| names::version_name(*v)).collect();
    let ciphers: Vec<String> = o.ciphers.iter().map(|c| names::cipher_name(*c)).collect();
    let mut text = format!(
        "{}ClientHello versions={} ciphers={}",
        if sslv2 { "SSLv2-compatible " } else { "" },
        versions.join(","),
        ciphers.join(",")
    );
    if !sslv2 {
        let groups: Vec<String> = o.groups.iter().map(|g| names::group_name(*g)).collect();
        text.push_str(&format!(" groups={}", groups.join(",")));
    }
    if let Some(sni) = &o.sni {
        text.push_str(&format!(" sni={sni}"));
    }
    text
}

struct TlsConversation {
    deprecations: Deprecations,
    offer: Option<Offer>,
    sent: bool,
    heard: bool,
}

impl Conversation for TlsConversation {
    fn send(
        &mut self,
        request: &dyn Request,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        let request: &TlsRequest = downcast(request).map_err(SendError::Invalid)?;
        let bytes = request.encode(values)?;
        self.offer = hello::offer(&bytes).or(self.offer.take());
        self.sent = true;
        Ok(Bytes::from(bytes))
    }

    fn receive(&mut self, raw: Bytes) -> Received {
        self.heard = true;
        let text = describe(Direction::Server, &raw);
        let mut buf = BytesMut::from(&raw[..]);
        let verdict = match record::decode(&mut buf, false) {
            Ok(Some(r)) => match r.content_type {
                record::ALERT if r.fragment.len() >= 2 => {
                    classify::alert(r.fragment[0], r.fragment[1], &text)
                }
                record::HANDSHAKE => match server_hello::server_answer(&r.fragment) {
                    Some(answer) => {
                        classify::answer(&answer, self.offer.as_ref(), &self.deprecations, &text)
                    }
                    None => Verdict::error(
                        "ServerHello",
                        format!(
                            "the server's first handshake message is not a ServerHello: {text}"
                        ),
                    ),
                },
                _ => Verdict::error(
                    "ClientHello",
                    format!("unexpected first record from the server: {text}"),
                ),
            },
            _ => Verdict::error("ClientHello", format!("not a TLS record: {text}")),
        };
        Received {
            text,
            answers_request: true,
            verdict: Some(verdict),
            upgrade_to_tls: false,
        }
    }

    fn stage(&self) -> String {
        "ClientHello".to_string()
    }

    fn pending(&self) -> Option<Verdict> {
        None
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        match how {
            Ending::ScriptEnded => {
                Verdict::error("ClientHello", "the case sent nothing the server answered")
            }
            Ending::Closed | Ending::Reset if self.sent && !self.heard => Verdict::new(
                crate::verdict::VerdictKind::LockedOut,
                "ClientHello",
                format!(
                    "the server {} the connection without a ServerHello",
                    if how == Ending::Reset {
                        "reset"
                    } else {
                        "closed"
                    }
                ),
                None,
            ),
            Ending::Closed | Ending::Reset => Verdict::error(
                "ClientHello",
                "the connection ended before anything was sent",
            ),
        }
    }

    fn farewell(&self) -> Option<Bytes> {
        None
    }
}
