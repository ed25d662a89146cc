//! MySQL steps: `ssl` (an SSLRequest: TLS starts right after it), `handshake user=...
//! [database=...] [plugin=...] [capabilities=0x...] [charset=N] [attr.NAME=VALUE ...]` (a
//! HandshakeResponse41 whose auth response the conversation computes, and whose later
//! challenges it answers itself from the suite's `{password}`), `quit` (COM_QUIT);
//! A recorded message is replayed as recorded, its scramble recomputed for the live nonce
//! ([`super::conversation`]).

use super::packets::{Response, caps};
use crate::dialect::verbs::{key_value, words};
use crate::dialect::{SendError, StepError, StepSource};
use crate::template::Template;

#[derive(Debug)]
pub enum MysqlRequest {
    /// A worded step, read when sent (its values may use variables).
    Worded(Template),
    /// A handshake for the suite's `user` and `database`, with the flags of the recording's
    /// SSLRequest: in place of one a recording holds only inside its own TLS session.
    SuiteHandshake,
}

/// The client capabilities a worded handshake sets unless it says otherwise.
pub const DEFAULT_CAPABILITIES: u32 = caps::LONG_PASSWORD
    | caps::PROTOCOL_41
    | caps::TRANSACTIONS
    | caps::SECURE_CONNECTION
    | caps::MULTI_RESULTS
    | caps::PLUGIN_AUTH
    | caps::CONNECT_ATTRS
    | caps::PLUGIN_AUTH_LENENC_DATA
    | caps::DEPRECATE_EOF;
/// utf8mb4_general_ci.
pub const DEFAULT_CHARSET: u8 = 45;

/// A worded step, its variables filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Ssl,
    Handshake(Handshake),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub user: String,
    pub database: Option<String>,
    pub plugin: Option<String>,
    pub capabilities: Option<u32>,
    pub charset: u8,
    pub attributes: Vec<(String, String)>,
}

const VERBS: &[&str] = &["ssl", "handshake", "quit"];
const KEYS: &[&str] = &["user", "database", "plugin", "capabilities", "charset"];

fn hex_or_decimal(value: &str) -> Option<u32> {
    match value.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

/// Reads a step's text: at load with `{variables}` unexpanded (their values are checked
/// when sent), and when sent.
fn read(text: &str) -> Result<Step, StepError> {
    let mut all = words(text, 0);
    let Some((_, verb)) = all.next() else {
        return Err(StepError::at(0, 1, "an empty step"));
    };
    if !VERBS.contains(&verb) {
        return Err(
            StepError::at(0, verb.len(), format!("`{verb}` is not a MySQL step"))
                .unknown(verb, VERBS, "steps"),
        );
    }
    let mut handshake = Handshake {
        user: String::new(),
        database: None,
        plugin: None,
        capabilities: None,
        charset: DEFAULT_CHARSET,
        attributes: Vec::new(),
    };
    let mut has_user = false;
    for (at, word) in all {
        if verb != "handshake" {
            return Err(StepError::at(
                at,
                word.len(),
                format!("`{verb}` takes nothing more"),
            ));
        }
        let (key, value) = key_value(at, word, "name=value")?;
        let templated = value.contains('{');
        let bad_value = |what: &str| {
            StepError::at_item(
                at + key.len() + 1,
                value.len(),
                format!("`{value}` is not {what}"),
            )
        };
        match key {
            "user" => {
                has_user = true;
                handshake.user = value.to_string();
            }
            "database" => handshake.database = Some(value.to_string()),
            "plugin" => handshake.plugin = Some(value.to_string()),
            "capabilities" => match hex_or_decimal(value) {
                Some(flags) => handshake.capabilities = Some(flags),
                None if templated => {}
                None => return Err(bad_value("a number (`0x` for hex)")),
            },
            "charset" => match value.parse() {
                Ok(charset) => handshake.charset = charset,
                Err(_) if templated => {}
                Err(_) => return Err(bad_value("a collation number, 0 to 255")),
            },
            _ => match key.strip_prefix("attr.") {
                Some(name) if !name.is_empty() => {
                    handshake
                        .attributes
                        .push((name.to_string(), value.to_string()));
                }
                _ => {
                    return Err(StepError::at(
                        at,
                        key.len(),
                        format!("a handshake takes no `{key}`"),
                    )
                    .unknown(
                        key,
                        KEYS,
                        "keys (and attr.NAME for a connection attribute)",
                    ));
                }
            },
        }
    }
    Ok(match verb {
        "ssl" => Step::Ssl,
        "quit" => Step::Quit,
        _ if !has_user => {
            return Err(StepError::at(0, text.len(), "a handshake needs user=...")
                .with_help("the server looks the account up by its user"));
        }
        _ => Step::Handshake(handshake),
    })
}

pub fn compile(source: &StepSource<'_>) -> Result<MysqlRequest, StepError> {
    read(source.text)?;
    Ok(MysqlRequest::Worded(source.send.clone()))
}

/// A worded step once its variables are filled.
pub fn expanded(text: &str) -> Result<Step, SendError> {
    read(text).map_err(|e| SendError::Malformed(e.message))
}

/// The payload of an SSLRequest: the first 32 bytes of a HandshakeResponse41, with
/// `CLIENT_SSL`.
pub fn ssl_request_payload(capabilities: u32, charset: u8) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&(capabilities | caps::SSL).to_le_bytes());
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(charset);
    p.extend_from_slice(&[0; 23]);
    p
}

/// The payload of a HandshakeResponse41 as `r` describes it.
pub fn response_payload(r: &Response) -> Vec<u8> {
    let capabilities = r.capabilities;
    let mut p = Vec::new();
    p.extend_from_slice(&capabilities.to_le_bytes());
    p.extend_from_slice(&r.max_packet.to_le_bytes());
    p.push(r.charset);
    p.extend_from_slice(&[0; 19]);
    p.extend_from_slice(&r.mariadb_capabilities.to_le_bytes());
    p.extend_from_slice(r.user.as_bytes());
    p.push(0);
    let auth = &r.auth_response;
    if capabilities & caps::PLUGIN_AUTH_LENENC_DATA != 0 {
        put_lenenc(&mut p, auth);
    } else {
        p.push(auth.len().min(255) as u8);
        p.extend_from_slice(&auth[..auth.len().min(255)]);
    }
    if capabilities & caps::CONNECT_WITH_DB != 0 {
        p.extend_from_slice(r.database.as_deref().unwrap_or_default().as_bytes());
        p.push(0);
    }
    if capabilities & caps::PLUGIN_AUTH != 0 {
        p.extend_from_slice(r.plugin.as_deref().unwrap_or_default().as_bytes());
        p.push(0);
    }
    if capabilities & caps::CONNECT_ATTRS != 0 {
        let mut attrs = Vec::new();
        for (k, v) in &r.attributes {
            put_lenenc(&mut attrs, k.as_bytes());
            put_lenenc(&mut attrs, v.as_bytes());
        }
        put_lenenc(&mut p, &attrs);
    }
    p
}

impl Handshake {
    /// The response this step describes, with `auth` as its auth response and the flags
    /// it gives or the defaults (with `CONNECT_WITH_DB` when it names a database).
    pub fn response(&self, plugin: Option<String>, auth: Vec<u8>) -> Response {
        let mut capabilities = self.capabilities.unwrap_or(DEFAULT_CAPABILITIES);
        if self.capabilities.is_none() && self.database.is_some() {
            capabilities |= caps::CONNECT_WITH_DB;
        }
        Response {
            capabilities,
            mariadb_capabilities: 0,
            max_packet: 16 << 20,
            charset: self.charset,
            user: self.user.clone(),
            auth_response: auth,
            database: self.database.clone(),
            plugin,
            attributes: self.attributes.clone(),
        }
    }
}

/// A length-encoded string.
pub fn put_lenenc(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    match n {
        0..=250 => out.push(n as u8),
        251..=0xffff => {
            out.push(0xfc);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xff_ffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u64).to_le_bytes());
        }
    }
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::mysql::packets::{ClientHello, client_hello};
    use crate::dialect::text_step;

    fn compiled(text: &str) -> Result<(), StepError> {
        text_step(&super::super::Mysql, text).map(|_| ())
    }

    #[test]
    fn steps_are_checked_when_the_case_loads() {
        assert!(
            compiled("handshake user={user} plugin=client_ed25519 attr._client_name=x").is_ok()
        );
        assert!(compiled("ssl").is_ok());
        assert!(
            compiled("auth").is_err(),
            "the conversation answers challenges itself"
        );
        let e = compiled("handshake user=a charset=utf8").unwrap_err();
        assert_eq!((e.offset, e.len), (25, 4));
        assert_eq!(
            compiled("handshake database=x").unwrap_err().message,
            "a handshake needs user=..."
        );
        assert_eq!(
            compiled("handshke user=a").unwrap_err().help.as_deref(),
            Some("did you mean `handshake`?")
        );
        assert_eq!(
            compiled("handshake user=a plugn=x")
                .unwrap_err()
                .help
                .as_deref(),
            Some("did you mean `plugin`?")
        );
        assert!(compiled("ssl now").is_err());
    }

    #[test]
    fn a_handshake_reads_back_as_sent() {
        let Step::Handshake(h) =
            expanded("handshake user=alice database=db plugin=p attr.program_name=t").unwrap()
        else {
            panic!("not a handshake");
        };
        let payload = response_payload(&h.response(h.plugin.clone(), b"scramble".to_vec()));
        let Some(ClientHello::Response(r)) = client_hello(&payload) else {
            panic!("does not read back");
        };
        assert_eq!(r.user, "alice");
        assert_eq!(r.database.as_deref(), Some("db"));
        assert_eq!(r.plugin.as_deref(), Some("p"));
        assert_eq!(r.auth_response, b"scramble");
        assert_eq!(r.attribute("program_name"), Some("t"));
        assert!(matches!(
            client_hello(&ssl_request_payload(DEFAULT_CAPABILITIES, 45)),
            Some(ClientHello::SslRequest { .. })
        ));
    }
}
