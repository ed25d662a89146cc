//! SSH: which clients does a hardened server still let in? Identification strings, KEXINITs
//! and key-exchange inits, replayed as recorded (or made by the harness for scripted clients,
//! and for a recorded client whose key does not fit what a differently configured server
//! chose), against the server's KEXINIT and key-exchange reply: the admission point.
//! Negotiation (RFC 4253 section 7.1) names the class that fails; `[dialect_settings]
//! deprecated_algorithms` says what makes an admission a warning.

mod admission;
mod conversation;
mod describe;
pub mod framing;
mod kex;
mod negotiate;
mod policy;
mod reply;
mod request;
mod signature;
pub mod wire;

use super::{
    Conversation, Doc, FrameError, Framer, Identity, Protocol, RecordedIdentity, Recordings,
    Signatures, StepError, StepSource, Wire,
};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};
use conversation::SshConversation;
use framing::SshFramer;
use policy::SshPolicy;

pub use describe::describe;

/// The SSH dialect.
pub struct Ssh;

const STEP_KINDS: &[Doc] = &[
    Doc {
        name: "send = \"SSH-2.0-OpenSSH_7.4\"",
        about: "an identification line (the CRLF is added)",
    },
    Doc {
        name: "send = \"kexinit kex=... hostkey=... ciphers=... macs=... compression=...\"",
        about: "a KEXINIT with these algorithm lists (ciphers and macs for both directions; compression defaults to none)",
    },
    Doc {
        name: "send = \"kex\"",
        about: "the key-exchange message the negotiated method needs next, with a fresh key: curve25519, nistp256/384, DH groups 1/14/16, group exchange",
    },
    Doc {
        name: "send_hex",
        about: "raw bytes, sent as they are",
    },
];

const SETTING_KEYS: &[Doc] = &[
    Doc {
        name: policy::DEPRECATED,
        about: "algorithms (names or globs) that make an admission a warning (default ssh-rsa, ssh-dss, SHA-1 key exchanges, *-cbc, 3des-*, arcfour*, hmac-sha1*, hmac-md5*, umac-64*)",
    },
    Doc {
        name: policy::BUSY,
        about: "DISCONNECT reason codes of a busy server, an error counted as busy and never a lockout (default 12, too many connections)",
    },
    Doc {
        name: policy::ERROR,
        about: "DISCONNECT reason codes that are server faults, not policy (default none)",
    },
    Doc {
        name: policy::LOCKED_OUT,
        about: "DISCONNECT reason codes that lock out (default: every code no other list names)",
    },
];

const SIGNATURES: Signatures = Signatures::of(signature::signature, signature::distinctions);

impl Wire for Ssh {
    super::facts! {
        name: "ssh",
        summary: "SSH clients against servers dropping old key exchanges, host keys, ciphers and MACs; decides at the key-exchange reply",
        port: 22,
        steps: STEP_KINDS,
        settings: SETTING_KEYS,
        describe: describe::describe,
        redactions: describe::REDACTIONS,
    }

    /// One line or packet, told apart by its first byte; live replies and recordings use
    /// [`own_framer`](super::Wire::own_framer), which also knows when encryption starts.
    fn frame(&self, _from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        SshFramer::guessing(buf).next(buf)
    }

    fn own_framer(&self, _from: Direction) -> Option<Box<dyn Framer + '_>> {
        Some(Box::<SshFramer>::default())
    }

    super::offers!(Recordings, Distinguish(SIGNATURES));
}

impl Recordings for Ssh {
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        let ident = client_messages
            .iter()
            .find(|m| m.starts_with(b"SSH-"))
            .map(|m| String::from_utf8_lossy(m).trim_end().to_string());
        let hassh = client_messages
            .iter()
            .filter_map(|m| framing::payload(m))
            .find_map(wire::KexInit::parse)
            .map(|offer| offer.hassh(true));
        let protocol = ident
            .as_deref()
            .and_then(|i| i.split('-').nth(1))
            .map(|v| format!("SSH-{v}"));
        let versions = match (protocol, hassh) {
            (Some(p), Some(h)) => Some(format!("{p}, hassh {h}")),
            (p, h) => p.or(h.map(|h| format!("hassh {h}"))),
        };
        RecordedIdentity {
            versions,
            client: ident.as_deref().and_then(software),
            account: None,
        }
    }

    fn opens_handshake(&self, first: &[u8]) -> bool {
        first.starts_with(b"SSH-")
    }

    fn replay_note(&self) -> &'static str {
        "(a key-exchange init that does not fit the method the live server chooses is made afresh)"
    }

    fn answers(&self, request: &[u8], reply: &[u8]) -> bool {
        if request.starts_with(b"SSH-") {
            return reply.starts_with(b"SSH-");
        }
        let kind = |m: &[u8]| framing::payload(m).and_then(|p| p.first().copied());
        matches!(
            (kind(request), kind(reply)),
            (Some(wire::KEXINIT), Some(wire::KEXINIT))
                | (
                    Some(wire::KEX_INIT | wire::GEX_INIT),
                    Some(wire::KEX_REPLY | wire::GEX_REPLY)
                )
                | (Some(wire::GEX_REQUEST), Some(wire::KEX_REPLY))
        )
    }
}

impl Protocol for Ssh {
    type Step = request::SshRequest;
    type Settings = SshPolicy;

    fn step(&self, source: &StepSource<'_>) -> Result<Self::Step, StepError> {
        request::compile(source)
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &Self::Settings,
    ) -> Box<dyn Conversation<Self::Step>> {
        let policy = settings.clone();
        Box::new(SshConversation::new(policy.deprecations).with_refusals(policy.refusals))
    }
}

/// The software and version an identification names: `SSH-2.0-OpenSSH_9.2p1 Debian-2` is
/// OpenSSH 9.2p1, `SSH-2.0-JSCH-0.1.54` is JSCH 0.1.54.
fn software(ident: &str) -> Option<Identity> {
    let rest = ident.splitn(3, '-').nth(2)?;
    let software = rest.split(' ').next()?;
    let (client, version) = software
        .split_once('_')
        .or_else(|| software.split_once('-'))
        .unwrap_or((software, ""));
    Some(Identity {
        client: client.to_string(),
        version: version.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identification_names_the_software_and_its_version() {
        let named = |ident: &str| software(ident).map(|i| format!("{} {}", i.client, i.version));
        assert_eq!(
            named("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3").as_deref(),
            Some("OpenSSH 9.2p1")
        );
        assert_eq!(
            named("SSH-2.0-paramiko_3.4.0").as_deref(),
            Some("paramiko 3.4.0")
        );
        assert_eq!(named("SSH-2.0-JSCH-0.1.54").as_deref(), Some("JSCH 0.1.54"));
        assert_eq!(named("SSH-2.0-Go").as_deref(), Some("Go "));
        assert_eq!(
            named("SSH-2.0-PuTTY_Release_0.78").as_deref(),
            Some("PuTTY Release_0.78")
        );
    }
}
