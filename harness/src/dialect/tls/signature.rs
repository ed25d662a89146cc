//! Which TLS client a recorded session is, as the server sees it: its ClientHello's JA4
//! (sorted ciphers, extensions and signature algorithms: browsers shuffle their extensions)
//! with the ciphers, groups and versions in the order offered, which is what a server that
//! follows the client's preference chooses by. The random, session id, key shares and SNI
//! change from session to session and are set aside. GREASE values are left out.

use super::hello::{self, Offer};
use super::{is_grease, ja4, names};

fn offer(client_messages: &[&[u8]]) -> Option<Offer> {
    client_messages.iter().find_map(|m| hello::offer(m))
}

fn listed(values: &[u16], name: fn(u16) -> String) -> String {
    values
        .iter()
        .filter(|v| !is_grease(**v))
        .map(|v| name(*v))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn signature(client_messages: &[&[u8]]) -> String {
    let Some(o) = offer(client_messages) else {
        return String::new();
    };
    format!(
        "ja4 {} versions={} ciphers={} groups={}",
        ja4::ja4(&o),
        listed(&o.versions, names::version_name),
        listed(&o.ciphers, names::cipher_name),
        listed(&o.groups, names::group_name),
    )
}

/// `up to TLSv1.2`, then `ja4 t13d...`.
pub fn distinctions(client_messages: &[&[u8]]) -> Vec<String> {
    let Some(o) = offer(client_messages) else {
        return Vec::new();
    };
    let highest = o.versions.iter().copied().filter(|v| !is_grease(*v)).max();
    let mut traits = Vec::new();
    if let Some(highest) = highest {
        traits.push(format!("up to {}", names::version_name(highest)));
    }
    traits.push(format!("ja4 {}", ja4::ja4(&o)));
    traits
}
