//! What the suite deprecates (`[dialect_settings] deprecated_algorithms`): an admission that
//! negotiated one of these is a warning. Names match exactly, or as globs with `*`. And what
//! a DISCONNECT's reason code means (`busy_disconnect_reasons`, `error_disconnect_reasons`,
//! `locked_out_disconnect_reasons`): by default 12, too many connections, is the server being
//! busy and every other reason a lockout.

use crate::dialect::{
    ClassList, FromSettings, RefusalClass, RefusalClasses, SettingError, refusal_lists,
};
use std::collections::BTreeMap;

pub const DEPRECATED: &str = "deprecated_algorithms";
pub const BUSY: &str = "busy_disconnect_reasons";
pub const ERROR: &str = "error_disconnect_reasons";
pub const LOCKED_OUT: &str = "locked_out_disconnect_reasons";

const REFUSALS: [ClassList; 3] = refusal_lists((BUSY, &["12"]), (ERROR, &[]), LOCKED_OUT);

/// The SSH dialect's typed settings.
#[derive(Debug, Clone)]
pub struct SshPolicy {
    pub deprecations: Deprecations,
    pub refusals: RefusalClasses,
}

impl Default for SshPolicy {
    /// Read once per process: every conversation without a suite's settings takes them.
    fn default() -> SshPolicy {
        static DEFAULTS: std::sync::LazyLock<SshPolicy> = std::sync::LazyLock::new(|| {
            SshPolicy::from_settings(&BTreeMap::new()).expect("the defaults are valid")
        });
        DEFAULTS.clone()
    }
}

impl FromSettings for SshPolicy {
    fn from_settings(table: &BTreeMap<String, toml::Value>) -> Result<SshPolicy, SettingError> {
        Ok(SshPolicy {
            deprecations: Deprecations::from_settings(table)?,
            refusals: RefusalClasses::from_settings(
                table,
                &REFUSALS,
                RefusalClass::LockedOut,
                |code| code.parse::<u32>().is_ok(),
                "a disconnect reason code",
            )?,
        })
    }
}

/// SHA-1 signatures and key exchanges, DSA, CBC modes, 3DES, RC4, MD5 and SHA-1 MACs and the
/// 64-bit UMAC: what OpenSSH has removed or disabled and hardening guides drop.
const DEFAULT: &[&str] = &[
    "ssh-rsa",
    "ssh-dss",
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group-exchange-sha1",
    "*-cbc",
    "3des-*",
    "arcfour*",
    "hmac-sha1*",
    "hmac-md5*",
    "umac-64*",
];

#[derive(Debug, Clone)]
pub struct Deprecations(Vec<String>);

impl Default for Deprecations {
    fn default() -> Deprecations {
        Deprecations(DEFAULT.iter().map(|s| s.to_string()).collect())
    }
}

impl Deprecations {
    pub fn from_settings(
        table: &BTreeMap<String, toml::Value>,
    ) -> Result<Deprecations, SettingError> {
        let Some(names) = crate::dialect::string_list(table, DEPRECATED)? else {
            return Ok(Deprecations::default());
        };
        if let Some(bad) = names
            .iter()
            .find(|n| n.is_empty() || n.contains([',', ' ']) || !n.is_ascii())
        {
            return Err(
                SettingError::new(DEPRECATED, format!("`{bad}` is not an algorithm name"))
                    .with_help("a name such as `ssh-rsa`, or a glob such as `*-cbc`"),
            );
        }
        Ok(Deprecations(names))
    }

    /// The entry that deprecates `algorithm`, if one does.
    pub fn matching(&self, algorithm: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|pattern| glob(pattern, algorithm))
            .map(String::as_str)
    }
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len()).any(|skip| {
                    text.is_char_boundary(head.len() + skip)
                        && glob(tail, &text[head.len() + skip..])
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_exactly_or_by_glob() {
        let d = Deprecations::default();
        assert_eq!(d.matching("ssh-rsa"), Some("ssh-rsa"));
        assert_eq!(d.matching("rsa-sha2-256"), None);
        assert_eq!(d.matching("aes128-cbc"), Some("*-cbc"));
        assert_eq!(d.matching("hmac-sha1-etm@openssh.com"), Some("hmac-sha1*"));
        assert_eq!(d.matching("hmac-sha2-256"), None);
        assert_eq!(d.matching("3des-cbc"), Some("*-cbc"));
        assert!(glob("a*b*c", "axxbyyc") && !glob("a*b*c", "axxbyy"));
        let table: BTreeMap<String, toml::Value> =
            toml::from_str("deprecated_algorithms = [\"a b\"]").unwrap();
        assert_eq!(
            Deprecations::from_settings(&table).unwrap_err().message,
            "`a b` is not an algorithm name"
        );
    }
}
