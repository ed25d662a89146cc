//! TLS: replaying ClientHellos (recorded, or built from a description) and classifying the
//! server's answer by the negotiated version and cipher suite.
//!
//! A scripted step is `hello versions=... ciphers=... groups=... sni=...`; a recorded
//! ClientHello is replayed as recorded, its server name rewritten to `{host}`.

pub mod certificate;
mod classify;
mod constraints;
mod conversation;
mod describe;
pub mod handshake;
pub mod hello;
pub mod ja4;
pub mod key_exchange;
mod key_share;
pub mod names;
mod reader;
pub mod record;
mod registry;
mod request;
pub mod server_hello;
mod sslv2;
mod tls13;

pub use describe::describe;

use super::{
    Conversation, Dialect, Doc, FrameError, Identity, RecordedIdentity, Request, SettingError,
    Settings, StepError, StepSource,
};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};
use classify::Deprecations;
use conversation::TlsConversation;
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
        Box::new(TlsConversation::new(
            settings.get::<Deprecations>().cloned().unwrap_or_default(),
        ))
    }

    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        let offer = client_messages.iter().find_map(|m| hello::offer(m));
        RecordedIdentity {
            versions: offer.map(|o| {
                let versions = o
                    .versions
                    .iter()
                    // GREASE values (RFC 8701) are noise a client adds, not what it speaks.
                    .filter(|v| !is_grease(**v))
                    .map(|v| names::version_name(*v))
                    .collect::<Vec<_>>()
                    .join(" ");
                format!("{versions}, ja4 {}", ja4::ja4(&o))
            }),
            client: None,
            account: None,
        }
    }

    fn replay(&self, message: &[u8], _account: Option<&str>) -> Result<Box<dyn Request>, String> {
        request::replay(message)
    }

    fn opens_handshake(&self, first: &[u8]) -> bool {
        let mut buf = BytesMut::from(first);
        matches!(record::decode(&mut buf, true), Ok(Some(r)) if r.sslv2 || (r.content_type == record::HANDSHAKE && r.fragment.first() == Some(&1)))
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

/// `0x0a0a`, `0x1a1a`, ... `0xfafa`: the values RFC 8701 reserves for GREASE.
pub(crate) fn is_grease(value: u16) -> bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::text_step;

    #[test]
    fn a_recorded_identity_leaves_out_grease_versions() {
        let hello = text_step(
            &Tls,
            "hello versions=0x0a0a,TLSv1.3,0xfafa,TLSv1.2 ciphers=TLS_AES_128_GCM_SHA256",
        )
        .unwrap();
        let mut conversation = Tls.conversation(None, &Settings::none());
        let bytes = conversation.send(hello.as_ref(), &BTreeMap::new()).unwrap();
        let identity = Tls.recorded_identity(&[&bytes]);
        let versions = identity.versions.unwrap();
        assert!(
            versions.starts_with("TLSv1.3 TLSv1.2, ja4 t13i"),
            "{versions}"
        );
        assert!(!is_grease(0x0a0b));
    }
}
