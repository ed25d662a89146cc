//! PostgreSQL's frontend/backend protocol: which drivers still connect after an upgrade or a
//! pg_hba.conf change? Startup packets of any protocol version, SSLRequest with its in-band
//! TLS upgrade, and the server's answer up to its authentication request: reaching
//! authentication (with a method the client can perform) is admission. With a `password`
//! variable the harness logs in (cleartext, MD5, SCRAM-SHA-256) and AuthenticationOk admits.
//! Case variables `client_methods` and `sslmode` declare what a client can do;
//! `[dialect_settings] deprecated_methods` what warns.

mod conversation;
mod describe;
pub mod framing;
mod login;
pub mod messages;
mod policy;
mod request;
mod scram;
mod signature;

use super::{
    Conversation, Doc, FrameError, Framer, Identity, Protocol, RecordedIdentity, Recordings,
    ReplayEnding, Signatures, StepError, StepSource, Wire,
};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};
use conversation::PgConversation;
use framing::PgFramer;
use messages::Opening;
use policy::PgPolicy;

pub use describe::describe;

/// The PostgreSQL dialect.
pub struct Postgres;

const STEP_KINDS: &[Doc] = &[
    Doc {
        name: "send = \"startup user=... database=... [protocol=3.0] [name=value ...]\"",
        about: "a StartupMessage (protocol 2.0, 3.0 or 3.2) with these parameters",
    },
    Doc {
        name: "send = \"ssl\"",
        about: "an SSLRequest; the server's S upgrades the connection to TLS, its N declines",
    },
    Doc {
        name: "send = \"gssenc\" | \"cancel pid=N key=N\" | \"terminate\"",
        about: "a GSSENCRequest, a CancelRequest, a Terminate",
    },
    Doc {
        name: "send_hex",
        about: "raw bytes, sent as they are",
    },
    Doc {
        name: "[variables] client_methods, sslmode",
        about: "what the client can do: authentication methods (e.g. `scram-sha-256,md5`) and libpq's sslmode (`require` needs TLS)",
    },
    Doc {
        name: "[variables] password",
        about: "the startup user's password: the harness logs in (cleartext, MD5, SCRAM-SHA-256 without channel binding) and decides at AuthenticationOk; a wrong one is an error. Without it, the verdict is decided at the authentication request",
    },
];

const SETTING_KEYS: &[Doc] = &[
    Doc {
        name: policy::DEPRECATED_METHODS,
        about: "authentication methods that make an admission a warning (default md5, password)",
    },
    Doc {
        name: policy::BUSY,
        about: "SQLSTATEs of a busy server, an error counted as busy and never a lockout: `53300` or a prefix `57P0*` (default 53300, 53400, 57P01, 57P02, 57P03)",
    },
    Doc {
        name: policy::ERROR,
        about: "SQLSTATEs that are server faults, not policy (default 53*, 58*, XX*); an exact code outranks a prefix",
    },
    Doc {
        name: policy::LOCKED_OUT,
        about: "SQLSTATEs that lock out (default: every SQLSTATE no other list names)",
    },
];

const SIGNATURES: Signatures = Signatures::of(signature::signature, signature::distinctions);

impl Wire for Postgres {
    super::facts! {
        name: "postgres",
        summary: "PostgreSQL drivers against servers dropping old protocols, MD5 and clear-text connections; decides at AuthenticationOk with a `password`, else at the authentication request",
        port: 5432,
        steps: STEP_KINDS,
        settings: SETTING_KEYS,
        describe: describe::describe,
        redactions: describe::REDACTIONS,
    }

    /// One message, a startup packet told from a typed message by its first byte; live
    /// replies and recordings use [`own_framer`](super::Wire::own_framer), which also reads the
    /// one-byte answer to an SSLRequest.
    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        PgFramer::guessing(from == Direction::Client, buf).next(buf)
    }

    fn own_framer(&self, from: Direction) -> Option<Box<dyn Framer + '_>> {
        Some(Box::new(PgFramer::new(from == Direction::Client)))
    }

    super::offers!(Recordings, Distinguish(SIGNATURES));
}

impl Recordings for Postgres {
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        let openings: Vec<Opening> = client_messages
            .iter()
            .filter_map(|m| messages::opening(m))
            .collect();
        let mut versions: Vec<String> = Vec::new();
        let mut client = None;
        for opening in &openings {
            match opening {
                Opening::SslRequest => versions.push("TLS requested".into()),
                Opening::GssEncRequest => versions.push("GSS encryption requested".into()),
                Opening::Startup {
                    major,
                    minor,
                    params,
                } => {
                    versions.insert(0, format!("protocol {major}.{minor}"));
                    client = Some(driver(params));
                }
                Opening::Cancel => versions.push("cancel".into()),
            }
        }
        let user = openings.iter().find_map(|o| match o {
            Opening::Startup { params, .. } => params
                .iter()
                .find(|(k, _)| k == "user")
                .map(|(_, v)| v.clone()),
            _ => None,
        });
        RecordedIdentity {
            versions: (!versions.is_empty()).then(|| versions.join(", ")),
            client,
            account: user,
        }
    }

    /// A startup packet, or a TLS hello sent straight away (PostgreSQL 17's
    /// `sslnegotiation=direct`).
    fn opens_handshake(&self, first: &[u8]) -> bool {
        messages::opening(first).is_some_and(|o| !matches!(o, Opening::Cancel))
            || (first.len() > 5 && framing::is_tls(first))
    }

    fn account_variable(&self) -> Option<&'static str> {
        None
    }

    fn replay_note(&self) -> &'static str {
        "(a startup it sent inside TLS is unreadable: inside the live TLS session a startup for the suite's {user} and {database} is sent in its place)"
    }

    fn answers(&self, request: &[u8], reply: &[u8]) -> bool {
        match messages::opening(request) {
            Some(Opening::SslRequest | Opening::GssEncRequest) => reply.len() == 1,
            Some(Opening::Startup { .. }) => matches!(reply.first(), Some(b'R' | b'E' | b'v')),
            _ => false,
        }
    }
}

impl Protocol for Postgres {
    type Step = request::PgRequest;
    type Settings = PgPolicy;

    fn step(&self, source: &StepSource<'_>) -> Result<Self::Step, StepError> {
        request::compile(source)
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &Self::Settings,
    ) -> Box<dyn Conversation<Self::Step>> {
        Box::new(PgConversation::new(settings.clone()))
    }

    /// A client that hung up when refused TLS requires it (libpq's sslmode=require); where a
    /// server accepts TLS, it would have gone on with a startup.
    fn replay_ending(&self, last: &[u8]) -> ReplayEnding<Self::Step> {
        if messages::opening(last) != Some(Opening::SslRequest) {
            return ReplayEnding::default();
        }
        ReplayEnding {
            variables: vec![("sslmode".into(), "require".into())],
            steps: vec![(
                request::PgRequest::SuiteStartup,
                "the startup it would send over TLS, for the suite's user and database",
            )],
        }
    }
}

/// The driver a startup packet's parameters reveal: its `application_name` where it sets
/// one, else what its choice of parameters gives away.
fn driver(params: &[(String, String)]) -> Identity {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    let client = match get("application_name").filter(|a| !a.is_empty()) {
        Some(app) => app.to_string(),
        None if names.contains(&"extra_float_digits") && names.contains(&"DateStyle") => {
            "pgjdbc".into()
        }
        None if get("client_encoding") == Some("'utf-8'") => "asyncpg".into(),
        None => format!("unnamed driver ({})", names.join(",")),
    };
    Identity {
        client,
        version: String::new(),
    }
}
