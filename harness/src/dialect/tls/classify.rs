//! TLS classification: a ServerHello and its flight admit (warned when the negotiated version
//! or cipher suite is one the suite's policy lists as deprecated, or the DH group, RSA key or
//! certificate signature is weak); a fatal alert or a close before the ServerHello locks out;
//! a HelloRetryRequest admits when the client offers the group asked for; a version or cipher
//! suite the client never offered locks out, as a real client aborts.

use super::certificate::{Chain, Key};
use super::constraints::ServerParams;
use super::hello::Offer;
use super::key_exchange::Exchange;
use super::names::{self, TLS13};
use super::server_hello::ServerAnswer;
use crate::dialect::{FromSettings, SettingError, string_list, whole_number};
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
    /// A DH group smaller than this many bits warns (0: never).
    pub weak_dh_bits: u32,
    /// An RSA certificate key smaller than this many bits warns (0: never).
    pub weak_rsa_bits: u32,
    /// Substrings of certificate signature algorithms that warn, any case (`sha1`, `md5`).
    pub weak_signatures: Vec<String>,
    /// What each alert means: policy, a busy server, a server fault.
    pub alerts: crate::dialect::RefusalClasses,
}

pub const DEPRECATED_VERSIONS: &str = "deprecated_versions";
pub const DEPRECATED_CIPHERS: &str = "deprecated_ciphers";
pub const WEAK_DH_BITS: &str = "weak_dh_bits";
pub const WEAK_RSA_BITS: &str = "weak_rsa_bits";
pub const WEAK_SIGNATURES: &str = "weak_certificate_signatures";

impl Default for Deprecations {
    /// Below TLS 1.2, CBC modes, RSA key exchange, RC4 and 3DES; DH groups and RSA keys under
    /// 2048 bits; certificates signed with SHA-1 or MD5.
    fn default() -> Deprecations {
        let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Deprecations {
            deprecated_versions: owned(&["SSLv3", "TLSv1", "TLSv1.1"]),
            deprecated_ciphers: owned(&["_CBC_", "TLS_RSA_WITH_", "_RC4_", "_3DES_"]),
            weak_dh_bits: 2048,
            weak_rsa_bits: 2048,
            weak_signatures: owned(&["sha1", "md5"]),
            alerts: super::alerts::defaults(),
        }
    }
}

impl FromSettings for Deprecations {
    /// Reads the settings; a key left out keeps its default.
    fn from_settings(
        settings: &BTreeMap<String, toml::Value>,
    ) -> Result<Deprecations, SettingError> {
        let mut deprecations = Deprecations {
            alerts: super::alerts::from_settings(settings)?,
            ..Deprecations::default()
        };
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
        if let Some(bits) = whole_number(settings, WEAK_DH_BITS)? {
            deprecations.weak_dh_bits = bits;
        }
        if let Some(bits) = whole_number(settings, WEAK_RSA_BITS)? {
            deprecations.weak_rsa_bits = bits;
        }
        if let Some(signatures) = string_list(settings, WEAK_SIGNATURES)? {
            deprecations.weak_signatures = signatures;
        }
        Ok(deprecations)
    }
}

impl Deprecations {
    /// What makes an admission a warning: the version, the suite, and the parameters the
    /// server showed past its hello.
    fn deprecated(&self, version: u16, cipher: u16, params: &ServerParams) -> Vec<String> {
        let (version, cipher) = (names::version_name(version), names::cipher_name(cipher));
        let mut found = Vec::new();
        if self.deprecated_versions.contains(&version) {
            found.push(format!("{version} is deprecated"));
        }
        if let Some(pattern) = self
            .deprecated_ciphers
            .iter()
            .find(|p| cipher.contains(p.as_str()))
        {
            found.push(format!("{cipher} is deprecated ({pattern})"));
        }
        let dh = match params.exchange {
            Some(Exchange::Dh { bits }) => Some(bits),
            _ => None,
        };
        if let Some(bits) = dh.filter(|b| *b < self.weak_dh_bits) {
            found.push(format!(
                "the DH group has {bits} bits, under {}",
                self.weak_dh_bits
            ));
        }
        let chain = params.chain.as_ref();
        if let Some(Key::Rsa { bits }) = chain.and_then(Chain::leaf).map(|c| &c.key)
            && *bits < self.weak_rsa_bits
        {
            found.push(format!(
                "the RSA key has {bits} bits, under {}",
                self.weak_rsa_bits
            ));
        }
        let weak_signature = chain.into_iter().flat_map(Chain::checked).find(|c| {
            let signature = c.signature.to_ascii_lowercase();
            self.weak_signatures
                .iter()
                .any(|w| signature.contains(&w.to_ascii_lowercase()))
        });
        if let Some(cert) = weak_signature {
            found.push(format!("a certificate is signed with {}", cert.signature));
        }
        found
    }
}

/// An admission: the negotiated version and suite, what the server showed past its hello,
/// a note on how far the harness read, and whatever of it the suite deprecates.
pub fn admitted(
    version: u16,
    cipher: u16,
    params: &ServerParams,
    note: Option<&str>,
    policy: &Deprecations,
    text: &str,
) -> Verdict {
    let mut reason = format!(
        "negotiated {} with {}",
        names::version_name(version),
        names::cipher_name(cipher)
    );
    let summary = params.summary();
    if !summary.is_empty() {
        reason.push_str(&format!(", {summary}"));
    }
    if let Some(note) = note {
        reason.push_str(&format!(" ({note})"));
    }
    let deprecated = policy.deprecated(version, cipher, params);
    let kind = if deprecated.is_empty() {
        VerdictKind::Admitted
    } else {
        reason.push_str(&format!(": {}", deprecated.join("; ")));
        VerdictKind::Warned
    };
    Verdict::new(kind, "ServerHello", reason, Some(text.to_string()))
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
        } => admitted(
            *version,
            *cipher,
            &ServerParams::default(),
            None,
            policy,
            text,
        ),
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

/// A fatal alert (or one of unknown level): `when` says where in the handshake.
pub fn alert(level: u8, description: u8, when: &str, text: &str) -> Verdict {
    let stage = if when.starts_with("before") {
        "ClientHello"
    } else {
        "ServerHello"
    };
    Verdict::new(
        VerdictKind::LockedOut,
        stage,
        format!(
            "alert {} ({}) {when}",
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
