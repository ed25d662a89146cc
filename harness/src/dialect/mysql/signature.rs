//! Which MySQL driver a recorded session is, as the server sees it: its SSLRequest and
//! HandshakeResponse41 (capability flags, collation, max packet size, the plugin it asks for,
//! its connection attributes), or the TLS hello it sent once it asked for TLS. The user,
//! database and what changes per session (`_pid`, `_thread`, the scramble) are set aside.
//! Names come from `_client_name` and `_client_version`, else `program_name`.

use super::framing::{is_tls_record, payload};
use super::packets::{self, ClientHello, Response, caps};
use crate::dialect::Identity;

/// Attributes that change from session to session or name the machine, not the driver.
const VOLATILE_ATTRIBUTES: &[&str] = &["_pid", "_thread", "_server_host", "_client_role"];

fn hellos<'a>(
    client_messages: &'a [&'a [u8]],
) -> impl Iterator<Item = Result<ClientHello, &'a [u8]>> + 'a {
    let mut encrypted = false;
    client_messages.iter().map_while(move |m| {
        if encrypted {
            return None;
        }
        if is_tls_record(m) {
            // The first TLS record is the hello; what follows is unreadable.
            encrypted = true;
            return Some(Err(*m));
        }
        packets::client_hello(&payload(m)).map(Ok)
    })
}

/// The handshake response in a recording's clear part.
pub fn response(client_messages: &[&[u8]]) -> Option<Response> {
    hellos(client_messages).find_map(|h| match h {
        Ok(ClientHello::Response(r)) => Some(r),
        _ => None,
    })
}

fn attributes(r: &Response) -> impl Iterator<Item = &(String, String)> {
    r.attributes
        .iter()
        .filter(|(k, _)| !VOLATILE_ATTRIBUTES.contains(&k.as_str()))
}

pub fn signature(client_messages: &[&[u8]]) -> String {
    let mut lines = Vec::new();
    for hello in hellos(client_messages) {
        match hello {
            Ok(ClientHello::SslRequest {
                capabilities,
                charset,
            }) => {
                lines.push(format!(
                    "SSLRequest {} charset={charset}",
                    caps::named(capabilities)
                ));
            }
            Ok(ClientHello::Response(r)) => {
                let attrs: Vec<String> = attributes(&r).map(|(k, v)| format!("{k}={v}")).collect();
                lines.push(format!(
                    "HandshakeResponse {} mariadb=0x{:x} charset={} max_packet={} plugin={} {}",
                    caps::named(r.capabilities & !caps::CONNECT_WITH_DB),
                    r.mariadb_capabilities,
                    r.charset,
                    r.max_packet,
                    r.plugin.as_deref().unwrap_or("-"),
                    attrs.join(" ")
                ));
                break;
            }
            Err(tls) => {
                let hello = crate::dialect::tls::signature::signature(&[tls]);
                lines.push(format!("TLS {hello}"));
                break;
            }
        }
    }
    lines.join("\n")
}

/// `TLS requested`, `plugin=caching_sha2_password`, the connection attributes that are not
/// per session, then the flags (most telling first), or the TLS hello's traits.
pub fn distinctions(client_messages: &[&[u8]]) -> Vec<String> {
    let mut traits = Vec::new();
    for hello in hellos(client_messages) {
        match hello {
            Ok(ClientHello::SslRequest { .. }) => traits.push("TLS requested".to_string()),
            Ok(ClientHello::Response(r)) => {
                traits.push(format!("plugin={}", r.plugin.as_deref().unwrap_or("none")));
                traits.extend(attributes(&r).map(|(k, v)| format!("{k}={}", shorten(v))));
                traits.push(format!(
                    "capabilities={}",
                    caps::named(r.capabilities & !caps::CONNECT_WITH_DB)
                ));
                traits.push(format!("charset={}", r.charset));
                break;
            }
            Err(tls) => {
                traits.extend(crate::dialect::tls::signature::distinctions(&[tls]));
                break;
            }
        }
    }
    traits
}

fn shorten(value: &str) -> String {
    match value.char_indices().nth(32) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_string(),
    }
}

/// The driver a handshake names: `_client_name` and `_client_version` (libmariadb 3.3.8,
/// mysql-connector-python), else `program_name`, else what its flags give away.
pub fn driver(r: &Response) -> Identity {
    let attribute = |name: &str| r.attribute(name).filter(|v| !v.is_empty());
    match (attribute("_client_name"), attribute("program_name")) {
        (Some(name), _) => Identity {
            client: name.to_string(),
            version: attribute("_client_version").unwrap_or_default().to_string(),
        },
        (None, Some(program)) => Identity {
            client: program.to_string(),
            version: String::new(),
        },
        (None, None) => Identity {
            client: format!(
                "unnamed driver (plugin {}, flags 0x{:08x})",
                r.plugin.as_deref().unwrap_or("none"),
                r.capabilities & !caps::CONNECT_WITH_DB
            ),
            version: String::new(),
        },
    }
}
