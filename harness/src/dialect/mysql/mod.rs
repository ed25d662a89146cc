//! MySQL and MariaDB's client/server protocol: which drivers still connect when
//! mysql_native_password goes, accounts move to caching_sha2_password or ed25519, and TLS
//! is required? The server greets (Handshake v10), the client answers (an SSLRequest and TLS,
//! then its HandshakeResponse41), and authentication runs to the server's OK or ERR. Case
//! variables `client_plugins`, `ssl_mode`, `public_key` say what a client can do, `password`
//! lets the harness finish authentication; `[dialect_settings]` says what warns and which
//! errors are a busy server.

mod conversation;
mod describe;
pub mod framing;
pub mod packets;
mod policy;
mod request;
pub mod scramble;
mod signature;

use super::{
    Conversation, Distinguish, Doc, FrameError, Framer, Identity, Protocol, RecordedIdentity,
    Recordings, ReplayEnding, StepError, StepSource, Wire,
};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};
use conversation::MysqlConversation;
use framing::{MysqlFramer, is_ssl_request, is_tls_record, sequence};
use packets::ClientHello;
use policy::MysqlPolicy;
use request::MysqlRequest;

pub use conversation::PROBE_PLUGIN;
pub use describe::describe;

/// The MySQL/MariaDB dialect.
pub struct Mysql;

const STEP_KINDS: &[Doc] = &[
    Doc {
        name: "send = \"ssl\"",
        about: "an SSLRequest: TLS starts right after it, with no answer in between",
    },
    Doc {
        name: "send = \"handshake user=... [database=...] [plugin=...] [capabilities=0x...] [charset=N] [attr.NAME=VALUE ...]\"",
        about: "a HandshakeResponse41; with {password} the harness answers every challenge to the server's OK or ERR, without one it names no plugin, so the server asks for the account's and that decides",
    },
    Doc {
        name: "send = \"quit\"",
        about: "COM_QUIT",
    },
    Doc {
        name: "send_hex",
        about: "raw bytes, sent as they are",
    },
    Doc {
        name: "[variables] client_plugins, ssl_mode, public_key, password",
        about: "what the client can do: plugins (e.g. `mysql_native_password,caching_sha2_password`), ssl_mode (`required` needs TLS), public_key=request (asks for the RSA key); the password to authenticate with",
    },
];

const SETTING_KEYS: &[Doc] = &[
    Doc {
        name: policy::DEPRECATED_PLUGINS,
        about: "plugins that make an admission a warning (default mysql_native_password, mysql_old_password, sha256_password)",
    },
    Doc {
        name: policy::BUSY,
        about: "error numbers of a busy server, never a lockout (default 1040, 1053, 1203, 1226)",
    },
    Doc {
        name: policy::ERROR,
        about: "error numbers that are faults, not policy (default 1037, 1041, 1043, 1105, 1158-1161)",
    },
    Doc {
        name: policy::LOCKED_OUT,
        about: "error numbers that lock out (default: every one no other list names; 1045 is a password error)",
    },
    Doc {
        name: policy::REFUSED_IN_CLEAR,
        about: "true: a 1045 to a client without TLS that answered with the suite's password is the server refusing clear text (MariaDB's require_secure_transport, REQUIRE SSL)",
    },
];

impl Wire for Mysql {
    super::facts! {
        name: "mysql",
        summary: "MySQL and MariaDB drivers against servers retiring mysql_native_password and requiring TLS; decides at OK or ERR with a `password`, else at the authentication request",
        port: 3306,
        steps: STEP_KINDS,
        settings: SETTING_KEYS,
        describe: describe::describe,
        redactions: describe::REDACTIONS,
    }

    fn server_speaks_first(&self) -> bool {
        true
    }

    fn check_variable(&self, name: &str, value: &str) -> Result<(), String> {
        const MODES: &[&str] = &[
            "disabled",
            "preferred",
            "required",
            "verify_ca",
            "verify_identity",
        ];
        match name {
            "ssl_mode" if !MODES.contains(&value.to_ascii_lowercase().as_str()) => Err(format!(
                "`{value}` is not an ssl_mode ({})",
                MODES.join(", ")
            )),
            "public_key" if !["request", "none"].contains(&value) => {
                Err(format!("`{value}` is not request or none"))
            }
            _ => Ok(()),
        }
    }

    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        MysqlFramer::new(from == Direction::Client).next(buf)
    }

    fn own_framer(&self, from: Direction) -> Option<Box<dyn Framer + '_>> {
        Some(Box::new(MysqlFramer::new(from == Direction::Client)))
    }

    fn recordings(&self) -> Option<&dyn Recordings> {
        Some(self)
    }

    fn distinguish(&self) -> Option<&dyn Distinguish> {
        Some(self)
    }
}

impl Recordings for Mysql {
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        let tls = client_messages.iter().any(|m| is_ssl_request(m));
        let response = signature::response(client_messages);
        let mut versions = Vec::new();
        if let Some(r) = &response {
            versions.push(match r.capabilities & packets::caps::PROTOCOL_41 {
                0 => "protocol 320".to_string(),
                _ => "protocol 41".to_string(),
            });
            if let Some(plugin) = &r.plugin {
                versions.push(format!("plugin {plugin}"));
            }
        }
        if tls {
            versions.push("TLS requested".into());
        }
        RecordedIdentity {
            versions: (!versions.is_empty()).then(|| versions.join(", ")),
            client: response.as_ref().map(signature::driver),
            account: response.map(|r| r.user),
        }
    }

    fn opens_handshake(&self, first: &[u8]) -> bool {
        sequence(first) == Some(1) && packets::client_hello(&framing::payload(first)).is_some()
    }

    /// None: a recorded handshake goes as the suite's `{user}` where the suite gives one, and
    /// as recorded where it does not (an imported suite checks as written).
    fn account_variable(&self) -> Option<&'static str> {
        None
    }

    fn replay_note(&self) -> &'static str {
        "(the handshake goes as the suite's {user} where it gives one, its scramble recomputed for the live server from {password}; a handshake it sent inside TLS is unreadable, and one with its SSLRequest's flags is sent in its place)"
    }

    fn answers(&self, request: &[u8], reply: &[u8]) -> bool {
        match (sequence(request), sequence(reply)) {
            (Some(asked), Some(answer)) => {
                !is_tls_record(request)
                    && !is_tls_record(reply)
                    && answer == asked.wrapping_add(1)
                    && !matches!(
                        packets::client_hello(&framing::payload(request)),
                        Some(ClientHello::SslRequest { .. })
                    )
            }
            _ => false,
        }
    }
}

impl Distinguish for Mysql {
    fn client_signature(&self, client_messages: &[&[u8]]) -> String {
        signature::signature(client_messages)
    }

    fn distinctions(&self, client_messages: &[&[u8]]) -> Vec<String> {
        signature::distinctions(client_messages)
    }
}

impl Protocol for Mysql {
    type Step = MysqlRequest;
    type Settings = MysqlPolicy;

    fn step(&self, source: &StepSource<'_>) -> Result<Self::Step, StepError> {
        request::compile(source)
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &Self::Settings,
    ) -> Box<dyn Conversation<Self::Step>> {
        Box::new(MysqlConversation::new(settings.clone()))
    }

    /// A client that hung up right after its SSLRequest (the recording stopped there) goes
    /// on inside TLS with a handshake.
    fn replay_ending(&self, last: &[u8]) -> ReplayEnding<Self::Step> {
        if !is_ssl_request(last) {
            return ReplayEnding::default();
        }
        ReplayEnding {
            variables: vec![("ssl_mode".into(), "required".into())],
            steps: vec![(
                MysqlRequest::SuiteHandshake,
                "the handshake it would send over TLS, for the suite's user",
            )],
        }
    }
}
