//! What a client checks after the ServerHello, and aborts on: the size of the server's DH
//! group and certificate key, the curve of its ephemeral key, SHA-1 certificate signatures,
//! a version below the client's lowest. A case declares its client's constraints in its
//! `[variables]` (testssl.sh's client files give them for 162 real clients); the suite's
//! `[dialect_settings]` say which parameters make an admitted client warned.

use super::certificate::{Chain, Key};
use super::hello::Offer;
use super::key_exchange::Exchange;
use super::names;
use std::collections::BTreeMap;

/// A client's constraints, from its case's variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constraints {
    pub min_dh_bits: Option<u32>,
    pub max_dh_bits: Option<u32>,
    pub min_rsa_bits: Option<u32>,
    pub max_rsa_bits: Option<u32>,
    pub min_ecdsa_bits: Option<u32>,
    pub requires_sha2: bool,
    pub curves: Option<Vec<u16>>,
    pub lowest_version: Option<u16>,
}

impl Constraints {
    /// Reads the variables; an unusable value is an error naming the variable.
    pub fn from_variables(values: &BTreeMap<String, String>) -> Result<Constraints, String> {
        let bits = |key: &str| -> Result<Option<u32>, String> {
            match values.get(key).map(|v| v.trim()) {
                // testssl.sh's "no limit"
                None | Some("" | "-1") => Ok(None),
                Some(v) => v
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("variable `{key}` is `{v}`, not a number of bits")),
            }
        };
        let requires_sha2 = match values.get("requires_sha2").map(|v| v.trim()) {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(format!(
                    "variable `requires_sha2` is `{other}`, not true or false"
                ));
            }
        };
        let curves = match values.get("curves").map(|v| v.trim()) {
            None | Some("") => None,
            Some(list) => Some(
                list.split([':', ',', ' '])
                    .filter(|c| !c.is_empty())
                    .map(|c| {
                        names::group_code(c)
                            .ok_or_else(|| format!("variable `curves` names unknown curve `{c}`"))
                    })
                    .collect::<Result<Vec<u16>, String>>()?,
            ),
        };
        let lowest_version =
            match values.get("lowest_version").map(|v| v.trim()) {
                None | Some("") => None,
                Some(v) => Some(names::version_code(v).ok_or_else(|| {
                    format!("variable `lowest_version` is `{v}`, not a TLS version")
                })?),
            };
        Ok(Constraints {
            min_dh_bits: bits("min_dh_bits")?,
            max_dh_bits: bits("max_dh_bits")?,
            min_rsa_bits: bits("min_rsa_bits")?,
            max_rsa_bits: bits("max_rsa_bits")?,
            min_ecdsa_bits: bits("min_ecdsa_bits")?,
            requires_sha2,
            curves,
            lowest_version,
        })
    }
}

/// `key_share = "recorded"`: the case sends its hello's key shares as recorded (default
/// `own`: the harness's own replace x25519 and secp256r1 shares).
pub fn recorded_key_shares(values: &BTreeMap<String, String>) -> Result<bool, String> {
    match values.get("key_share").map(|v| v.trim()) {
        None | Some("" | "own") => Ok(false),
        Some("recorded") => Ok(true),
        Some(other) => Err(format!(
            "variable `key_share` is `{other}`: `own` or `recorded`"
        )),
    }
}

/// What the server showed past its hello.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerParams {
    pub chain: Option<Chain>,
    /// The ServerKeyExchange's key, or TLS 1.3's key share group.
    pub exchange: Option<Exchange>,
    /// The scheme of the ServerKeyExchange (TLS 1.2) or CertificateVerify (TLS 1.3).
    pub signature: Option<u16>,
}

impl ServerParams {
    /// `RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pss_rsae_sha256`
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(leaf) = self.chain.as_ref().and_then(Chain::leaf) {
            let chain = self.chain.as_ref().map_or(0, |c| c.certs.len());
            parts.push(format!(
                "{} certificate ({}, chain of {chain})",
                leaf.key, leaf.signature
            ));
        }
        if let Some(exchange) = &self.exchange {
            parts.push(exchange.to_string());
        }
        if let Some(scheme) = self.signature {
            parts.push(format!("signed {}", names::signature_scheme_name(scheme)));
        }
        parts.join(", ")
    }
}

/// Why the client would abort on what the server showed, if it would.
pub fn refusal(
    constraints: &Constraints,
    offer: Option<&Offer>,
    params: &ServerParams,
) -> Option<String> {
    let c = constraints;
    let exchange = match &params.exchange {
        Some(Exchange::Dh { bits }) => {
            outside("the server's DH group", *bits, c.min_dh_bits, c.max_dh_bits)
        }
        Some(Exchange::Ecdh { group }) => {
            let name = names::group_name(*group);
            if offer.is_some_and(|o| !o.groups.is_empty() && !o.groups.contains(group)) {
                Some(format!(
                    "the server chose curve {name}, which the client never offered"
                ))
            } else if c
                .curves
                .as_ref()
                .is_some_and(|curves| !curves.contains(group))
            {
                Some(format!(
                    "the server chose curve {name}, which the client does not accept"
                ))
            } else {
                None
            }
        }
        _ => None,
    };
    let chain = params.chain.as_ref();
    let key = match chain.and_then(Chain::leaf).map(|leaf| &leaf.key) {
        Some(Key::Rsa { bits }) => outside(
            "the server's RSA key",
            *bits,
            c.min_rsa_bits,
            c.max_rsa_bits,
        ),
        Some(Key::Ecdsa { bits, .. }) => {
            outside("the server's ECDSA key", *bits, c.min_ecdsa_bits, None)
        }
        _ => None,
    };
    let signature = chain
        .filter(|_| c.requires_sha2)
        .and_then(|chain| chain.checked().find_map(|cert| cert.not_sha2()))
        .map(|weak| {
            format!(
                "a certificate of the server's is signed with {weak}, and the client requires SHA-2"
            )
        });
    exchange.or(key).or(signature)
}

/// `{what} has N bits, under the client's minimum of M` (or over its maximum).
fn outside(what: &str, bits: u32, min: Option<u32>, max: Option<u32>) -> Option<String> {
    if let Some(min) = min.filter(|min| bits < *min) {
        return Some(format!(
            "{what} has {bits} bits, under the client's minimum of {min}"
        ));
    }
    max.filter(|max| bits > *max)
        .map(|max| format!("{what} has {bits} bits, over the client's maximum of {max}"))
}

/// The version check a client makes at the ServerHello.
pub fn version_refusal(constraints: &Constraints, version: u16) -> Option<String> {
    let lowest = constraints.lowest_version?;
    (version < lowest).then(|| {
        format!(
            "the server chose {}, below the client's lowest, {}",
            names::version_name(version),
            names::version_name(lowest)
        )
    })
}
