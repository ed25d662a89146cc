//! What a dialect knows with no typed step or settings of its own: its name and port, its
//! framing, how it reads a client in recorded bytes, and how it shows and redacts messages.
//! Both the typed [`super::Protocol`] a dialect implements and the type-erased
//! [`super::Dialect`] the core holds build on it.

use super::{Distinguish, Doc, FrameError, Framer, Recordings, Redactions};
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
    /// The dialect is TLS itself: a ClientHello opening a session is its own handshake to
    /// judge, not an encryption for [`crate::decrypt`] to read through.
    fn speaks_tls(&self) -> bool {
        false
    }
    /// A described message with its volatile values (transaction ids, challenges, nonces)
    /// replaced, so a recorded reply and a live one compare equal when they mean the same.
    /// By default what [`redact`](Wire::redact) leaves.
    fn normalize(&self, described: &str) -> String {
        self.redact(described)
    }
    /// The values that change on every run (challenges, nonces, tickets, versions, ports),
    /// as patterns and their placeholders; none by default.
    fn redactions(&self) -> &Redactions {
        static NONE: Redactions = Redactions::new(&[]);
        &NONE
    }
    /// Text (a message, a reason) with [`redactions`](Wire::redactions) applied; what a
    /// snapshot stores.
    fn redact(&self, text: &str) -> String {
        self.redactions().apply(text)
    }
    /// A message as people read it, one or more lines joined by `\n`: the one renderer of
    /// messages for snapshots, reports, `inspect` and divergence lines.
    fn describe(&self, from: Direction, bytes: &[u8]) -> String;

    /// The reference server this dialect brings, if any.
    fn reference_server(&self) -> Option<&dyn ReferenceServer> {
        None
    }
    /// How this dialect reads recorded sessions, if it does; `Some(self)` from a dialect
    /// that implements [`Recordings`].
    fn recordings(&self) -> Option<&dyn Recordings> {
        None
    }
    /// How this dialect tells recorded clients apart, if it does; `Some(self)` from a
    /// dialect that implements [`Distinguish`].
    fn distinguish(&self) -> Option<&dyn Distinguish> {
        None
    }
}

/// What a built-in dialect states about itself, written inside its `impl Wire` in place of
/// one-line methods: `facts! { name: "ssh", summary: "...", port: 22, steps: STEP_KINDS,
/// settings: SETTING_KEYS, describe: describe::describe, redactions: describe::REDACTIONS }`
/// (`settings` and `redactions` left out for a dialect with none).
macro_rules! facts {
    (
        name: $name:expr,
        summary: $summary:expr,
        port: $port:expr,
        steps: $steps:expr
        $(, settings: $settings:expr)?,
        describe: $describe:path
        $(, redactions: $redactions:path)? $(,)?
    ) => {
        fn name(&self) -> &'static str {
            $name
        }
        fn summary(&self) -> &'static str {
            $summary
        }
        fn default_port(&self) -> u16 {
            $port
        }
        fn step_kinds(&self) -> &'static [crate::dialect::Doc] {
            $steps
        }
        $(
            fn setting_keys(&self) -> &'static [crate::dialect::Doc] {
                $settings
            }
        )?
        fn describe(&self, from: crate::direction::Direction, bytes: &[u8]) -> String {
            $describe(from, bytes)
        }
        $(
            fn redactions(&self) -> &crate::dialect::Redactions {
                &$redactions
            }
        )?
    };
}
pub(crate) use facts;
