//! A recorded connection with a TLS session inside, read through: where TLS begins (the
//! dialect's conversation agrees to an in-band upgrade, or the client's first message is a
//! ClientHello to a dialect that is not TLS itself), then the TLS bytes of both sides
//! decrypted with the key log and framed again by the dialect, so that the capture holds the
//! inner protocol's messages in the clear, in the order they were sent.

use super::keylog::KeyLog;
use super::session::TlsSession;
use crate::capture::file::{self, Side};
use crate::capture::{CaptureFile, RecordedMessage, TlsInside};
use crate::dialect::{self, Dialect};
use crate::direction::Direction;
use bytes::Bytes;

/// How a connection came to be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The server agreed to an in-band upgrade (PostgreSQL's 'S', STARTTLS).
    Upgrade,
    /// The client's first message was a ClientHello (HTTPS, `sslnegotiation=direct`).
    FirstByte,
}

impl Entry {
    /// Why a session encrypted this way, and not decrypted, decides nothing.
    pub fn undecided(self) -> &'static str {
        match self {
            Entry::Upgrade => "encrypted after the TLS upgrade; --keylog FILE decrypts it",
            Entry::FirstByte => "encrypted from the first byte; --keylog FILE decrypts it",
        }
    }
}

/// Where TLS begins in a connection: the first encrypted message, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub index: usize,
    pub entry: Entry,
}

/// A TLS handshake record holding a ClientHello: `16 03 xx LEN LEN 01`.
pub fn is_client_hello(bytes: &[u8]) -> bool {
    bytes.len() >= 6 && bytes[0] == 0x16 && bytes[1] == 0x03 && bytes[5] == 0x01
}

/// Where the TLS session in `capture` begins, if it holds one that `dialect` does not read
/// itself. The dialect's conversation is followed up to the upgrade it agrees to; a verdict
/// or a gap before then means there is no TLS session to read.
pub fn tls_start(
    dialect: &dyn Dialect,
    capture: &CaptureFile,
    settings: &dialect::Settings,
) -> Option<Start> {
    if capture
        .capture
        .tls
        .as_ref()
        .is_some_and(|t| t.decrypted.is_some())
    {
        return None;
    }
    // Every TLS session opens with the client's ClientHello, at the start of a message (the
    // bytes after an upgrade start afresh): without one there is nothing to look for, and
    // plain traffic costs no more than this look.
    // A ClientHello is binary, so kept as hex: read without decoding every message.
    let hello = |m: &RecordedMessage| {
        m.from == Direction::Client
            && m.hex.as_deref().is_some_and(|h| {
                h.get(..4).is_some_and(|t| t.eq_ignore_ascii_case("1603"))
                    && h.get(10..12) == Some("01")
            })
    };
    if !capture.messages.iter().any(hello) {
        return None;
    }
    let first = capture
        .messages
        .iter()
        .position(|m| m.from == Direction::Client)?;
    if !dialect.speaks_tls()
        && capture.messages[first]
            .bytes()
            .is_some_and(|b| is_client_hello(&b))
    {
        return Some(Start {
            index: first,
            entry: Entry::FirstByte,
        });
    }
    let mut conversation = dialect.conversation(capture.capture.identity().as_ref(), settings);
    for (i, message) in capture.messages.iter().enumerate() {
        let bytes = message.bytes()?;
        match message.from {
            Direction::Client => {
                conversation.observe_sent(&bytes);
                if conversation.tls_follows() {
                    return Some(Start {
                        index: i + 1,
                        entry: Entry::Upgrade,
                    });
                }
            }
            Direction::Server => {
                let received = conversation.receive(Bytes::from(bytes));
                if received.upgrade_to_tls {
                    return Some(Start {
                        index: i + 1,
                        entry: Entry::Upgrade,
                    });
                }
                if received.verdict.is_some() {
                    return None;
                }
            }
        }
    }
    None
}

/// `capture` with its TLS session (starting at `start`) decrypted with `keylog`: the messages
/// before it as they were, then the inner protocol's, framed by `dialect`, and
/// [`TlsInside`] saying what was decrypted or what stopped it.
pub fn decrypt(
    dialect: &dyn Dialect,
    capture: &CaptureFile,
    start: Start,
    keylog: &KeyLog,
) -> CaptureFile {
    let mut messages: Vec<RecordedMessage> = capture.messages[..start.index].to_vec();
    let mut session = TlsSession::new(keylog);
    let mut client = Side::new(dialect, Direction::Client);
    let mut server = Side::new(dialect, Direction::Server);
    let mut stopped = None;
    let mut last_at = 0.0;
    for message in &capture.messages[start.index..] {
        last_at = message.at_ms;
        let Some(bytes) = message.bytes() else {
            stopped = Some("bytes were lost from the recording inside the TLS session".into());
            break;
        };
        let plains = match session.feed(message.from, &bytes) {
            Ok(plains) => plains,
            Err(stop) => {
                stopped = Some(stop.to_string());
                break;
            }
        };
        let (side, other) = match message.from {
            Direction::Client => (&mut client, &mut server),
            Direction::Server => (&mut server, &mut client),
        };
        for plain in plains {
            side.buf.extend_from_slice(&plain);
            side.take_messages(message.at_ms, &mut messages, other);
        }
    }
    client.flush(last_at, &mut messages);
    server.flush(last_at, &mut messages);
    let Some(negotiated) = session.negotiated() else {
        // Nothing was decrypted: the recording stays as it was, saying why.
        let mut kept = capture.clone();
        kept.capture.tls = Some(TlsInside {
            decrypted: None,
            stopped: Some(stopped.unwrap_or_else(|| {
                "the recording ends inside the TLS handshake, before any keys were agreed".into()
            })),
        });
        return kept;
    };
    let mut decrypted = capture.clone();
    decrypted.messages = messages;
    let c = &mut decrypted.capture;
    c.tls = Some(TlsInside {
        decrypted: Some(format!("{negotiated}, keys from {}", keylog.name)),
        stopped,
    });
    // The client's identity is in the inner protocol's messages now.
    let client_messages = file::client_messages(&decrypted.messages, 16);
    let refs: Vec<&[u8]> = client_messages.iter().map(|m| &**m).collect();
    let identity = dialect.recorded_identity(&refs);
    let c = &mut decrypted.capture;
    c.versions = identity.versions;
    c.client_name = identity.client.as_ref().map(|i| i.client.clone());
    c.client_version = identity.client.map(|i| i.version);
    c.account = identity.account;
    c.fingerprint = dialect.fingerprint(&refs);
    decrypted
}

/// The capture read through its TLS session when `keylog` is given; otherwise (and when it
/// holds none) as it is, with a session left encrypted marked so.
pub fn read_through(
    dialect: &dyn Dialect,
    capture: CaptureFile,
    settings: &dialect::Settings,
    keylog: Option<&KeyLog>,
) -> CaptureFile {
    let Some(start) = tls_start(dialect, &capture, settings) else {
        return capture;
    };
    match keylog {
        Some(keylog) => decrypt(dialect, &capture, start, keylog),
        None => {
            let mut capture = capture;
            capture.capture.tls = Some(TlsInside {
                decrypted: None,
                stopped: Some(start.entry.undecided().to_string()),
            });
            capture
        }
    }
}
