//! Which PostgreSQL driver a recorded session is, as the server sees it: its openings in the
//! clear (SSLRequest, GSSENCRequest, the StartupMessage's protocol and parameters), up to the
//! startup, or the TLS hello it sent instead (straight away, or once the server agreed to
//! TLS) as the TLS dialect reads it. The user and database are the account, and
//! passwords and SCRAM nonces change from session to session: all are set aside.

use super::framing::is_tls;
use super::messages::{self, Opening};

/// Parameters that name the account, not the driver.
const ACCOUNT_PARAMS: &[&str] = &["user", "database"];

pub fn signature(client_messages: &[&[u8]]) -> String {
    let mut lines = Vec::new();
    for message in client_messages {
        match messages::opening(message) {
            Some(Opening::SslRequest) => lines.push("SSLRequest".to_string()),
            Some(Opening::GssEncRequest) => lines.push("GSSENCRequest".to_string()),
            Some(Opening::Cancel) => lines.push("CancelRequest".to_string()),
            Some(Opening::Startup {
                major,
                minor,
                params,
            }) => {
                let params: Vec<String> = params
                    .iter()
                    .map(|(k, v)| match ACCOUNT_PARAMS.contains(&k.as_str()) {
                        true => k.clone(),
                        false => format!("{k}={v}"),
                    })
                    .collect();
                lines.push(format!(
                    "StartupMessage {major}.{minor} {}",
                    params.join(" ")
                ));
                break;
            }
            // A TLS hello, straight away or after the server agreed to an SSLRequest: the
            // startup is inside TLS, and the hello is what tells drivers apart.
            None if message.len() > 5 && is_tls(message) => {
                let hello = crate::dialect::tls::signature::signature(&[message]);
                lines.push(format!("TLS {hello}"));
                break;
            }
            None => break,
        }
    }
    lines.join("\n")
}

/// `protocol 3.0`, `TLS requested`, `direct TLS`, then each startup parameter that is not
/// the account (`client_encoding=UTF8`), or the TLS hello's (`up to TLSv1.3`, `ja4 ...`).
pub fn distinctions(client_messages: &[&[u8]]) -> Vec<String> {
    let mut traits = Vec::new();
    if client_messages
        .first()
        .is_some_and(|m| m.len() > 5 && is_tls(m))
    {
        traits.push("direct TLS".to_string());
    }
    for message in client_messages {
        if message.len() > 5 && is_tls(message) {
            traits.extend(crate::dialect::tls::signature::distinctions(&[message]));
            break;
        }
        match messages::opening(message) {
            Some(Opening::SslRequest) => traits.push("TLS requested".into()),
            Some(Opening::GssEncRequest) => traits.push("GSS encryption requested".into()),
            Some(Opening::Startup {
                major,
                minor,
                params,
            }) => {
                traits.insert(0, format!("protocol {major}.{minor}"));
                traits.extend(
                    params
                        .iter()
                        .filter(|(k, _)| !ACCOUNT_PARAMS.contains(&k.as_str()))
                        .map(|(k, v)| format!("{k}={}", shorten(v))),
                );
                break;
            }
            _ => {}
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
