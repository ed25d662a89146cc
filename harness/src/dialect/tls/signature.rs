//! Which TLS client a recorded session is, as the server sees it: its ClientHello's versions,
//! ciphers and groups in the order offered (what a server that follows the client's
//! preference chooses by), its extensions as a set (browsers shuffle them), signature
//! algorithms and ALPN. The random, session id, key shares and SNI change from session to
//! session and are set aside, and so are the extensions that come and go with a session to
//! resume (session_ticket, pre_shared_key, early_data, and padding, which follows the hello's
//! length): a client resuming a session is the client that began it.
//! GREASE values are left out.

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

/// Extensions a client sends or leaves out by whether it holds a session to resume:
/// session_ticket, pre_shared_key, early_data; and padding, which comes with a hello's length
/// (a ticket makes it longer).
const RESUMPTION_EXTENSIONS: &[u16] = &[21, 35, 41, 42];

pub fn signature(client_messages: &[&[u8]]) -> String {
    let Some(o) = offer(client_messages) else {
        return String::new();
    };
    let mut extensions: Vec<u16> = o
        .extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e) && !RESUMPTION_EXTENSIONS.contains(e))
        .collect();
    extensions.sort_unstable();
    extensions.dedup();
    let hex = |values: &[u16]| {
        values
            .iter()
            .filter(|v| !is_grease(**v))
            .map(|v| format!("{v:04x}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "ClientHello versions={} ciphers={} groups={} extensions={} signatures={} alpn={}",
        listed(&o.versions, names::version_name),
        listed(&o.ciphers, names::cipher_name),
        listed(&o.groups, names::group_name),
        hex(&extensions),
        hex(&o.signature_algorithms),
        o.alpn
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default(),
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
