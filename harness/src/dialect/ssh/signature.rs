//! Which SSH client a recorded session is, as the server sees it: its identification line
//! and its key-exchange messages in the clear, up to NEWKEYS (the KEXINIT's algorithm lists,
//! the kind and size of its key-exchange init). The KEXINIT cookie and the ephemeral keys
//! change from session to session and are set aside; everything after NEWKEYS is encrypted.

use super::describe::describe;
use super::framing::payload;
use super::wire::{self, KexInit};
use crate::direction::Direction;

/// Lines of the handshake in the clear, in order: the identification, then each key-exchange
/// message as described (the KEXINIT's algorithms, a key-exchange init by its key's size).
pub fn signature(client_messages: &[&[u8]]) -> String {
    let mut lines = Vec::new();
    for message in client_messages {
        let kind = payload(message).and_then(|p| p.first().copied());
        if kind == Some(wire::NEWKEYS) {
            break;
        }
        if message.starts_with(b"SSH-") || kind.is_some() {
            lines.push(describe(Direction::Client, message));
        }
    }
    lines.join("\n")
}

/// Markers in a KEXINIT's key-exchange list that name extensions, not methods.
fn is_marker(name: &str) -> bool {
    name == "ext-info-c" || name.starts_with("kex-strict-")
}

/// Its first choices (`kex curve25519-sha256`, `hostkey ssh-ed25519`, `cipher aes128-ctr`,
/// `mac hmac-sha2-256`), then every algorithm it offers (`offers ssh-rsa`).
pub fn distinctions(client_messages: &[&[u8]]) -> Vec<String> {
    let Some(offer) = client_messages
        .iter()
        .filter_map(|m| payload(m))
        .find_map(KexInit::parse)
    else {
        return Vec::new();
    };
    let lists: [(&str, Vec<&String>); 4] = [
        ("kex", offer.kex.iter().filter(|k| !is_marker(k)).collect()),
        ("hostkey", offer.host_key.iter().collect()),
        ("cipher", offer.cipher_c2s.iter().collect()),
        ("mac", offer.mac_c2s.iter().collect()),
    ];
    let mut traits: Vec<String> = lists
        .iter()
        .filter_map(|(what, list)| list.first().map(|first| format!("{what} {first}")))
        .collect();
    for (_, list) in &lists {
        traits.extend(list.iter().map(|name| format!("offers {name}")));
    }
    traits
}
