//! PostgreSQL messages as people read them: `StartupMessage 3.0 user=alice database=app
//! application_name=psql`, `SSLRequest`, `S (TLS accepted)`, `AuthenticationSASL
//! SCRAM-SHA-256`, `ErrorResponse FATAL 28000: no pg_hba.conf entry ...`. Passwords, salts,
//! nonces and keys are never shown.

use super::messages::{self, Auth, Opening};
use crate::dialect::Redactions;
use crate::direction::Direction;

pub fn describe(from: Direction, bytes: &[u8]) -> String {
    if super::framing::is_tls(bytes) {
        return format!("{} bytes of TLS", bytes.len());
    }
    if from == Direction::Server && bytes.len() == 1 {
        return match bytes[0] {
            b'S' => "S (TLS accepted)".to_string(),
            b'N' => "N (declined)".to_string(),
            b'G' => "G (GSS encryption accepted)".to_string(),
            other => format!("one byte 0x{other:02x}"),
        };
    }
    if from == Direction::Client && bytes.first() == Some(&0) {
        return match messages::opening(bytes) {
            Some(Opening::SslRequest) => "SSLRequest".to_string(),
            Some(Opening::GssEncRequest) => "GSSENCRequest".to_string(),
            Some(Opening::Cancel) => "CancelRequest".to_string(),
            Some(Opening::Startup {
                major,
                minor,
                params,
            }) => {
                let mut text = format!("StartupMessage {major}.{minor}");
                for (name, value) in params {
                    text.push_str(&format!(" {name}={value}"));
                }
                text
            }
            None => crate::dialect::describe_unframed(bytes),
        };
    }
    let Some((kind, body)) = messages::typed(bytes) else {
        // A protocol 2 server's error: `E`, then text ending in a NUL.
        if from == Direction::Server && bytes.first() == Some(&b'E') && bytes.ends_with(&[0]) {
            let text = String::from_utf8_lossy(&bytes[1..bytes.len() - 1]);
            return format!("ErrorResponse (protocol 2) {}", text.trim());
        }
        return crate::dialect::describe_unframed(bytes);
    };
    match (from, kind) {
        (Direction::Server, b'R') => match messages::auth(body) {
            Some(Auth::Ok) => "AuthenticationOk".to_string(),
            Some(Auth::Method { name, mechanisms }) if !mechanisms.is_empty() => {
                let _ = name;
                format!("AuthenticationSASL {}", mechanisms.join(","))
            }
            Some(Auth::Method { name, .. }) => match name.as_str() {
                "password" => "AuthenticationCleartextPassword".to_string(),
                "md5" => "AuthenticationMD5Password".to_string(),
                other => format!("Authentication ({other})"),
            },
            // The server's nonce, salt and signature are not shown.
            Some(Auth::Continue(11)) => "AuthenticationSASLContinue".to_string(),
            Some(Auth::Continue(12)) => "AuthenticationSASLFinal".to_string(),
            Some(Auth::Continue(code)) => format!("Authentication {code} (continued)"),
            None => "Authentication (malformed)".to_string(),
        },
        (Direction::Server, b'E') => format!("ErrorResponse {}", messages::error_text(body)),
        (Direction::Server, b'N') => format!("NoticeResponse {}", messages::error_text(body)),
        (Direction::Server, b'v') => match messages::negotiate_protocol(body) {
            Some((minor, options)) if options.is_empty() => {
                format!("NegotiateProtocolVersion 3.{minor}")
            }
            Some((minor, options)) => {
                format!(
                    "NegotiateProtocolVersion 3.{minor}, unrecognized {}",
                    options.join(",")
                )
            }
            None => "NegotiateProtocolVersion (malformed)".to_string(),
        },
        (Direction::Server, b'S') => {
            let mut parts = body.split(|&b| b == 0).map(String::from_utf8_lossy);
            let name = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default();
            format!("ParameterStatus {name}={value}")
        }
        (Direction::Server, b'K') => "BackendKeyData".to_string(),
        (Direction::Server, b'Z') => format!(
            "ReadyForQuery {}",
            body.first().map_or('?', |&b| char::from(b))
        ),
        (Direction::Client, b'p') => {
            let mechanism = body.split(|&b| b == 0).next().unwrap_or_default();
            if mechanism.starts_with(b"SCRAM-") && body.len() > mechanism.len() + 4 {
                format!("SASLInitialResponse {}", String::from_utf8_lossy(mechanism))
            } else if is_scram_client_final(body) {
                // The client's nonce and proof are not shown.
                "SASLResponse".to_string()
            } else {
                "PasswordMessage".to_string()
            }
        }
        (Direction::Client, b'Q') => {
            let query =
                String::from_utf8_lossy(body.strip_suffix(b"\0").unwrap_or(body)).into_owned();
            format!("Query {query}")
        }
        (Direction::Client, b'X') => "Terminate".to_string(),
        (_, kind) => format!("'{}' message, {} bytes", char::from(kind), body.len()),
    }
}

/// SCRAM's client-final message: `c=` (the channel binding), `r=` (the nonce), `p=` (the
/// proof).
fn is_scram_client_final(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.starts_with("c=") && text.contains(",r=") && text.contains(",p=")
}

/// Server versions change with every minor release.
pub static REDACTIONS: Redactions = Redactions::new(&[(
    r"\b(server_version=|PostgreSQL )[0-9][^\s,]*( \([^)\n]*\))?",
    "$1<version>",
)]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_by_direction_and_type() {
        assert_eq!(describe(Direction::Server, b"N"), "N (declined)");
        assert_eq!(
            describe(Direction::Client, &[0, 0, 0, 8, 4, 210, 22, 47]),
            "SSLRequest"
        );
        assert_eq!(
            describe(Direction::Server, b"R\x00\x00\x00\x0c\x00\x00\x00\x05salt"),
            "AuthenticationMD5Password"
        );
        assert_eq!(
            describe(Direction::Client, b"p\x00\x00\x00\x08abc\0"),
            "PasswordMessage"
        );
        assert_eq!(
            describe(Direction::Client, b"p\x00\x00\x00\x16c=biws,r=abc,p=xyz"),
            "SASLResponse"
        );
        assert_eq!(
            describe(Direction::Server, b"R\x00\x00\x00\x0d\x00\x00\x00\x0cv=abc"),
            "AuthenticationSASLFinal"
        );
        assert_eq!(
            describe(Direction::Server, b"Z\x00\x00\x00\x05I"),
            "ReadyForQuery I"
        );
        assert_eq!(
            REDACTIONS.apply("ParameterStatus server_version=15.14 (Debian 15.14-0+deb12u1)"),
            "ParameterStatus server_version=<version>"
        );
    }
}
