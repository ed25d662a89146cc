//! Dialects: everything protocol-specific lives here, behind the [`Dialect`] trait. A dialect
//! frames bytes (live and recorded alike), compiles and checks its step syntax and its typed
//! settings when a suite loads, speaks as a client and classifies the server's replies, reads
//! identities in recordings, redacts and describes messages for people, and may bring a
//! reference server. Suite loading, the runner, capture import, reports, snapshots and the CLI
//! only ever hold a `&dyn Dialect`.
//!
//! Adding a protocol means adding one module here and one line in [`registry`] (or, from
//! outside the crate, one call to [`register`]).

pub mod declarative;
mod framer;
pub mod http;
pub mod msnp;
pub mod mysql;
pub mod postgres;
mod registry;
mod reply_classes;
mod settings;
pub mod ssh;
mod step;
pub mod tls;

pub use framer::{Framer, Stateless, framer};
pub use registry::{all, by_name, names, register, unknown};
pub use reply_classes::{ClassList, RefusalClass, RefusalClasses, refusal_lists};
pub use settings::{SettingError, Settings, string_list, whole_number};
pub use step::{Payload, Request, StepError, StepSource, downcast, text_step};

use crate::direction::Direction;
use crate::server::ReferenceServer;
use crate::verdict::Verdict;
use bytes::{Bytes, BytesMut};
use std::collections::BTreeMap;

/// The identity a case declares for its client (family and version), used where the client
/// never states it on the wire.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub client: String,
    pub version: String,
}

impl std::fmt::Display for Identity {
    /// `curl 8.5.0`, or `psql` where no version is known.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.version.as_str() {
            "" => f.write_str(&self.client),
            version => write!(f, "{} {version}", self.client),
        }
    }
}

/// How a conversation ended without the classifier deciding first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The server closed its side (read returned end of stream, or writes were refused).
    Closed,
    /// The server reset the connection.
    Reset,
    /// The case ran out of steps (or a step's expectation failed) before a verdict.
    ScriptEnded,
}

/// One message from the server, as the dialect understood it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The message as text, for `expect`/`capture` patterns and reports.
    pub text: String,
    /// This message answers the request the client sent last (MSNP: same TrID).
    pub answers_request: bool,
    /// This is the message a replayed recording's reply is compared with (usually the one
    /// that answers; TLS: the record holding the ServerHello, though its flight goes on).
    pub compared: bool,
    /// The classifier has decided; the conversation is over.
    pub verdict: Option<Verdict>,
    /// The server agreed to continue over TLS (an in-band upgrade such as STARTTLS): the
    /// runner starts a TLS handshake on the same connection before the next step.
    pub upgrade_to_tls: bool,
    /// The server told the client to go on with the part of its request it held back (HTTP's
    /// `100 Continue`, see [`Conversation::held_back`]).
    pub go_ahead: bool,
}

impl Received {
    /// A message that answers the request and decides nothing yet.
    pub fn reply(text: String) -> Received {
        Received {
            text,
            answers_request: true,
            compared: true,
            verdict: None,
            upgrade_to_tls: false,
            go_ahead: false,
        }
    }

    /// A message beside the point (a notice, an informational response): it neither answers
    /// the request nor decides.
    pub fn aside(text: String) -> Received {
        Received {
            answers_request: false,
            compared: false,
            ..Received::reply(text)
        }
    }

    /// A message that answers the request and decides the verdict.
    pub fn decided(text: String, verdict: Verdict) -> Received {
        Received {
            verdict: Some(verdict),
            ..Received::reply(text)
        }
    }
}

/// A framing failure: the peer's bytes are not this protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FrameError(pub String);

/// Why a step could not be turned into bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// A variable the step uses has no value (the pattern meant to capture it did not match).
    Unset(String),
    /// The expanded step is not something the dialect can send.
    Invalid(String),
}

/// A request whose first part goes alone, the rest once the server says go on or after a wait
/// (HTTP's `Expect: 100-continue`: the head, then the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldBack {
    /// How many of the request's bytes go first.
    pub first: usize,
    /// How long the client waits for the server's go-ahead before sending the rest anyway.
    pub wait: std::time::Duration,
}

/// One client connection's protocol state: what was asked, what came back, and the verdict.
/// Pure and synchronous: the runner does the I/O and feeds it whole messages.
pub trait Conversation: Send {
    /// The bytes of one step, its variables filled from `values` (and from the conversation's
    /// own state, e.g. MSNP's transaction ids); notes it as the request now outstanding.
    fn send(
        &mut self,
        request: &dyn Request,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError>;
    /// Notes a recorded client message as sent, without sending anything: judging a
    /// recording feeds both sides to the classifier as they happened.
    fn observe_sent(&mut self, message: &[u8]);
    /// Takes the case variables that say what the client can do (PostgreSQL's `sslmode`),
    /// before any message: judging a recording declares what its replay would declare, what
    /// the recording implies of its client ([`Dialect::replay_ending`]) and what a reviewer
    /// wrote, so both come to the same verdict. The default reads none.
    fn declare(&mut self, values: &BTreeMap<String, String>) {
        let _ = values;
    }
    /// Takes one whole message from the server, framed by [`Dialect::frame`].
    fn receive(&mut self, message: Bytes) -> Received;
    /// Whether the request just sent (`request`, as [`send`](Conversation::send) made it)
    /// goes in two parts, the second after the server's go-ahead ([`Received::go_ahead`]) or
    /// a wait; `None` (the default): all at once.
    fn held_back(&self, request: &[u8]) -> Option<HeldBack> {
        let _ = request;
        None
    }
    /// A server message whose start came a while ago and whose end has not (an HTTP body
    /// still coming, see [`Framer::partial`]): the verdict when its start already decides,
    /// as a client that acts on it would. `None` (the default): wait for its end.
    fn unfinished(&mut self, message: &[u8]) -> Option<Verdict> {
        let _ = message;
        None
    }
    /// Bytes the client sends at once in answer to the message just received, computed by
    /// the conversation (PostgreSQL's password, MD5 or SCRAM answers when the suite gives a
    /// password): the runner sends them and goes on waiting for the step's reply. `None` (the
    /// default): nothing.
    fn respond(&mut self) -> Option<Bytes> {
        None
    }
    /// The handshake stage in progress (MSNP: `VER`, `CVR`, `USR`, ...).
    fn stage(&self) -> String;
    /// A verdict the classifier holds but that later messages may still refine.
    fn pending(&self) -> Option<Verdict>;
    /// The verdict when the conversation ends before the classifier decided.
    fn ended(&mut self, how: Ending) -> Verdict;
    /// Bytes to send politely after a verdict, before closing.
    fn farewell(&self) -> Option<Bytes>;
    /// The message just sent (or seen) opens TLS at once, with no answer in between (MySQL's
    /// SSLRequest): the runner starts its TLS handshake before waiting for any reply, and a
    /// recording is encrypted from the next message on. The default: never.
    fn tls_follows(&self) -> bool {
        false
    }
    /// The client has signed out (MSNP: `OUT`): a close after it is the client's doing.
    fn client_left(&self) -> bool {
        false
    }
}

/// The client's identity as a recorded session shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedIdentity {
    /// The protocol versions the client offered (MSNP: the VER list; TLS: supported versions).
    pub versions: Option<String>,
    /// The client's name and version as it stated them (MSNP: CVR/CVQ).
    pub client: Option<Identity>,
    /// The account the session logged in as; on replay it becomes the variable the dialect
    /// names in [`Dialect::account_variable`].
    pub account: Option<String>,
}

/// What [`Dialect::replay_ending`] adds to a recording's replay.
#[derive(Debug, Default)]
pub struct ReplayEnding {
    /// Case variables the recording implies.
    pub variables: Vec<(String, String)>,
    /// Steps after the recorded ones, with why they are there.
    pub steps: Vec<(Box<dyn Request>, &'static str)>,
}

/// One line of `harness dialects`: a step kind or a settings key, and what it does.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Doc {
    pub name: &'static str,
    pub about: &'static str,
}

/// A protocol the harness can speak as a client, and read in recordings.
pub trait Dialect: Send + Sync {
    /// The name suites, case files and `--dialect` use.
    fn name(&self) -> &'static str;
    /// One line for `harness dialects`.
    fn summary(&self) -> &'static str;
    /// The server port that identifies this protocol's traffic in a capture.
    fn default_port(&self) -> u16;
    /// The file a declarative dialect was read from; `None` for one written in Rust.
    fn source_file(&self) -> Option<&std::path::Path> {
        None
    }
    /// The server speaks first (SMTP's, IMAP's, POP3's, FTP's greeting): the runner reads
    /// its greeting before the first step is sent, and the conversation judges it.
    fn server_speaks_first(&self) -> bool {
        false
    }

    /// The step forms a case file may use, for `harness dialects`.
    fn step_kinds(&self) -> &'static [Doc];
    /// The keys `[dialect_settings]` accepts; any other key is a load error.
    fn setting_keys(&self) -> &'static [Doc] {
        &[]
    }
    /// Variables the dialect fills itself when a step is sent (MSNP: `trid`).
    fn variables(&self) -> &'static [&'static str] {
        &[]
    }
    /// Checks a case variable the dialect reads itself (TLS: `min_dh_bits`, ...) when the case
    /// loads, so a bad value is a load error at its line rather than a failed run.
    fn check_variable(&self, name: &str, value: &str) -> Result<(), String> {
        let _ = (name, value);
        Ok(())
    }
    /// Reads the suite's `[dialect_settings]` (keys already checked against
    /// [`setting_keys`](Dialect::setting_keys)) into the dialect's typed settings.
    fn settings(&self, table: &BTreeMap<String, toml::Value>) -> Result<Settings, SettingError> {
        let _ = table;
        Ok(Settings::none())
    }
    /// Compiles one step of a case file, checking its syntax before anything runs.
    fn step(&self, source: &StepSource<'_>) -> Result<Box<dyn Request>, StepError>;

    /// Takes one whole message off the front of `buf` (sent by `from`): `Ok(None)` when more
    /// bytes are needed. The one framer for live replies and recordings alike.
    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError>;
    /// A framer with state of its own for one direction of one connection, for a protocol
    /// whose framing needs one; `None` (the default) frames with [`frame`](Dialect::frame).
    /// Callers go through [`framer`].
    fn own_framer(&self, from: Direction) -> Option<Box<dyn Framer + '_>> {
        let _ = from;
        None
    }
    /// One connection's client state and classifier.
    fn conversation(
        &self,
        declared: Option<&Identity>,
        settings: &Settings,
    ) -> Box<dyn Conversation>;

    /// The client's identity in the client side of a recorded session.
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity;
    /// The client's identity as the suite's settings say where it is, when they say so
    /// (HTTP: `version_header`, `api_version_path`); `None` keeps the recording's own. The
    /// client's messages are read only when the settings need them.
    fn identity_in(
        &self,
        settings: &Settings,
        client_messages: &mut dyn Iterator<Item = Vec<u8>>,
    ) -> Option<RecordedIdentity> {
        let _ = (settings, client_messages);
        None
    }
    /// A fingerprint of the client's handshake that traffic logs carry too (TLS: `ja4 ...`),
    /// to match a recorded client to the same client in a server's own logs.
    fn fingerprint(&self, client_messages: &[&[u8]]) -> Option<String> {
        let _ = client_messages;
        None
    }
    /// What the server sees of a recorded client's handshake (its first client messages),
    /// with what changes from session to session set aside: what replay rewrites or redacts
    /// (nonces, key shares, TrIDs, Host, SNI, passwords). Sessions with the same signature
    /// are one client as the server sees it; the account is set aside by the caller.
    fn client_signature(&self, client_messages: &[&[u8]]) -> String {
        client_messages
            .first()
            .map(|m| self.normalize(&self.describe(Direction::Client, m)))
            .unwrap_or_default()
    }
    /// Short traits that tell a recorded client apart from others with its name and version,
    /// most telling first (HTTP: its HTTP and API versions; TLS: its highest version and
    /// JA4; SSH: its first choices of key exchange, host key, cipher and MAC; PostgreSQL: its
    /// protocol, encryption request and startup parameters).
    fn distinctions(&self, client_messages: &[&[u8]]) -> Vec<String> {
        let _ = client_messages;
        Vec::new()
    }
    /// The dialect is TLS itself: a ClientHello opening a session is its own handshake to
    /// judge, not an encryption for [`crate::decrypt`] to read through.
    fn speaks_tls(&self) -> bool {
        false
    }
    /// Whether a recorded session whose first client message is `first` starts with the
    /// handshake; one that does not (it began before the capture did, or is other traffic on
    /// the port) cannot be replayed or judged.
    fn opens_handshake(&self, first: &[u8]) -> bool;
    /// The variable a recorded account is replaced by on replay (MSNP: `email`).
    fn account_variable(&self) -> Option<&'static str> {
        None
    }
    /// A recorded client message as a step; `Err` says why it cannot be replayed.
    fn replay(&self, message: &[u8], account: Option<&str>) -> Result<Box<dyn Request>, String>;
    /// What replaying a recording needs beyond its own messages, judged by the client's last
    /// one: what the recording implies of the client (PostgreSQL: one that hung up when refused
    /// TLS requires it), and the steps it would have sent had the server answered otherwise.
    fn replay_ending(&self, last: &[u8]) -> ReplayEnding {
        let _ = last;
        ReplayEnding::default()
    }
    /// What replaying a recording changes, for the header of a capture case file.
    fn replay_note(&self) -> &'static str;
    /// Whether, in a recording, `reply` is the server's answer to `request`.
    fn answers(&self, request: &[u8], reply: &[u8]) -> bool;
    /// A described message with its volatile values (transaction ids, challenges, nonces)
    /// replaced, so a recorded reply and a live one compare equal when they mean the same.
    fn normalize(&self, described: &str) -> String {
        described.to_string()
    }
    /// Text (a message, a reason) with the values that change on every run (challenges,
    /// nonces, tickets, timestamps) replaced by placeholders; what a snapshot stores.
    fn redact(&self, text: &str) -> String {
        text.to_string()
    }
    /// A message as people read it, one or more lines joined by `\n`: the one renderer of
    /// messages for snapshots, reports, `inspect` and divergence lines.
    fn describe(&self, from: Direction, bytes: &[u8]) -> String;

    /// Session number `n` of made-up but typical traffic, for the import benchmark; none
    /// when the dialect makes none.
    fn synthetic_session(&self, n: u64) -> Vec<(Direction, Vec<u8>)> {
        let _ = n;
        Vec::new()
    }

    /// The reference server this dialect brings, if any.
    fn reference_server(&self) -> Option<&dyn ReferenceServer> {
        None
    }
}

/// Bytes that are not a whole message of the dialect, described for people: the text when
/// it is printable, else its length and first bytes in hex.
pub fn describe_unframed(bytes: &[u8]) -> String {
    match crate::printable::as_text(bytes) {
        Some(text) => {
            let text = text
                .strip_suffix("\r\n")
                .or_else(|| text.strip_suffix('\n'))
                .unwrap_or(text);
            text.split("\r\n").collect::<Vec<_>>().join("\n")
        }
        _ => {
            let shown = &bytes[..bytes.len().min(32)];
            let more = if bytes.len() > shown.len() { "…" } else { "" };
            format!("{} bytes: {}{more}", bytes.len(), hex::encode(shown))
        }
    }
}

impl std::fmt::Debug for dyn Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
