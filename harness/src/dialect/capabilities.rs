//! What a dialect may do beyond speaking and framing, each a trait of its own that a dialect
//! implements only when it has it: reading recorded sessions ([`Recordings`]), telling
//! recorded clients apart ([`Distinguish`]), finding a client's identity where the suite's
//! settings say it is ([`IdentityInTraffic`], asked through
//! [`super::Protocol::identity_in_traffic`]); a reference server is
//! [`crate::server::ReferenceServer`]. The core asks through [`super::Wire::recordings`] and
//! [`super::Wire::distinguish`], and the methods on `dyn Dialect` here fall back to what a dialect
//! without the capability means.

use super::{Dialect, RecordedIdentity};
use crate::direction::Direction;

/// Reading recorded sessions: who the client is, where its handshake starts, what answers
/// what. Replaying a recorded message as a step is [`super::Protocol::replay`].
pub trait Recordings: Send + Sync {
    /// The client's identity in the client side of a recorded session.
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity;
    /// Whether a recorded session whose first client message is `first` starts with the
    /// handshake; one that does not (it began before the capture did, or is other traffic on
    /// the port) cannot be replayed or judged.
    fn opens_handshake(&self, first: &[u8]) -> bool;
    /// The variable a recorded account is replaced by on replay (MSNP: `email`).
    fn account_variable(&self) -> Option<&'static str> {
        None
    }
    /// What replaying a recording changes, for the header of a capture case file.
    fn replay_note(&self) -> &'static str;
    /// Whether, in a recording, `reply` is the server's answer to `request`.
    fn answers(&self, request: &[u8], reply: &[u8]) -> bool;
    /// Session number `n` of made-up but typical traffic, for the import benchmark; none
    /// when the dialect makes none.
    fn synthetic_session(&self, n: u64) -> Vec<(Direction, Vec<u8>)> {
        let _ = n;
        Vec::new()
    }
}

/// Finding the client's identity in its traffic where a suite's settings say it is (HTTP:
/// `version_header`, `api_version_path`), in place of the one the recording names.
pub trait IdentityInTraffic<Settings>: Send + Sync {
    /// The identity the `settings` point at, when they point at one; `None` keeps the
    /// recording's own. The client's messages are read only when the settings need them.
    fn identity_in(
        &self,
        settings: &Settings,
        client_messages: &mut dyn Iterator<Item = Vec<u8>>,
    ) -> Option<RecordedIdentity>;
}

/// Telling recorded clients apart, beyond their name and version.
pub trait Distinguish: Send + Sync {
    /// What the server sees of a recorded client's handshake (its first client messages),
    /// with what changes from session to session set aside: what replay rewrites or redacts
    /// (nonces, key shares, TrIDs, Host, SNI, passwords). Sessions with the same signature
    /// are one client as the server sees it; the account is set aside by the caller.
    fn client_signature(&self, client_messages: &[&[u8]]) -> String;
    /// Short traits that tell a recorded client apart from others with its name and version,
    /// most telling first (HTTP: its HTTP and API versions; TLS: its highest version and
    /// JA4; SSH: its first choices of key exchange, host key, cipher and MAC; PostgreSQL: its
    /// protocol, encryption request and startup parameters).
    fn distinctions(&self, client_messages: &[&[u8]]) -> Vec<String>;
    /// A fingerprint of the client's handshake that traffic logs carry too (TLS: `ja4 ...`),
    /// to match a recorded client to the same client in a server's own logs.
    fn fingerprint(&self, client_messages: &[&[u8]]) -> Option<String> {
        let _ = client_messages;
        None
    }
}

/// [`Distinguish`] made of two functions of the client's messages, for a dialect whose
/// signature and distinctions need nothing else (and which gives no fingerprint).
pub struct Signatures {
    signature: fn(&[&[u8]]) -> String,
    distinctions: fn(&[&[u8]]) -> Vec<String>,
}

impl Signatures {
    pub const fn of(
        signature: fn(&[&[u8]]) -> String,
        distinctions: fn(&[&[u8]]) -> Vec<String>,
    ) -> Signatures {
        Signatures {
            signature,
            distinctions,
        }
    }
}

impl Distinguish for Signatures {
    fn client_signature(&self, client_messages: &[&[u8]]) -> String {
        (self.signature)(client_messages)
    }
    fn distinctions(&self, client_messages: &[&[u8]]) -> Vec<String> {
        (self.distinctions)(client_messages)
    }
}

/// The accessors of the capabilities a dialect has, written inside its `impl Wire`:
/// `offers!(Recordings, Distinguish);` for `Some(self)` from each.
/// `Distinguish(SIGNATURES)` offers a [`Signatures`] constant in place of `self`.
macro_rules! offers {
    ($($capability:ident $(($by:expr))?),+) => {
        $(crate::dialect::offers!(@ $capability $(($by))?);)+
    };
    (@ Distinguish ($by:expr)) => {
        fn distinguish(&self) -> Option<&dyn crate::dialect::Distinguish> {
            Some(&$by)
        }
    };
    (@ Recordings) => {
        fn recordings(&self) -> Option<&dyn crate::dialect::Recordings> {
            Some(self)
        }
    };
    (@ Distinguish) => {
        fn distinguish(&self) -> Option<&dyn crate::dialect::Distinguish> {
            Some(self)
        }
    };
}
pub(crate) use offers;

/// The capabilities as the core calls them, with what a dialect without one means.
impl<'d> dyn Dialect + 'd {
    /// [`Recordings::recorded_identity`]; nothing known without recordings.
    pub fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        self.recordings()
            .map(|r| r.recorded_identity(client_messages))
            .unwrap_or_default()
    }
    /// [`Recordings::opens_handshake`]; without recordings no session can be replayed.
    pub fn opens_handshake(&self, first: &[u8]) -> bool {
        self.recordings().is_some_and(|r| r.opens_handshake(first))
    }
    /// [`Recordings::account_variable`].
    pub fn account_variable(&self) -> Option<&'static str> {
        self.recordings().and_then(|r| r.account_variable())
    }
    /// [`Recordings::replay_note`].
    pub fn replay_note(&self) -> &'static str {
        self.recordings().map_or("", |r| r.replay_note())
    }
    /// [`Recordings::answers`]; without recordings every reply answers the request before it.
    pub fn answers(&self, request: &[u8], reply: &[u8]) -> bool {
        self.recordings().is_none_or(|r| r.answers(request, reply))
    }
    /// [`Recordings::synthetic_session`].
    pub fn synthetic_session(&self, n: u64) -> Vec<(Direction, Vec<u8>)> {
        self.recordings()
            .map(|r| r.synthetic_session(n))
            .unwrap_or_default()
    }
    /// [`Distinguish::client_signature`]; by default the client's first message, described
    /// and normalized.
    pub fn client_signature(&self, client_messages: &[&[u8]]) -> String {
        match self.distinguish() {
            Some(d) => d.client_signature(client_messages),
            None => client_messages
                .first()
                .map(|m| self.normalize(&self.describe(Direction::Client, m)))
                .unwrap_or_default(),
        }
    }
    /// [`Distinguish::distinctions`]; none by default.
    pub fn distinctions(&self, client_messages: &[&[u8]]) -> Vec<String> {
        self.distinguish()
            .map(|d| d.distinctions(client_messages))
            .unwrap_or_default()
    }
    /// [`Distinguish::fingerprint`]; none by default.
    pub fn fingerprint(&self, client_messages: &[&[u8]]) -> Option<String> {
        self.distinguish()
            .and_then(|d| d.fingerprint(client_messages))
    }
}
