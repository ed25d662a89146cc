//! Which SSH client a recorded session is, as the server sees it: its identification line
//! and its KEXINIT's algorithm lists. The KEXINIT cookie changes from session to session and
//! is set aside; what follows depends on the server's answer (and is encrypted after NEWKEYS).

use super::describe::describe;
use super::framing::payload;
use super::wire::{self, KexInit};
use crate::direction::Direction;

/// The identification, then the KEXINIT's algorithms, as described.
pub fn signature(client_messages: &[&[u8]]) -> String {
    let mut lines = Vec::new();
    for message in client_messages {
        let kind = payload(message).and_then(|p| p.first().copied());
        if kind == Some(wire::NEWKEYS) {
            break;
        }
        // The key-exchange init is sent only when the server's KEXINIT allowed one: how far
        // a session got must not make the same client two.
        if message.starts_with(b"SSH-") {
            // The software and version, not the comment after them (a distribution's patch
            // level: `Debian-2+deb12u3`), which no server negotiates by.
            let line = describe(Direction::Client, message);
            lines.push(line.split(' ').next().unwrap_or_default().to_string());
        } else if kind == Some(wire::KEXINIT) {
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
/// `mac hmac-sha2-256`, `compression zlib@openssh.com`), then every algorithm it offers
/// (`offers ssh-rsa`).
pub fn distinctions(client_messages: &[&[u8]]) -> Vec<String> {
    let Some(offer) = client_messages
        .iter()
        .filter_map(|m| payload(m))
        .find_map(KexInit::parse)
    else {
        return Vec::new();
    };
    let lists: [(&str, Vec<&String>); 5] = [
        ("kex", offer.kex.iter().filter(|k| !is_marker(k)).collect()),
        ("hostkey", offer.host_key.iter().collect()),
        ("cipher", offer.cipher_c2s.iter().collect()),
        ("mac", offer.mac_c2s.iter().collect()),
        ("compression", offer.compression_c2s.iter().collect()),
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
