//! A recorded session's client as the server sees it: the dialect's signature of its
//! handshake (with the account set aside) hashed, with the name it goes by and the traits that
//! can tell it from namesakes.

use crate::capture::{CaptureFile, Provenance, file};
use crate::dialect::Dialect;
use sha2::{Digest, Sha256};

/// How many of a session's first client messages the signature reads: the handshake.
const HANDSHAKE_MESSAGES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    /// The first 128 bits of the sha256 of the dialect, name and signature: two clients
    /// collide with a chance of about 2^-128 per pair.
    pub hash: u128,
    /// The name the client goes by: its stated name and version, else what it offered.
    pub base: String,
    /// What can tell it from namesakes, most telling first (the dialect's distinctions):
    /// read only for a client's first session, by whoever keeps it (see
    /// [`ClientKey::traits_of`]); empty until then.
    pub traits: Vec<String>,
}

impl ClientKey {
    pub fn of(dialect: &dyn Dialect, capture: &CaptureFile) -> ClientKey {
        let messages = file::client_messages(&capture.messages, HANDSHAKE_MESSAGES);
        let refs: Vec<&[u8]> = messages.iter().map(|m| &**m).collect();
        let c = &capture.capture;
        ClientKey::from_parts(dialect, base_name(c), c.versions.as_deref(), &refs)
    }

    /// The key of a client that goes by `base`, offered `versions` (as the dialect, or the
    /// suite's settings, read them: HTTP's API version where a suite names where it is), and
    /// whose first messages are `client_messages`. Each dialect's signature leaves the
    /// account out itself.
    pub fn from_parts(
        dialect: &dyn Dialect,
        base: String,
        versions: Option<&str>,
        client_messages: &[&[u8]],
    ) -> ClientKey {
        let refs = client_messages;
        let signature = dialect.client_signature(refs);
        let mut hasher = Sha256::new();
        for part in [
            dialect.name(),
            &base,
            versions.unwrap_or_default(),
            &signature,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        ClientKey {
            hash: u128::from_be_bytes(first),
            base,
            traits: Vec::new(),
        }
    }

    /// The traits that can tell a recorded session's client from namesakes.
    pub fn traits_of(dialect: &dyn Dialect, capture: &CaptureFile) -> Vec<String> {
        let messages = file::client_messages(&capture.messages, HANDSHAKE_MESSAGES);
        let refs: Vec<&[u8]> = messages.iter().map(|m| &**m).collect();
        ClientKey::traits(dialect, capture.capture.versions.as_deref(), &refs)
    }

    /// The dialect's distinctions, then each of the versions the client offered as its
    /// identity was read (with a suite's rules: an API version in a dated path), since those
    /// are part of the key too.
    pub fn traits(
        dialect: &dyn Dialect,
        versions: Option<&str>,
        client_messages: &[&[u8]],
    ) -> Vec<String> {
        let mut traits = dialect.distinctions(client_messages);
        for version in versions.into_iter().flat_map(|v| v.split(", ")) {
            if !version.is_empty() && !traits.iter().any(|t| t == version) {
                traits.push(version.to_string());
            }
        }
        traits
    }

    /// A short hex form of the hash, for file names and JSON (`3f9a0c1e`).
    pub fn short(&self) -> String {
        format!("{:08x}", (self.hash >> 96) as u32)
    }
}

/// The name a recorded client goes by before it is told apart from namesakes: the name a
/// reviewer gave, else its stated name and version, else the versions it offered.
pub fn base_name(c: &Provenance) -> String {
    if let Some(name) = c.name.as_deref().filter(|n| !n.trim().is_empty()) {
        return name.to_string();
    }
    match c.identity() {
        Some(identity) => identity.to_string(),
        None => c
            .versions
            .clone()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "unknown client".into()),
    }
}
