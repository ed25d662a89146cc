//! The capture case file: one recorded client connection as reviewable TOML. Provenance first
//! (source file and sha256, addresses, first timestamp, the identity the dialect found), then
//! every message in order: printable ones as text, binary ones as hex, lost bytes as gaps.

use super::flow::Piece;
use super::flows::{End, Flow};
use crate::dialect::{self, Dialect, Framer, Settings};
use crate::direction::Direction;
use bytes::BytesMut;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureFile {
    pub capture: Provenance,
    /// The traffic this session stands for, when `import --group` wrote it for a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionCount>,
    /// What the recording cannot show about its client, declared by whoever reviews it: the
    /// case variables a dialect reads (PostgreSQL's `client_methods`, `sslmode`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub variables: std::collections::BTreeMap<String, String>,
    #[serde(default, rename = "message")]
    pub messages: Vec<RecordedMessage>,
}

/// The sessions of one distinct client that a grouped case stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionCount {
    /// Sessions of this client in the capture.
    pub count: u64,
    /// Distinct accounts among them, where the dialect knows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<usize>,
    /// More accounts were seen than could be told apart: `accounts` is a lower bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accounts_at_least: bool,
    /// When its first and last sessions began (RFC 3339, UTC).
    pub first_seen: String,
    pub last_seen: String,
    /// The first sessions it came from (`#3 127.0.0.1:50312 at 2026-...`), and how many more.
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sources_omitted: u64,
    /// The dialect's signature of the client's handshake, hashed: sessions with the same key
    /// are the same client as the server sees it.
    pub key: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The client's name in reports, as a reviewer (or `import --group`) gave it; without
    /// it, the name and version the recording states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub dialect: String,
    /// The capture file's name, or how the session was recorded.
    pub source: String,
    pub sha256: Option<String>,
    pub client: String,
    pub server: String,
    /// RFC 3339, UTC.
    pub first_timestamp: String,
    /// The capture starts after the connection opened (no SYN seen).
    #[serde(default)]
    pub mid_stream: bool,
    /// How the record ended: fin, reset, reused (a new connection on the same ports),
    /// end-of-capture, idle (no packet for the idle timeout), evicted (let go to keep the
    /// import within its memory bounds), stopped (the recorder was stopped), or truncated (a
    /// size bound was reached: `omitted_bytes` more were sent).
    pub ended_by: String,
    /// Which side closed first (sent its FIN or reset first), where the recording shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<Direction>,
    /// The side that closed first did so with a reset rather than a FIN. A reset after a FIN
    /// (a late packet the closed side refused) is not how that side closed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed_by_reset: bool,
    /// Which side sent the first reset, where the recording shows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_by: Option<Direction>,
    pub versions: Option<String>,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub account: Option<String>,
    /// The client's handshake fingerprint, where the dialect has one (TLS: JA4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Bytes past the per-connection bounds, counted but not kept.
    #[serde(default)]
    pub omitted_bytes: u64,
    /// The TLS session the connection went into (an in-band upgrade, or TLS from its first
    /// byte), where the import or judge read one: how its messages were decrypted, or why
    /// they could not be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInside>,
}

/// What became of the TLS session inside a recorded connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsInside {
    /// What was decrypted and with which key log (`TLSv1.3 TLS_AES_128_GCM_SHA256, keys
    /// from keys.log`): the messages after the upgrade are the inner protocol's, in the clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decrypted: Option<String>,
    /// Why the session could not be read (further): no keys, a record that failed to
    /// authenticate, a suite the harness does not decrypt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// One message, or a gap where bytes were lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedMessage {
    pub from: Direction,
    /// Milliseconds since the connection's first packet.
    pub at_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// This many bytes were never captured here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<u64>,
}

impl Provenance {
    /// The client's name and version as the recording states them.
    pub fn identity(&self) -> Option<crate::dialect::Identity> {
        match (&self.client_name, &self.client_version) {
            (Some(client), Some(version)) => Some(crate::dialect::Identity {
                client: client.clone(),
                version: version.clone(),
            }),
            _ => None,
        }
    }
}

impl CaptureFile {
    /// Reads the client's identity again where the suite's settings say where it is (HTTP:
    /// a header or path the suite names), replacing what the import found by convention.
    pub fn identify_in(&mut self, dialect: &dyn Dialect, settings: &Settings) {
        let mut client = self
            .messages
            .iter()
            .filter(|m| m.from == Direction::Client)
            .take(IDENTITY_MESSAGES)
            .filter_map(RecordedMessage::bytes);
        if let Some(identity) = dialect.identity_in(settings, &mut client) {
            let c = &mut self.capture;
            c.versions = identity.versions;
            c.client_name = identity.client.as_ref().map(|i| i.client.clone());
            c.client_version = identity.client.map(|i| i.version);
        }
    }
}

impl RecordedMessage {
    /// The message's bytes, borrowed where it is text; `None` for a gap or bad hex.
    pub fn bytes_borrowed(&self) -> Option<Cow<'_, [u8]>> {
        match (&self.text, &self.hex) {
            (Some(text), _) => Some(Cow::Borrowed(text.as_bytes())),
            (None, Some(hex)) => hex::decode(hex).ok().map(Cow::Owned),
            (None, None) => None,
        }
    }

    pub fn bytes(&self) -> Option<Vec<u8>> {
        match (&self.text, &self.hex) {
            (Some(text), _) => Some(text.as_bytes().to_vec()),
            (None, Some(hex)) => hex::decode(hex).ok(),
            (None, None) => None,
        }
    }

    pub(crate) fn data(from: Direction, at_ms: f64, bytes: &[u8]) -> RecordedMessage {
        // Most messages are plain ASCII: check bytes first, characters only when needed.
        let ascii = is_printable_ascii(bytes);
        let printable = std::str::from_utf8(bytes).ok().filter(|t| {
            ascii
                || t.chars()
                    .all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t'))
        });
        RecordedMessage {
            from,
            at_ms,
            text: printable.map(str::to_string),
            hex: printable.is_none().then(|| hex::encode(bytes)),
            gap: None,
        }
    }
}

/// Printable ASCII, CR, LF and tab only. A fold rather than `all`, so it has no early exit
/// and the compiler can check many bytes at a time: import spends its time here.
fn is_printable_ascii(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |ok, &b| {
        ok & ((0x20..0x7f).contains(&b) | (b == b'\r') | (b == b'\n') | (b == b'\t'))
    })
}

/// Where a connection came from, for its provenance.
pub struct Source<'a> {
    pub name: &'a str,
    pub sha256: Option<&'a str>,
}

/// How many of a session's first client messages are read for its identity.
pub(crate) const IDENTITY_MESSAGES: usize = 16;

pub(crate) use super::framing::Side;
pub use super::framing::{FIRST_MESSAGES, Framing, Partly, from_flow, from_flow_lazily};

/// Why a session whose client's first message is `first` holds no handshake of `dialect`.
fn why_no_handshake(first: &[u8], mid_stream: bool, dialect: &dyn Dialect) -> Option<&'static str> {
    if dialect.opens_handshake(first) {
        None
    } else if !dialect.speaks_tls() && crate::decrypt::is_client_hello(first) {
        Some("encrypted from the first byte (a TLS ClientHello); --keylog FILE decrypts it")
    } else if mid_stream {
        Some("the capture starts mid-connection")
    } else {
        Some("the client's first message does not open a handshake")
    }
}

/// What is read of a session before deciding whether to keep it whole (`import --group`):
/// the client's first messages, framed, and what the dialect makes of them. Framing only the
/// client's first messages costs a fraction of framing the session.
pub struct Glance {
    pub client_messages: Vec<bytes::Bytes>,
    pub identity: crate::dialect::RecordedIdentity,
    pub mid_stream: bool,
    /// Begun and ended in the capture, no bytes lost.
    pub whole: bool,
}

impl Glance {
    pub fn of(flow: &Flow, dialect: &dyn Dialect) -> Glance {
        let client_messages = first_client_messages(flow, dialect, IDENTITY_MESSAGES);
        let refs: Vec<&[u8]> = client_messages.iter().map(|m| m.as_ref()).collect();
        Glance {
            identity: dialect.recorded_identity(&refs),
            mid_stream: !flow.saw_syn,
            whole: flow.saw_syn
                && !flow.truncated()
                && matches!(flow.end, End::Fin | End::Reset | End::Reused)
                && flow.gaps().next().is_none(),
            client_messages,
        }
    }

    /// As [`Glance::of`], of a session already framed (and read through its TLS session).
    pub fn of_case(case: &CaptureFile) -> Glance {
        let c = &case.capture;
        let client_messages = case
            .messages
            .iter()
            .filter(|m| m.from == Direction::Client)
            .take(IDENTITY_MESSAGES)
            .filter_map(|m| m.bytes().map(bytes::Bytes::from))
            .collect();
        Glance {
            identity: crate::dialect::RecordedIdentity {
                versions: c.versions.clone(),
                client: c.identity(),
                account: c.account.clone(),
            },
            mid_stream: c.mid_stream,
            whole: !c.mid_stream
                && matches!(c.ended_by.as_str(), "fin" | "reset" | "reused")
                && !case.messages.iter().any(|m| m.gap.is_some()),
            client_messages,
        }
    }

    /// Reads the identity again where the suite's settings say where it is, as
    /// [`CaptureFile::identify_in`] does.
    pub fn identify_in(&mut self, dialect: &dyn Dialect, settings: &Settings) {
        let mut client = self.client_messages.iter().map(|m| m.to_vec());
        if let Some(identity) = dialect.identity_in(settings, &mut client) {
            self.identity.versions = identity.versions;
            self.identity.client = identity.client;
        }
    }

    /// As [`CaptureFile::missing_handshake`]; `None` when the client sent nothing.
    pub fn missing_handshake(&self, dialect: &dyn Dialect) -> Option<&'static str> {
        let first = self.client_messages.first()?;
        why_no_handshake(first, self.mid_stream, dialect)
    }

    /// The name the client goes by, as [`crate::clients::base_name`] reads a case's.
    pub fn base_name(&self) -> String {
        match (&self.identity.client, &self.identity.versions) {
            (Some(identity), _) => identity.to_string(),
            (None, Some(versions)) if !versions.is_empty() => versions.clone(),
            _ => "unknown client".into(),
        }
    }
}

/// The client's first `n` messages in `flow` (gaps left out), framed as [`from_flow`] frames
/// them: what [`client_messages`] gives of the case it makes.
fn first_client_messages(flow: &Flow, dialect: &dyn Dialect, n: usize) -> Vec<bytes::Bytes> {
    let mut framer = dialect::framer(dialect, Direction::Client);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    // What the framer holds, then the bytes left over, as they are.
    let flush = |framer: &mut Box<dyn Framer + '_>, buf: &mut BytesMut, out: &mut Vec<_>| {
        out.extend(framer.finish(buf));
        if !buf.is_empty() {
            out.push(buf.split().freeze());
        }
    };
    for event in flow
        .events()
        .iter()
        .filter(|e| e.direction == Direction::Client)
    {
        match &event.piece {
            Piece::Data(_) => {
                buf.extend_from_slice(flow.data(event));
                loop {
                    match framer.next(&mut buf) {
                        Ok(Some(message)) => out.push(message),
                        Ok(None) => break,
                        // Not this protocol: the bytes as they are, in one piece.
                        Err(_) => {
                            flush(&mut framer, &mut buf, &mut out);
                            break;
                        }
                    }
                }
            }
            Piece::Gap(_) => flush(&mut framer, &mut buf, &mut out),
        }
        if out.len() >= n {
            out.truncate(n);
            return out;
        }
    }
    flush(&mut framer, &mut buf, &mut out);
    out.truncate(n);
    out
}

/// The bytes of the client's first `n` messages (gaps left out): where its identity is. A
/// text message's bytes are borrowed, not copied.
pub fn client_messages(messages: &[RecordedMessage], n: usize) -> Vec<Cow<'_, [u8]>> {
    messages
        .iter()
        .filter(|m| m.from == Direction::Client)
        .take(n)
        .filter_map(RecordedMessage::bytes_borrowed)
        .collect()
}

/// Letters, digits, `.` and `-` of `text`, others as `-`, runs of `-` as one, at most `max`.
pub fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) && out.len() < max {
            out.push(c);
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "unnamed".to_string()
    } else {
        out.to_string()
    }
}

/// What an import puts before each case's [`CaptureFile::file_name`], so that imports of
/// different captures into one folder never share a name: the capture's name and the start of
/// its sha256, e.g. `msnp-loopback-6d881ec4-`.
pub fn source_prefix(source: &Source<'_>) -> String {
    let stem = std::path::Path::new(source.name)
        .file_stem()
        .map_or_else(|| source.name.into(), |s| s.to_string_lossy());
    let hash = source.sha256.map_or("", |h| h.get(..8).unwrap_or(h));
    if hash.is_empty() {
        format!("{}-", slug(&stem, 40))
    } else {
        format!("{}-{hash}-", slug(&stem, 40))
    }
}

impl CaptureFile {
    /// The first message the client sent, when it sent one.
    pub fn first_client_message(&self) -> Option<Vec<u8>> {
        self.messages
            .iter()
            .find(|m| m.from == Direction::Client)
            .and_then(RecordedMessage::bytes)
    }

    /// Why this session holds no handshake of `dialect`, so that nothing can be replayed or
    /// judged from it; `None` when its first client message opens one (or there is none).
    pub fn missing_handshake(&self, dialect: &dyn Dialect) -> Option<&'static str> {
        let first = self.first_client_message()?;
        why_no_handshake(&first, self.capture.mid_stream, dialect)
    }

    /// The file name for this connection: its number and what the client was, e.g.
    /// `0003-MSNMSGR-6.0.0602.toml`. Names an import gives are prefixed with
    /// [`source_prefix`].
    pub fn file_name(&self, id: u64) -> String {
        let what = match (&self.capture.client_name, &self.capture.client_version) {
            (Some(name), Some(version)) => format!("{name}-{version}"),
            _ => self
                .capture
                .versions
                .as_deref()
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join("-"))
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "unknown".to_string()),
        };
        format!("{id:04}-{}.toml", slug(&what, 40))
    }

    pub fn to_toml(&self) -> String {
        let tls = self.capture.tls.as_ref();
        let decrypted = tls.and_then(|t| t.decrypted.as_deref());
        // A decrypted session is replayed as it was said, inside the live TLS session: the
        // dialect's note on what it cannot read inside TLS does not apply.
        let note = match decrypted {
            Some(_) => "",
            None => dialect::by_name(&self.capture.dialect).map_or("", |d| d.replay_note()),
        };
        let mut header = format!(
            "# Recorded {} session, imported by harness. Review before committing: each client\n# message is replayed in order{}{note}.\n",
            self.capture.dialect,
            if note.is_empty() { "" } else { " " },
        );
        if let Some(decrypted) = decrypted {
            header += &format!(
                "# Its TLS session was decrypted ({decrypted}):\n# the messages inside it are the inner protocol's, replayed inside a live TLS session\n# (a session that was TLS from its first byte needs a target with `tls = true`).\n"
            );
        }
        if let Some(stopped) = tls.and_then(|t| t.stopped.as_deref()) {
            header += &format!("# TLS not read through: {stopped}.\n");
        }
        header + &toml::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(versions: &str) -> CaptureFile {
        toml::from_str(&format!(
            "[capture]\ndialect = \"tls\"\nsource = \"x\"\nclient = \"a\"\nserver = \"b\"\nfirst_timestamp = \"t\"\nended_by = \"fin\"\nversions = \"{versions}\"\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_request_whose_body_followed_the_100_comes_before_it() {
        let event =
            |direction, timestamp_ns, bytes: &'static [u8]| (direction, timestamp_ns, bytes);
        let head: &[u8] = b"POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
        let events = vec![
            event(Direction::Client, 1_000_000, head),
            event(
                Direction::Server,
                2_000_000,
                b"HTTP/1.1 100 Continue\r\n\r\n",
            ),
            event(Direction::Client, 3_000_000, b"body"),
            event(
                Direction::Server,
                4_000_000,
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            ),
        ];
        let addr = |port| std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let flow = Flow::observed(0, (addr(40000), addr(80)), 0, events, 0, End::Fin);
        let http = dialect::by_name("http").unwrap();
        let case = from_flow(
            flow,
            http,
            &Source {
                name: "test",
                sha256: None,
            },
        );
        let seen: Vec<(Direction, f64, usize)> = case
            .messages
            .iter()
            .map(|m| (m.from, m.at_ms, m.bytes().unwrap().len()))
            .collect();
        assert_eq!(
            seen,
            [
                (Direction::Client, 1.0, head.len() + 4),
                (Direction::Server, 2.0, 25),
                (Direction::Server, 4.0, 38),
            ]
        );
    }

    #[test]
    fn a_name_without_a_stated_client_is_its_offered_versions() {
        assert_eq!(
            case("TLSv1.3 TLSv1.2").file_name(3),
            "0003-TLSv1.3-TLSv1.2.toml"
        );
        assert_eq!(case("").file_name(0), "0000-unknown.toml");
    }

    #[test]
    fn an_import_prefix_names_the_capture_and_its_hash() {
        let source = Source {
            name: "my capture (1).pcapng",
            sha256: Some("6d881ec4191157e963d1d70562e293c7"),
        };
        assert_eq!(source_prefix(&source), "my-capture-1-6d881ec4-");
    }
}
