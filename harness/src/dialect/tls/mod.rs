//! TLS: replaying ClientHellos (recorded, or built from a description) and classifying the
//! server's first flight: the negotiated version and cipher suite, then its certificate and
//! key exchange against the client's constraints (TLS 1.3's with the harness's own key share).
//!
//! A scripted step is `hello versions=... ciphers=... groups=... sni=...`; a recorded
//! ClientHello is replayed as recorded, its server name rewritten to `{host}`.

pub mod alerts;
pub mod certificate;
mod classify;
mod constraints;
mod conversation;
mod describe;
mod flight;
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
pub mod signature;
mod sslv2;
pub mod testssl;
pub mod testssl_suite;
pub mod tls13;

pub use describe::describe;

use super::{
    Conversation, Distinguish, Doc, FrameError, Identity, Protocol, RecordedIdentity, Recordings,
    Step, StepError, StepSource, Wire,
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
        name: "send = \"replay HEX\"",
        about: "a recorded ClientHello record, replayed as a capture's is: its server name rewritten to {host}",
    },
    Doc {
        name: "send_hex",
        about: "raw bytes, e.g. a ClientHello record, sent as they are",
    },
    Doc {
        name: "[variables] min_dh_bits, max_dh_bits, min_rsa_bits, max_rsa_bits, min_ecdsa_bits, requires_sha2, curves, lowest_version",
        about: "what the client refuses past the ServerHello (testssl.sh's client constraints): a DH group or certificate key outside its sizes, a SHA-1 certificate signature, an ECDHE curve it lacks, a version below its lowest",
    },
    Doc {
        name: "[variables] key_share",
        about: "`own` (default): x25519 and secp256r1 key shares are replaced with the harness's own, so a TLS 1.3 server's encrypted certificate is read; `recorded`: the hello is sent as recorded and TLS 1.3 is decided at the ServerHello",
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
    Doc {
        name: classify::WEAK_DH_BITS,
        about: "a DH group under this many bits makes an admitted client warned (default 2048; 0: never)",
    },
    Doc {
        name: classify::WEAK_RSA_BITS,
        about: "an RSA certificate key under this many bits makes an admitted client warned (default 2048; 0: never)",
    },
    Doc {
        name: classify::WEAK_SIGNATURES,
        about: "substrings of certificate signature algorithms that make an admitted client warned (default sha1, md5)",
    },
    Doc {
        name: alerts::BUSY,
        about: "alert description codes of a busy server, an error counted as busy and never a lockout (default none)",
    },
    Doc {
        name: alerts::ERROR,
        about: "alert description codes that are server faults, not policy (default 80, internal_error)",
    },
    Doc {
        name: alerts::LOCKED_OUT,
        about: "alert description codes that lock out (default: every alert no other list names)",
    },
];

impl Wire for Tls {
    super::facts! {
        name: "tls",
        summary: "TLS ClientHellos against servers retiring protocol versions, cipher suites, DH groups and certificates; reads the server's whole first flight (TLS 1.3's with the harness's own key share)",
        port: 443,
        steps: STEP_KINDS,
        settings: SETTING_KEYS,
        describe: describe::describe,
    }

    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        Ok(record::decode(buf, from == Direction::Client)?.map(|r| r.raw))
    }

    fn check_variable(&self, name: &str, value: &str) -> Result<(), String> {
        let one = BTreeMap::from([(name.to_string(), value.to_string())]);
        constraints::Constraints::from_variables(&one)?;
        constraints::recorded_key_shares(&one).map(|_| ())
    }

    fn speaks_tls(&self) -> bool {
        true
    }

    super::offers!(Recordings, Distinguish);
}

impl Recordings for Tls {
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        let offer = client_messages.iter().find_map(|m| hello::offer(m));
        RecordedIdentity {
            versions: offer.map(|o| {
                o.versions
                    .iter()
                    // GREASE values (RFC 8701) are noise a client adds, not what it speaks.
                    .filter(|v| !is_grease(**v))
                    .map(|v| names::version_name(*v))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            client: None,
            account: None,
        }
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
}

impl Distinguish for Tls {
    fn client_signature(&self, client_messages: &[&[u8]]) -> String {
        signature::signature(client_messages)
    }

    fn distinctions(&self, client_messages: &[&[u8]]) -> Vec<String> {
        signature::distinctions(client_messages)
    }

    fn fingerprint(&self, client_messages: &[&[u8]]) -> Option<String> {
        let offer = client_messages.iter().find_map(|m| hello::offer(m))?;
        Some(format!("ja4 {}", ja4::ja4(&offer)))
    }
}

impl Protocol for Tls {
    type Step = request::TlsRequest;
    type Settings = Deprecations;

    fn step(&self, source: &StepSource<'_>) -> Result<Self::Step, StepError> {
        request::compile(source)
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &Self::Settings,
    ) -> Box<dyn Conversation<Self::Step>> {
        Box::new(TlsConversation::new(settings.clone()))
    }

    fn replay(&self, message: &[u8], _account: Option<&str>) -> Result<Step<Self::Step>, String> {
        request::replay(message).map(Step::Own)
    }
}

/// `0x0a0a`, `0x1a1a`, ... `0xfafa`: the values RFC 8701 reserves for GREASE.
pub(crate) fn is_grease(value: u16) -> bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::typed_text_step;

    #[test]
    fn a_recorded_identity_leaves_out_grease_versions() {
        let hello = typed_text_step(
            &Tls,
            "hello versions=0x0a0a,TLSv1.3,0xfafa,TLSv1.2 ciphers=TLS_AES_128_GCM_SHA256",
        )
        .unwrap();
        let mut conversation = Protocol::conversation(&Tls, None, &Default::default());
        let bytes = conversation.send(&hello, &BTreeMap::new()).unwrap();
        let identity = Tls.recorded_identity(&[&bytes]);
        assert_eq!(identity.versions.as_deref(), Some("TLSv1.3 TLSv1.2"));
        assert!(!is_grease(0x0a0b));
    }
}
