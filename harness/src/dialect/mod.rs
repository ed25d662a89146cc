//! Dialects: everything protocol-specific lives here, behind the [`Dialect`] trait. A dialect
//! frames bytes (live and recorded alike), compiles and checks its step syntax and its typed
//! settings when a suite loads, speaks as a client and classifies the server's replies, reads
//! identities in recordings, redacts and describes messages for people, and may bring a
//! reference server. Suite loading, the runner, capture import, reports, snapshots and the CLI
//! only ever hold a `&dyn Dialect`.
//!
//! Adding a protocol means adding one module here and one line in [`registry`] (or, from
//! outside the crate, one call to [`register`]).

mod capabilities;
pub mod declarative;
mod erased;
mod framer;
pub mod http;
pub mod msnp;
pub mod mysql;
pub mod postgres;
mod protocol;
mod redact;
mod registry;
mod reply_classes;
mod settings;
pub mod ssh;
mod step;
pub mod tls;
pub mod verbs;
mod wire;

pub(crate) use capabilities::offers;
pub use capabilities::{Distinguish, IdentityInTraffic, Recordings, Signatures};
pub use erased::Settings;
pub use framer::{Framer, Stateless, framer, line_end, take_through};
pub use protocol::{Dialect, Protocol};
pub use redact::{Redaction, Redactions};
pub use registry::{all, by_name, names, register, unknown};
pub use reply_classes::{ClassList, RefusalClass, RefusalClasses, refusal_lists};
pub use settings::{FromSettings, SettingError, string_list, whole_number};
pub use step::{
    Payload, Request, Step, StepError, StepKind, StepSource, text_step, typed_text_step,
};
pub use wire::Wire;
pub(crate) use wire::facts;

use crate::verdict::Verdict;
use bytes::Bytes;
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

impl Ending {
    /// What the server did to the connection, as a reason says it: `reset`, else `closed`.
    pub fn verb(self) -> &'static str {
        match self {
            Ending::Reset => "reset",
            Ending::Closed | Ending::ScriptEnded => "closed",
        }
    }
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

/// A framing failure: the peer's bytes cannot be taken as this protocol's messages. Each case
/// says what its framer saw, as people read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The bytes are not this protocol at all (a first byte no message starts with, a line
    /// that is not text or no command).
    #[error("{0}")]
    Foreign(String),
    /// A message, or the length it announces, is over the limit the framer holds.
    #[error("{0}")]
    TooLong(String),
    /// A message of this protocol that contradicts itself (two Content-Lengths, more padding
    /// than packet, a chunk that does not end where it says).
    #[error("{0}")]
    Malformed(String),
}

/// Why a step could not be turned into bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A variable the step uses has no value (the pattern meant to capture it did not match).
    #[error("variable `{0}` has no value")]
    Unset(String),
    /// The step with its variables filled in is not one the dialect sends (a value that is
    /// not a number, a word that is not key=value, a verb the dialect does not know).
    #[error("{0}")]
    Malformed(String),
    /// A variable's value holds a line break, which would end the line early.
    #[error("a variable's value holds a line break")]
    LineBreak,
    /// A case variable the dialect reads itself (TLS: `min_dh_bits`) has a value it cannot use.
    #[error("{0}")]
    Variable(String),
    /// The step needs what the server has not sent yet (SSH: its KEXINIT).
    #[error("the server has sent no {0} yet")]
    TooEarly(&'static str),
    /// The step needs what the harness cannot make (SSH: an unknown key exchange's key).
    #[error("the harness cannot make {0}")]
    CannotMake(String),
    /// The system gave no fresh random value (a cookie, a key).
    #[error("{0}")]
    NoRandom(&'static str),
    /// A recorded message cannot be changed as the run asks (TLS: its server name).
    #[error("the recorded {0} cannot be rewritten")]
    Unrewritable(&'static str),
    /// The step was compiled by another dialect than the conversation's; only the erased
    /// wrapper ([`erased`]) can tell.
    #[error("this step was compiled for another dialect")]
    OtherDialect,
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
/// Pure and synchronous: the runner does the I/O and feeds it whole messages. A dialect's
/// conversation takes its own compiled steps (`Step`); the core holds one taking erased ones.
pub trait Conversation<Step: ?Sized = dyn Request>: Send {
    /// Readies the conversation for a step of `kind` about to be sent with `values` (reading
    /// the case variables it needs; TLS: noting that `send_hex` sends its own key shares;
    /// MSNP: taking the next TrID). The core calls it once before every step it sends, raw
    /// and recorded ones too; the default does nothing.
    fn prepare(
        &mut self,
        kind: StepKind,
        values: &BTreeMap<String, String>,
    ) -> Result<(), SendError> {
        let _ = (kind, values);
        Ok(())
    }
    /// The bytes of one of the dialect's own steps, its variables filled from `values` (and
    /// from the conversation's own state, e.g. MSNP's transaction ids). The core then notes
    /// them with [`observe_sent`](Conversation::observe_sent), as it does raw and recorded ones.
    fn send(
        &mut self,
        request: &Step,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError>;
    /// The bytes a recorded client message goes out as: by default as recorded; a dialect
    /// whose live server needs it otherwise rewrites it (SSH: a key-exchange init for the
    /// method the live server chose; MySQL: the scramble for the live nonce).
    fn send_recorded(
        &mut self,
        message: &[u8],
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        let _ = values;
        Ok(Bytes::copy_from_slice(message))
    }
    /// Notes a client message as sent: every message a step sent, and in a recording being
    /// judged every client message, without sending anything, so that the classifier sees
    /// both sides as they happened.
    fn observe_sent(&mut self, message: &[u8]);
    /// Takes the case variables that say what the client can do (PostgreSQL's `sslmode`),
    /// before any message: judging a recording declares what its replay would declare, what
    /// the recording implies of its client ([`Dialect::replay_ending`]) and what a reviewer
    /// wrote, so both come to the same verdict; a live run declares the case's variables before
    /// every step it sends, so reading them once is enough. The default reads none.
    fn declare(&mut self, values: &BTreeMap<String, String>) {
        let _ = values;
    }
    /// Takes one whole message from the server, framed by [`Wire::frame`].
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
    /// The server chose TLS `version` (0x0302: TLS 1.1) after the upgrade this conversation
    /// agreed to: the warnings the dialect gives that version, which its later admissions
    /// carry. The default gives none.
    fn tls_negotiated(&mut self, version: u16) -> Vec<String> {
        let _ = version;
        Vec::new()
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
    /// names in [`Wire::account_variable`].
    pub account: Option<String>,
}

/// What [`Protocol::replay_ending`] adds to a recording's replay; its steps are the dialect's
/// own (`Step`), or erased ones as the core holds them.
#[derive(Debug)]
pub struct ReplayEnding<Step = Box<dyn Request>> {
    /// Case variables the recording implies.
    pub variables: Vec<(String, String)>,
    /// Steps after the recorded ones, with why they are there.
    pub steps: Vec<(Step, &'static str)>,
}

impl<Step> Default for ReplayEnding<Step> {
    fn default() -> Self {
        ReplayEnding {
            variables: Vec::new(),
            steps: Vec::new(),
        }
    }
}

/// One line of `harness dialects`: a step kind or a settings key, and what it does.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Doc {
    pub name: &'static str,
    pub about: &'static str,
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
