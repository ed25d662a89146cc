//! What a dialect knows with no typed step or settings of its own: its name and port, its
//! framing, how it reads a client in recorded bytes, and how it shows and redacts messages.
//! Both the typed [`super::Protocol`] a dialect implements and the type-erased
//! [`super::Dialect`] the core holds build on it.

use super::{Doc, FrameError, Framer, RecordedIdentity};
use crate::direction::Direction;
use crate::server::ReferenceServer;
use bytes::{Bytes, BytesMut};

/// A protocol on the wire and in recordings, before any step is compiled.
pub trait Wire: Send + Sync {
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

    /// Takes one whole message off the front of `buf` (sent by `from`): `Ok(None)` when more
    /// bytes are needed. The one framer for live replies and recordings alike.
    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError>;
    /// A framer with state of its own for one direction of one connection, for a protocol
    /// whose framing needs one; `None` (the default) frames with [`frame`](Wire::frame).
    /// Callers go through [`framer`](super::framer).
    fn own_framer(&self, from: Direction) -> Option<Box<dyn Framer + '_>> {
        let _ = from;
        None
    }
    /// The client's identity in the client side of a recorded session.
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity;
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
