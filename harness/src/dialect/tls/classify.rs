//! TLS classification: a ServerHello admits (warned when the negotiated version or cipher suite
//! is one the suite's policy lists as deprecated); an alert or a close before the ServerHello
//! locks out; a HelloRetryRequest admits when the client offers the group asked for.

use super::hello::Offer;
use super::names;
use super::server_hello::ServerAnswer;
use crate::dialect::SettingError;
use crate::verdict::{Verdict, VerdictKind};
use std::collections::BTreeMap;

/// What the suite deprecates (`[dialect_settings]` in suite.toml): admitted with one of these
/// is warned.
#[derive(Debug, Clone)]
pub struct Deprecations {
    /// Version names, e.g. `TLSv1`, `TLSv1.1`.
    pub deprecated_versions: Vec<String>,
    /// Substrings of cipher suite names, e.g. `_CBC_`, `TLS_RSA_WITH_`.
    pub deprecated_ciphers: Vec<String>,
}

pub const DEPRECATED_VERSIONS: &str = "deprecated_versions";
pub const DEPRECATED_CIPHERS: &str = "deprecated_ciphers";

impl Default for Deprecations {
    /// Below TLS 1.2, CBC modes, RSA key exchange, RC4 and 3DES.
    fn default() -> Deprecations {
        let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Deprecations {
            deprecated_versions: owned(&["SSLv3", "TLSv1", "TLSv1.1"]),
            deprecated_ciphers: owned(&["_CBC_", "TLS_RSA_WITH_", "_RC4_", "_3DES_"]),
        }
    }
}

impl Deprecations {
    /// Reads the settings; a key left out keeps its default.
    pub fn from_settings(
        settings: &BTreeMap<String, toml::Value>,
    ) -> Result<Deprecations, SettingError> {
        let mut deprecations = Deprecations::default();
        if let Some(value) = settings.get(DEPRECATED_VERSIONS) {
            let versions = strings(DEPRECATED_VERSIONS, value)?;
            if let Some(unknown) = versions.iter().find(|v| names::version_code(v).is_none()) {
                return Err(SettingError::new(
                    DEPRECATED_VERSIONS,
                    format!("`{unknown}` is not a TLS version"),
                )
                .with_help("versions: SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"));
            }
            deprecations.deprecated_versions = versions;
        }
        if let Some(value) = settings.get(DEPRECATED_CIPHERS) {
            deprecations.deprecated_ciphers = strings(DEPRECATED_CIPHERS, value)?;
        }
        Ok(deprecations)
    }
}

fn strings(key: &str, value: &toml::Value) -> Result<Vec<String>, SettingError> {
    let not_strings = || SettingError::new(key, "expected a list of strings");
    value
        .as_array()
        .ok_or_else(not_strings)?
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(not_strings))
        .collect()
}

pub fn answer(
    answer: &ServerAnswer,
    offer: Option<&Offer>,
    policy: &Deprecations,
    text: &str,
) -> Verdict {
    match answer {
        ServerAnswer::Hello { version, cipher } => {
            let (version, cipher) = (names::version_name(*version), names::cipher_name(*cipher));
            let mut deprecated = Vec::new();
            if policy.deprecated_versions.contains(&version) {
                deprecated.push(format!("{version} is deprecated"));
            }
            if let Some(pattern) = policy
                .deprecated_ciphers
                .iter()
                .find(|p| cipher.contains(p.as_str()))
            {
                deprecated.push(format!("{cipher} is deprecated ({pattern})"));
            }
            if deprecated.is_empty() {
                Verdict::new(
                    VerdictKind::Admitted,
                    "ServerHello",
                    format!("negotiated {version} with {cipher}"),
                    Some(text.to_string()),
                )
            } else {
                Verdict::new(
                    VerdictKind::Warned,
                    "ServerHello",
                    format!(
                        "negotiated {version} with {cipher}: {}",
                        deprecated.join("; ")
                    ),
                    Some(text.to_string()),
                )
            }
        }
        ServerAnswer::RetryRequest { group } => {
            let name = group.map_or_else(|| "no group".to_string(), names::group_name);
            let offered = matches!((group, offer), (Some(g), Some(o)) if o.groups.contains(g));
            if offered {
                Verdict::new(
                    VerdictKind::Admitted,
                    "HelloRetryRequest",
                    format!(
                        "the server asked for a key share on {name}, which the client offers: its retry would proceed"
                    ),
                    Some(text.to_string()),
                )
            } else {
                Verdict::new(
                    VerdictKind::LockedOut,
                    "HelloRetryRequest",
                    format!(
                        "the server asked for a key share on {name}, which the client does not offer"
                    ),
                    Some(text.to_string()),
                )
            }
        }
    }
}

pub fn alert(level: u8, description: u8, text: &str) -> Verdict {
    let level = if level == 2 { "fatal" } else { "warning" };
    Verdict::new(
        VerdictKind::LockedOut,
        "ClientHello",
        format!(
            "alert {} ({level}) before the ServerHello",
            names::alert_name(description)
        ),
        Some(text.to_string()),
    )
}
