//! The PostgreSQL messages the opening of a connection reads: startup packets and their
//! parameters, authentication requests and their methods, error and notice fields,
//! NegotiateProtocolVersion.

use super::framing::{CANCEL_REQUEST, GSSENC_REQUEST, SSL_REQUEST};

/// An untyped packet the client opens with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    Startup {
        major: u16,
        minor: u16,
        /// Parameters in order (protocol 2.0's fixed fields as `database`, `user`, ...).
        params: Vec<(String, String)>,
    },
    SslRequest,
    GssEncRequest,
    Cancel,
}

fn code_of(packet: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(packet.get(4..8)?.try_into().ok()?))
}

/// Reads a client's untyped packet.
pub fn opening(packet: &[u8]) -> Option<Opening> {
    let length = u32::from_be_bytes(packet.get(..4)?.try_into().ok()?) as usize;
    if length != packet.len() {
        return None;
    }
    Some(match code_of(packet)? {
        SSL_REQUEST => Opening::SslRequest,
        GSSENC_REQUEST => Opening::GssEncRequest,
        CANCEL_REQUEST => Opening::Cancel,
        code if code >> 16 == 2 => Opening::Startup {
            major: 2,
            minor: (code & 0xffff) as u16,
            params: v2_fields(&packet[8..]),
        },
        code if code >> 16 == 3 => Opening::Startup {
            major: 3,
            minor: (code & 0xffff) as u16,
            params: cstring_pairs(&packet[8..]),
        },
        _ => return None,
    })
}

/// Protocol 2.0's fixed-width startup fields.
fn v2_fields(body: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut at = 0;
    for (name, width) in [
        ("database", 64),
        ("user", 32),
        ("options", 64),
        ("unused", 64),
        ("tty", 64),
    ] {
        let field = body
            .get(at..(at + width).min(body.len()))
            .unwrap_or_default();
        let value = field.split(|&b| b == 0).next().unwrap_or_default();
        if !value.is_empty() {
            out.push((
                name.to_string(),
                String::from_utf8_lossy(value).into_owned(),
            ));
        }
        at += width;
    }
    out
}

/// NUL-terminated name/value pairs, ended by an empty name.
fn cstring_pairs(body: &[u8]) -> Vec<(String, String)> {
    let mut strings = body
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned());
    let mut out = Vec::new();
    while let (Some(name), Some(value)) = (strings.next(), strings.next()) {
        if name.is_empty() {
            break;
        }
        out.push((name, value));
    }
    out
}

/// A typed message's type and body (after the length).
pub fn typed(message: &[u8]) -> Option<(u8, &[u8])> {
    let kind = *message.first()?;
    let length = u32::from_be_bytes(message.get(1..5)?.try_into().ok()?) as usize;
    Some((kind, message.get(5..1 + length)?))
}

/// An authentication request ('R').
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Ok,
    /// A method the client must perform: its name as pg_hba.conf and the settings say it
    /// (`password`, `md5`, `scram-sha-256`, `gss`, ...), and for SASL its mechanisms.
    Method {
        name: String,
        mechanisms: Vec<String>,
    },
    /// SASLContinue, SASLFinal and the like: the middle of an exchange already begun.
    Continue(u32),
}

pub fn auth(body: &[u8]) -> Option<Auth> {
    let code = u32::from_be_bytes(body.get(..4)?.try_into().ok()?);
    let method = |name: &str| Auth::Method {
        name: name.to_string(),
        mechanisms: Vec::new(),
    };
    Some(match code {
        0 => Auth::Ok,
        2 => method("krb5"),
        3 => method("password"),
        5 => method("md5"),
        6 => method("scm-credential"),
        7 => method("gss"),
        9 => method("sspi"),
        10 => {
            let mechanisms: Vec<String> = body[4..]
                .split(|&b| b == 0)
                .filter(|m| !m.is_empty())
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .collect();
            Auth::Method {
                name: "scram-sha-256".to_string(),
                mechanisms,
            }
        }
        other => Auth::Continue(other),
    })
}

/// An ErrorResponse or NoticeResponse's fields by their one-letter codes.
pub fn fields(body: &[u8]) -> Vec<(char, String)> {
    body.split(|&b| b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| {
            (
                char::from(f[0]),
                String::from_utf8_lossy(&f[1..]).into_owned(),
            )
        })
        .collect()
}

pub fn field(fields: &[(char, String)], code: char) -> Option<&str> {
    fields
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, v)| v.as_str())
}

/// `FATAL 28000: no pg_hba.conf entry ...`: severity, SQLSTATE and message.
pub fn error_text(body: &[u8]) -> String {
    let f = fields(body);
    let severity = field(&f, 'V').or(field(&f, 'S')).unwrap_or("ERROR");
    let code = field(&f, 'C').unwrap_or("?????");
    let message = field(&f, 'M').unwrap_or("");
    format!("{severity} {code}: {message}")
}

/// The SQLSTATE of an ErrorResponse (`53300`), when it has one.
pub fn error_code(body: &[u8]) -> Option<String> {
    field(&fields(body), 'C').map(str::to_string)
}

/// NegotiateProtocolVersion: the newest minor version the server speaks, and the protocol
/// options it did not recognise.
pub fn negotiate_protocol(body: &[u8]) -> Option<(u32, Vec<String>)> {
    // Documented as the minor version; servers send the whole version code (3 << 16 | minor).
    let minor = u32::from_be_bytes(body.get(..4)?.try_into().ok()?) & 0xffff;
    let count = u32::from_be_bytes(body.get(4..8)?.try_into().ok()?) as usize;
    let options = body[8..]
        .split(|&b| b == 0)
        .filter(|o| !o.is_empty())
        .take(count)
        .map(|o| String::from_utf8_lossy(o).into_owned())
        .collect();
    Some((minor, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_packets_read_by_version() {
        let mut v3 = vec![0, 0, 0, 0, 0, 3, 0, 0];
        v3.extend_from_slice(b"user\0alice\0application_name\0psql\0\0");
        let length = v3.len() as u32;
        v3[..4].copy_from_slice(&length.to_be_bytes());
        assert_eq!(
            opening(&v3),
            Some(Opening::Startup {
                major: 3,
                minor: 0,
                params: vec![
                    ("user".into(), "alice".into()),
                    ("application_name".into(), "psql".into())
                ]
            })
        );
        let mut v2 = vec![0, 0, 1, 40, 0, 2, 0, 0];
        v2.extend_from_slice(&[0; 288]);
        v2[8..11].copy_from_slice(b"db1");
        v2[72..75].copy_from_slice(b"bob");
        let Some(Opening::Startup {
            major: 2, params, ..
        }) = opening(&v2)
        else {
            panic!("not a 2.0 startup");
        };
        assert_eq!(
            params,
            vec![
                ("database".into(), "db1".into()),
                ("user".into(), "bob".into())
            ]
        );
        assert_eq!(
            opening(&[0, 0, 0, 8, 4, 210, 22, 47]),
            Some(Opening::SslRequest)
        );
    }

    #[test]
    fn authentication_requests_name_their_method() {
        assert_eq!(auth(&[0, 0, 0, 0]), Some(Auth::Ok));
        assert_eq!(
            auth(b"\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"),
            Some(Auth::Method {
                name: "scram-sha-256".into(),
                mechanisms: vec!["SCRAM-SHA-256-PLUS".into(), "SCRAM-SHA-256".into()]
            })
        );
        assert_eq!(
            error_text(b"SFATAL\0VFATAL\0C28000\0Mno pg_hba.conf entry\0\0"),
            "FATAL 28000: no pg_hba.conf entry"
        );
    }
}
