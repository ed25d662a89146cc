//! TLS steps: a scripted hello (`hello versions=... ciphers=... groups=... sni=...`), checked
//! field by field when the case loads; a recorded ClientHello (from a capture, or written as
//! `replay HEX`), its server name rewritten to `{host}`.

use super::hello::{self, Description};
use super::names;
use crate::dialect::verbs::{key_value, words};
use crate::dialect::{SendError, StepError, StepSource};
use crate::template::Template;
use std::collections::BTreeMap;

const FIELDS: &[&str] = &["versions", "ciphers", "groups", "sni"];

/// One compiled TLS step.
#[derive(Debug)]
pub enum TlsRequest {
    /// A hello built from its description when sent (its values may use variables).
    Hello(Template),
    /// A recorded ClientHello; with `rewrite_sni`, its server name becomes `{host}`.
    Recorded { hello: Vec<u8>, rewrite_sni: bool },
}

/// Checks a case file's step: `hello` and its fields, each value that holds no variable
/// checked against IANA's names.
pub fn compile(source: &StepSource<'_>) -> Result<TlsRequest, StepError> {
    let (send, text) = (source.send, source.text);
    let verb_end = text.find(' ').unwrap_or(text.len());
    let verb = &text[..verb_end];
    if verb == "replay" {
        return compile_replay(text, verb_end);
    }
    if verb != "hello" {
        let help = if verb == "hex" {
            "write the bytes as `send_hex = \"...\"`"
        } else {
            "a scripted client is `hello versions=... ciphers=... groups=... sni=...`, a recorded hello `replay HEX`"
        };
        return Err(
            StepError::at(0, verb.len(), format!("`{verb}` is not a TLS step")).with_help(help),
        );
    }
    let mut ciphers = false;
    for (offset, word) in words(text, verb_end) {
        let (key, value) = key_value(offset, word, "key=value")?;
        if !FIELDS.contains(&key) {
            return Err(
                StepError::at(offset, key.len(), format!("unknown hello field `{key}`")).unknown(
                    key,
                    FIELDS,
                    "hello fields",
                ),
            );
        }
        ciphers |= key == "ciphers";
        if value.contains('{') {
            continue; // known only when sent
        }
        let lookup: fn(&str) -> Option<u16> = match key {
            "versions" => names::version_code,
            "ciphers" => names::cipher_code,
            "groups" => names::group_code,
            _ => continue,
        };
        let mut at = offset + key.len() + 1;
        for item in value.split(',') {
            if lookup(item).is_none() {
                return Err(StepError::at_item(
                    at,
                    item.len(),
                    format!("unknown {} `{item}`", key.trim_end_matches('s')),
                )
                .with_help("IANA's names (TLSv1.2, TLS_AES_128_GCM_SHA256, x25519) or 0x codes"));
            }
            at += item.len() + 1;
        }
    }
    if !ciphers {
        return Err(StepError::at(0, text.len(), "a hello needs ciphers=..."));
    }
    Ok(TlsRequest::Hello(send.clone()))
}

/// `replay HEX`: a recorded ClientHello record, replayed as a recording's is.
fn compile_replay(text: &str, verb_end: usize) -> Result<TlsRequest, StepError> {
    let start = (verb_end + 1).min(text.len());
    let digits = text[start..].trim_end();
    if let Some(bad) = digits.find(|c: char| !c.is_ascii_hexdigit()) {
        return Err(StepError::at(start + bad, 1, "not a hex digit")
            .with_help("`replay` takes one ClientHello record in hex"));
    }
    let Ok(bytes) = hex::decode(digits) else {
        return Err(StepError::at_item(
            start,
            digits.len(),
            "an odd number of hex digits",
        ));
    };
    if hello::offer(&bytes).is_none() {
        return Err(StepError::at_item(
            start,
            digits.len(),
            "not a ClientHello record",
        ));
    }
    replay(&bytes).map_err(|e| StepError::at(start, digits.len(), e))
}

/// The words after `start`, with their byte offsets.
/// A recorded ClientHello as a step; one that names a server gets `{host}` instead.
pub fn replay(message: &[u8]) -> Result<TlsRequest, String> {
    let rewrite_sni = hello::offer(message).is_some_and(|o| o.sni.is_some());
    Ok(TlsRequest::Recorded {
        hello: message.to_vec(),
        rewrite_sni,
    })
}

impl TlsRequest {
    pub fn encode(&self, values: &BTreeMap<String, String>) -> Result<Vec<u8>, SendError> {
        match self {
            TlsRequest::Hello(template) => {
                let line = template.expand(values).map_err(SendError::Unset)?;
                let fields = line.split_once(' ').map_or("", |(_, rest)| rest);
                Ok(Description::parse(fields)
                    .map_err(SendError::Malformed)?
                    .build())
            }
            TlsRequest::Recorded { hello, rewrite_sni } => {
                match values.get("host").filter(|_| *rewrite_sni) {
                    Some(host) => hello::rewrite_sni(hello, host)
                        .ok_or(SendError::Unrewritable("ClientHello's server name")),
                    None => Ok(hello.clone()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{text_step, typed_text_step};

    #[test]
    fn an_empty_value_is_pointed_at_inside_the_step() {
        for text in [
            "hello ciphers=",
            "hello ciphers=TLS_AES_128_GCM_SHA256 groups=",
        ] {
            let err = text_step(&super::super::Tls, text).unwrap_err();
            assert!(err.offset + err.len <= text.len(), "{text}: {err:?}");
        }
    }

    #[test]
    fn a_hello_is_checked_field_by_field() {
        let tls = &super::super::Tls;
        let err =
            text_step(tls, "hello versions=TLSv1.2 ciphrs=TLS_AES_128_GCM_SHA256").unwrap_err();
        assert_eq!((err.offset, err.len), (23, 6));
        assert_eq!(err.help.as_deref(), Some("did you mean `ciphers`?"));
        let err = text_step(tls, "hello ciphers=TLS_AES_128_GCM_SHA256,NOPE").unwrap_err();
        assert_eq!(
            (err.offset, err.len, err.message.as_str()),
            (37, 4, "unknown cipher `NOPE`")
        );
        assert!(
            text_step(tls, "hello versions=TLSv1.2").is_err(),
            "no ciphers"
        );
        assert!(text_step(tls, "hello ciphers=TLS_AES_128_GCM_SHA256 sni={host}").is_ok());
        assert!(
            text_step(tls, "hello ciphers={suites}").is_ok(),
            "checked when sent"
        );
    }

    #[test]
    fn a_recorded_hello_gets_the_target_host_as_its_server_name() {
        let values = BTreeMap::from([("host".to_string(), "example.org".to_string())]);
        let scripted = typed_text_step(
            &super::super::Tls,
            "hello ciphers=TLS_AES_128_GCM_SHA256 sni=old.example",
        )
        .unwrap();
        let recorded = scripted.encode(&BTreeMap::new()).unwrap();
        let replayed = replay(&recorded).unwrap();
        let sent = replayed.encode(&values).unwrap();
        assert_eq!(
            hello::offer(&sent).unwrap().sni.as_deref(),
            Some("example.org")
        );
    }
}
