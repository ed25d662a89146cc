//! TLS: replaying ClientHellos (recorded, or built from a description) and classifying the
//! server's answer by the negotiated version and cipher suite.
//!
//! A step's line is either `hello versions=... ciphers=... groups=... sni=...` (a scripted
//! client) or `hex <bytes> [sni=HOST]` (a recorded ClientHello, its SNI rewritten for the
//! target when it has one).

mod classify;
pub mod hello;
pub mod names;
pub mod record;

use super::{
    Conversation, Dialect, Direction, Ending, FrameError, Identity, Received, RecordedIdentity,
    ReplayStep,
};
use crate::verdict::Verdict;
use bytes::{Bytes, BytesMut};
use hello::{Offer, ServerAnswer};

/// The TLS dialect.
pub struct Tls;

impl Dialect for Tls {
    fn name(&self) -> &'static str {
        "tls"
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &toml::Table,
    ) -> Box<dyn Conversation> {
        Box::new(TlsConversation {
            policy: classify::Policy::from_settings(settings),
            offer: None,
            sent: false,
            heard: false,
        })
    }

    fn default_port(&self) -> u16 {
        443
    }

    fn split(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        Ok(record::decode(buf, from == Direction::Client)?.map(|r| r.raw))
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

    fn replay_step(&self, message: &[u8], _account: Option<&str>) -> Option<ReplayStep> {
        let sni = hello::offer(message)
            .and_then(|o| o.sni)
            .map_or("", |_| " sni={host}");
        Some(ReplayStep {
            send: format!("hex {}{sni}", hex::encode(message)),
            body: None,
        })
    }

    fn answers(&self, _request: &[u8], _reply: &[u8]) -> bool {
        true
    }

    fn normalize(&self, message: &str) -> String {
        message.to_string()
    }

    fn redact(&self, text: &str) -> String {
        text.to_string()
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
        return describe_offer(&o);
    }
    if r.sslv2 {
        return format!(
            "SSLv2-compatible ClientHello, version {}",
            names::version_name(r.version)
        );
    }
    match (r.content_type, r.fragment.first()) {
        (record::HANDSHAKE, Some(2)) => match hello::server_answer(&r.fragment) {
            Some(ServerAnswer::Hello { version, cipher }) => {
                format!(
                    "ServerHello {} {}",
                    names::version_name(version),
                    names::cipher_name(cipher)
                )
            }
            Some(ServerAnswer::RetryRequest { group }) => {
                format!(
                    "HelloRetryRequest {}",
                    group.map_or_else(|| "no group".to_string(), names::group_name)
                )
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

fn describe_offer(o: &Offer) -> String {
    let versions: Vec<String> = o.versions.iter().map(|v| names::version_name(*v)).collect();
    let ciphers: Vec<String> = o.ciphers.iter().map(|c| names::cipher_name(*c)).collect();
    let groups: Vec<String> = o.groups.iter().map(|g| names::group_name(*g)).collect();
    let mut text = format!(
        "ClientHello versions={} ciphers={} groups={}",
        versions.join(","),
        ciphers.join(","),
        groups.join(",")
    );
    if let Some(sni) = &o.sni {
        text.push_str(&format!(" sni={sni}"));
    }
    text
}

struct TlsConversation {
    policy: classify::Policy,
    offer: Option<Offer>,
    sent: bool,
    heard: bool,
}

impl Conversation for TlsConversation {
    fn send(&mut self, line: &str, _body: Option<&str>) -> Result<Bytes, String> {
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let bytes = match verb {
            "hello" => hello::Description::parse(rest)?.build(),
            "hex" => {
                let (data, sni) = match rest.split_once(" sni=") {
                    Some((data, sni)) => (data, Some(sni.trim())),
                    None => (rest, None),
                };
                let bytes = hex::decode(data.trim()).map_err(|e| format!("hex: {e}"))?;
                match sni.filter(|s| !s.is_empty()) {
                    Some(host) => hello::rewrite_sni(&bytes, host).unwrap_or(bytes),
                    None => bytes,
                }
            }
            other => {
                return Err(format!(
                    "`{other}` is not a TLS step: write `hello key=value...` or `hex <bytes>`"
                ));
            }
        };
        self.offer = hello::offer(&bytes).or(self.offer.take());
        self.sent = true;
        Ok(Bytes::from(bytes))
    }

    fn receive(&mut self, buf: &mut BytesMut) -> Result<Option<Received>, FrameError> {
        let Some(r) = record::decode(buf, false)? else {
            return Ok(None);
        };
        self.heard = true;
        let text = describe(Direction::Server, &r.raw);
        let verdict = match r.content_type {
            record::ALERT if r.fragment.len() >= 2 => {
                Some(classify::alert(r.fragment[0], r.fragment[1], &text))
            }
            record::HANDSHAKE => match hello::server_answer(&r.fragment) {
                Some(answer) => Some(classify::answer(
                    &answer,
                    self.offer.as_ref(),
                    &self.policy,
                    &text,
                )),
                None => Some(Verdict::error(
                    "ServerHello",
                    format!("the server's first handshake message is not a ServerHello: {text}"),
                )),
            },
            _ => Some(Verdict::error(
                "ClientHello",
                format!("unexpected first record from the server: {text}"),
            )),
        };
        Ok(Some(Received {
            raw: r.raw,
            text,
            answers_request: true,
            verdict,
        }))
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
