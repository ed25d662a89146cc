//! Dialects: everything protocol-specific. A dialect frames bytes into messages and classifies
//! the server's replies; the runner, suites and reports know nothing of the protocol. Adding a
//! protocol means adding one module here and one line in [`by_name`].

pub mod msnp;
pub mod tls;

pub use crate::runner::Direction;
use crate::verdict::Verdict;
use bytes::{Bytes, BytesMut};

/// The identity a case declares for its client (family and version), used where the client
/// never states it on the wire.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub client: String,
    pub version: String,
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
    /// The bytes as they came off the wire.
    pub raw: Bytes,
    /// The message as text, for `expect`/`capture` patterns and reports.
    pub text: String,
    /// This message answers the request the client sent last (MSNP: same TrID).
    pub answers_request: bool,
    /// The classifier has decided; the conversation is over.
    pub verdict: Option<Verdict>,
}

/// A framing failure: the server's bytes are not this protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FrameError(pub String);

/// One client connection's protocol state: framing, request tracking and classification.
pub trait Conversation: Send {
    /// Turns one expanded step (a line and an optional body) into the bytes to send, and notes
    /// it as the request now outstanding.
    fn send(&mut self, line: &str, body: Option<&str>) -> Result<Bytes, String>;
    /// Takes one whole message off the front of `buf`: `Ok(None)` when more bytes are needed.
    fn receive(&mut self, buf: &mut BytesMut) -> Result<Option<Received>, FrameError>;
    /// The handshake stage in progress (MSNP: `VER`, `CVR`, `USR`, ...).
    fn stage(&self) -> String;
    /// A verdict the classifier holds but that later messages may still refine.
    fn pending(&self) -> Option<Verdict>;
    /// The verdict when the conversation ends before the classifier decided.
    fn ended(&mut self, how: Ending) -> Verdict;
    /// Bytes to send politely after a verdict, before closing.
    fn farewell(&self) -> Option<Bytes>;
}

/// The client's identity as a recorded session shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedIdentity {
    /// The protocol versions the client offered (MSNP: the VER list).
    pub versions: Option<String>,
    /// The client's name and version as it stated them (MSNP: CVR/CVQ).
    pub client: Option<Identity>,
    /// The account the session logged in as, replaced by `{email}` on replay.
    pub account: Option<String>,
}

/// One recorded client message turned into a replayable step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayStep {
    /// A step template: literal braces escaped, volatile values as variables (`{trid}`).
    pub send: String,
    pub body: Option<String>,
}

/// A protocol the harness can speak as a client, and read in recordings.
pub trait Dialect: Send + Sync {
    fn name(&self) -> &'static str;
    /// One connection's state. `settings` is the suite's `[dialect_settings]` table.
    fn conversation(
        &self,
        declared: Option<&Identity>,
        settings: &toml::Table,
    ) -> Box<dyn Conversation>;
    /// The server port that identifies this protocol's traffic in a capture.
    fn default_port(&self) -> u16;
    /// Takes one whole message off the front of recorded bytes sent by `from`.
    fn split(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError>;
    /// The client's identity in the client side of a recorded session.
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity;
    /// A recorded client message as a step; `None` when it cannot be replayed as text.
    fn replay_step(&self, message: &[u8], account: Option<&str>) -> Option<ReplayStep>;
    /// Whether, in a recording, `reply` is the server's answer to `request`.
    fn answers(&self, request: &[u8], reply: &[u8]) -> bool;
    /// A message with its volatile values (transaction ids, challenges, nonces) redacted, so a
    /// recorded reply and a live one compare equal when they mean the same.
    fn normalize(&self, message: &str) -> String;
    /// Text (a message, a reason) with the values that change on every run (challenges,
    /// nonces, tickets, timestamps) replaced by placeholders; what a snapshot stores.
    fn redact(&self, text: &str) -> String;
    /// A message as text for transcripts and snapshots, when its bytes are not printable.
    fn describe(&self, from: Direction, bytes: &[u8]) -> String {
        let _ = from;
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Every dialect by its name in suite and case files.
pub fn by_name(name: &str) -> Option<&'static dyn Dialect> {
    match name {
        "msnp" => Some(&msnp::Msnp),
        "tls" => Some(&tls::Tls),
        _ => None,
    }
}

/// The names [`by_name`] accepts, for error messages.
pub const NAMES: &[&str] = &["msnp", "tls"];
