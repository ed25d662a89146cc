//! TLS classification: a ServerHello admits (warned when the negotiated version or cipher suite
//! is one the suite's policy lists as deprecated); an alert or a close before the ServerHello
//! locks out; a HelloRetryRequest admits when the client offers the group asked for.

use super::hello::{Offer, ServerAnswer};
use super::names;
use crate::verdict::{Verdict, VerdictKind};

/// What the suite's policy deprecates (`[dialect_settings]` in suite.toml).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Version names, e.g. `TLSv1`, `TLSv1.1`.
    pub deprecated_versions: Vec<String>,
    /// Substrings of cipher suite names, e.g. `_CBC_`, `TLS_RSA_WITH_`.
    pub deprecated_ciphers: Vec<String>,
}

impl Policy {
    /// Defaults: below TLS 1.2, CBC modes, RSA key exchange, RC4 and 3DES are deprecated.
    pub fn from_settings(settings: &toml::Table) -> Policy {
        let list = |key: &str, default: &[&str]| match settings.get(key).and_then(|v| v.as_array())
        {
            Some(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            None => default.iter().map(|s| s.to_string()).collect(),
        };
        Policy {
            deprecated_versions: list("deprecated_versions", &["SSLv3", "TLSv1", "TLSv1.1"]),
            deprecated_ciphers: list(
                "deprecated_ciphers",
                &["_CBC_", "TLS_RSA_WITH_", "_RC4_", "_3DES_"],
            ),
        }
    }
}

pub fn answer(
    answer: &ServerAnswer,
    offer: Option<&Offer>,
    policy: &Policy,
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
