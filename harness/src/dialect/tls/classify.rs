//! TLS classification: a ServerHello admits (warned when the negotiated version or cipher suite
//! is one the suite's policy lists as deprecated); a fatal alert or a close before the
//! ServerHello locks out; a HelloRetryRequest admits when the client offers the group asked
//! for; a version or cipher suite the client never offered locks out, as a real client aborts.

use super::hello::Offer;
use super::names;
use super::server_hello::ServerAnswer;
use crate::dialect::{SettingError, string_list};
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

const TLS13: u16 = 0x0304;

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
        if let Some(versions) = string_list(settings, DEPRECATED_VERSIONS)? {
            if let Some(unknown) = versions.iter().find(|v| names::version_code(v).is_none()) {
                return Err(SettingError::new(
                    DEPRECATED_VERSIONS,
                    format!("`{unknown}` is not a TLS version"),
                )
                .with_help("versions: SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"));
            }
            deprecations.deprecated_versions = versions;
        }
        if let Some(ciphers) = string_list(settings, DEPRECATED_CIPHERS)? {
            deprecations.deprecated_ciphers = ciphers;
        }
        Ok(deprecations)
    }
}

pub fn answer(
    answer: &ServerAnswer,
    offer: Option<&Offer>,
    policy: &Deprecations,
    text: &str,
) -> Verdict {
    let stage = match answer {
        ServerAnswer::Hello { .. } => "ServerHello",
        ServerAnswer::RetryRequest { .. } => "HelloRetryRequest",
    };
    if let Some(violation) = violation(answer, offer) {
        return Verdict::new(
            VerdictKind::LockedOut,
            stage,
            violation,
            Some(text.to_string()),
        );
    }
    match answer {
        ServerAnswer::Hello {
            version, cipher, ..
        } => {
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
                    stage,
                    format!("negotiated {version} with {cipher}"),
                    Some(text.to_string()),
                )
            } else {
                Verdict::new(
                    VerdictKind::Warned,
                    stage,
                    format!(
                        "negotiated {version} with {cipher}: {}",
                        deprecated.join("; ")
                    ),
                    Some(text.to_string()),
                )
            }
        }
        ServerAnswer::RetryRequest {
            version,
            cipher,
            group,
        } => {
            let (version, cipher) = (names::version_name(*version), names::cipher_name(*cipher));
            let (kind, reason) = match group {
                // A retry for a cookie alone: the client sends its shares again.
                None => (
                    VerdictKind::Admitted,
                    format!(
                        "the server asked for a retry with {version} and {cipher}, naming no group: its retry would proceed"
                    ),
                ),
                Some(g) if offer.is_some_and(|o| o.groups.contains(g)) => (
                    VerdictKind::Admitted,
                    format!(
                        "the server asked for a retry with {version}, {cipher} and a key share on {}, which the client offers: its retry would proceed",
                        names::group_name(*g)
                    ),
                ),
                Some(g) => (
                    VerdictKind::LockedOut,
                    format!(
                        "the server asked for a retry with {version}, {cipher} and a key share on {}, which the client does not offer",
                        names::group_name(*g)
                    ),
                ),
            };
            Verdict::new(kind, stage, reason, Some(text.to_string()))
        }
    }
}

/// What a real client checks first and aborts on (RFC 8446 4.1.3, 4.1.4; RFC 5246 7.4.1.3):
/// a version or cipher suite it never offered, or a retry outside TLS 1.3.
fn violation(answer: &ServerAnswer, offer: Option<&Offer>) -> Option<String> {
    if let ServerAnswer::RetryRequest { version, .. } = answer
        && *version != TLS13
    {
        return Some(format!(
            "the server asked for a retry with {}, but only TLSv1.3 has retries",
            names::version_name(*version)
        ));
    }
    let offer = offer?;
    let chose = |what: String| format!("the server chose {what}, which the client never offered");
    if !offer.offers_version(answer.version()) {
        return Some(chose(names::version_name(answer.version())));
    }
    if !offer.ciphers.contains(&answer.cipher()) {
        return Some(chose(names::cipher_name(answer.cipher())));
    }
    None
}

/// A fatal alert (or one of unknown level) before the ServerHello.
pub fn alert(level: u8, description: u8, text: &str) -> Verdict {
    Verdict::new(
        VerdictKind::LockedOut,
        "ClientHello",
        format!(
            "alert {} ({}) before the ServerHello",
            names::alert_name(description),
            alert_level(level)
        ),
        Some(text.to_string()),
    )
}

pub fn alert_level(level: u8) -> String {
    match level {
        1 => "warning".to_string(),
        2 => "fatal".to_string(),
        other => format!("level {other}"),
    }
}
