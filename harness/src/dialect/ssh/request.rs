//! SSH steps: an identification line (`SSH-2.0-OpenSSH_7.4`), a KEXINIT built from its
//! algorithm lists (`kexinit kex=... hostkey=... ciphers=... macs=... compression=...`), or
//! `kex`: the key-exchange message the negotiated method needs next, made by the harness with a
//! fresh key. A recorded message is replayed as recorded, a key-exchange init remade for the live
//! server's method where it needs one ([`super::conversation`]).

use super::wire::KexInit;
use crate::dialect::verbs::{key_value, words};
use crate::dialect::{SendError, StepError, StepSource};
use crate::template::Template;
use std::collections::BTreeMap;

const FIELDS: &[&str] = &["kex", "hostkey", "ciphers", "macs", "compression"];
const REQUIRED: &[&str] = &["kex", "hostkey", "ciphers", "macs"];

/// One compiled SSH step.
#[derive(Debug)]
pub enum SshRequest {
    /// An identification line, sent with CRLF.
    Ident(Template),
    /// A KEXINIT from its description (its values may use variables).
    KexInit(Template),
    /// The next key-exchange message, made when sent.
    Kex,
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b',' || b == b'{' || b == b'}')
}

pub fn compile(source: &StepSource<'_>) -> Result<SshRequest, StepError> {
    let (send, text) = (source.send, source.text);
    if text.starts_with("SSH-") {
        if text.contains(['\r', '\n']) {
            return Err(
                StepError::at(0, text.len(), "an identification is one line")
                    .with_help("the CRLF is added"),
            );
        }
        return Ok(SshRequest::Ident(send.clone()));
    }
    let verb_end = text.find(' ').unwrap_or(text.len());
    match &text[..verb_end] {
        "kex" if verb_end == text.len() => return Ok(SshRequest::Kex),
        "kexinit" => {}
        verb => {
            return Err(StepError::at(0, verb.len(), format!("`{verb}` is not an SSH step"))
                .with_help("an identification `SSH-2.0-...`, `kexinit kex=... hostkey=... ciphers=... macs=...`, or `kex`"));
        }
    }
    let mut seen = Vec::new();
    for (at, word) in words(text, verb_end) {
        let (key, value) = key_value(at, word, "key=value")?;
        if !FIELDS.contains(&key) {
            return Err(
                StepError::at(at, key.len(), format!("unknown kexinit field `{key}`"))
                    .unknown(key, FIELDS, "fields"),
            );
        }
        if let Some(bad) = value.split(',').find(|n| !is_name(n)) {
            let at = at + key.len() + 1 + value.find(bad).unwrap_or(0);
            return Err(StepError::at_item(
                at,
                bad.len(),
                format!("`{bad}` is not an algorithm name"),
            ));
        }
        seen.push(key);
    }
    if let Some(missing) = REQUIRED.iter().find(|f| !seen.contains(f)) {
        return Err(StepError::at(
            0,
            text.len(),
            format!("a kexinit needs {missing}=..."),
        ));
    }
    Ok(SshRequest::KexInit(send.clone()))
}

/// A KEXINIT description, expanded: its lists.
pub fn kexinit(text: &str) -> Result<KexInit, SendError> {
    let mut fields: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for word in text.split(' ').skip(1).filter(|w| !w.is_empty()) {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| SendError::Malformed(format!("`{word}` is not key=value")))?;
        fields.insert(key, value.split(',').map(str::to_string).collect());
    }
    let mut list = |key: &str| fields.remove(key).unwrap_or_default();
    let (kex, host_key, ciphers, macs) =
        (list("kex"), list("hostkey"), list("ciphers"), list("macs"));
    let compression = match list("compression") {
        c if c.is_empty() => vec!["none".to_string()],
        c => c,
    };
    Ok(KexInit {
        kex,
        host_key,
        cipher_c2s: ciphers.clone(),
        cipher_s2c: ciphers,
        mac_c2s: macs.clone(),
        mac_s2c: macs,
        compression_c2s: compression.clone(),
        compression_s2c: compression,
        first_kex_follows: false,
    })
}

#[cfg(test)]
mod tests {
    use crate::dialect::text_step;

    fn compiled(text: &str) -> Result<(), crate::dialect::StepError> {
        text_step(&super::super::Ssh, text).map(|_| ())
    }

    #[test]
    fn steps_are_checked_when_the_case_loads() {
        assert!(compiled("SSH-2.0-OpenSSH_7.4").is_ok());
        assert!(compiled("kex").is_ok());
        assert!(compiled("kexinit kex=diffie-hellman-group1-sha1 hostkey=ssh-dss ciphers=3des-cbc macs=hmac-md5").is_ok());
        let e = compiled("kexinit kex=a hostky=b ciphers=c macs=d").unwrap_err();
        assert_eq!(
            (e.offset, e.len, e.help.as_deref()),
            (14, 6, Some("did you mean `hostkey`?"))
        );
        let e = compiled("kexinit kex=a,,b hostkey=b ciphers=c macs=d").unwrap_err();
        assert_eq!(e.message, "`` is not an algorithm name");
        assert_eq!(
            compiled("kexinit kex=a ciphers=c macs=d")
                .unwrap_err()
                .message,
            "a kexinit needs hostkey=..."
        );
        assert!(compiled("hello").is_err());
    }
}
