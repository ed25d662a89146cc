//! IANA names of TLS protocol versions, cipher suites, named groups, signature schemes and
//! alerts, both ways: code to name for people, name (any case) or `0x` code to code for case
//! files. Cipher suites come from `tls-parser`'s copy of IANA's registry; the rest from
//! [`registry`](super::registry).

use super::registry::{ALERTS, GROUPS, MORE_CIPHERS, NOT_IANA_CIPHERS, SIGNATURE_SCHEMES};
use tls_parser::{CIPHERS, TlsCipherSuite};

/// Protocol versions as OpenSSL and the suite files spell them (IANA keeps no registry of
/// versions); 0x0002 is the version an SSLv2-only client's hello carries.
const VERSIONS: &[(u16, &str)] = &[
    (0x0002, "SSLv2"),
    (0x0300, "SSLv3"),
    (0x0301, "TLSv1"),
    (0x0302, "TLSv1.1"),
    (0x0303, "TLSv1.2"),
    (0x0304, "TLSv1.3"),
];

pub const TLS13: u16 = 0x0304;

fn name<T: PartialEq + Copy>(table: &[(T, &'static str)], code: T) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

fn code<T: Copy>(table: &[(T, &'static str)], text: &str) -> Option<T> {
    table
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(text))
        .map(|(c, _)| *c)
}

/// `0x` followed by four hex digits.
fn hex_code(text: &str) -> Option<u16> {
    text.strip_prefix("0x")
        .filter(|h| h.len() == 4)
        .and_then(|h| u16::from_str_radix(h, 16).ok())
}

pub fn version_name(v: u16) -> String {
    name(VERSIONS, v).map_or_else(|| format!("0x{v:04x}"), str::to_string)
}

pub fn version_code(text: &str) -> Option<u16> {
    code(VERSIONS, text).or_else(|| hex_code(text))
}

/// The suite's IANA name, if IANA gives it one.
fn iana_cipher(c: u16) -> Option<&'static str> {
    if NOT_IANA_CIPHERS.contains(&c) {
        return None;
    }
    TlsCipherSuite::from_id(c)
        .map(|s| s.name)
        .or_else(|| name(MORE_CIPHERS, c))
}

pub fn cipher_name(c: u16) -> String {
    iana_cipher(c).map_or_else(|| format!("0x{c:04X}"), str::to_string)
}

/// A cipher suite by its IANA name in any case (`tls-parser`'s own lookup is exact), or a
/// `0x` code.
pub fn cipher_code(text: &str) -> Option<u16> {
    CIPHERS
        .entries()
        .find(|(c, s)| s.name.eq_ignore_ascii_case(text) && !NOT_IANA_CIPHERS.contains(c))
        .map(|(c, _)| *c)
        .or_else(|| code(MORE_CIPHERS, text))
        .or_else(|| hex_code(text))
}

pub fn group_name(g: u16) -> String {
    name(GROUPS, g).map_or_else(|| format!("0x{g:04x}"), str::to_string)
}

/// OpenSSL's names for groups IANA names otherwise (testssl.sh's client files use them).
const OPENSSL_GROUPS: &[(u16, &str)] = &[(19, "prime192v1"), (23, "prime256v1")];

pub fn group_code(text: &str) -> Option<u16> {
    code(GROUPS, text)
        .or_else(|| code(OPENSSL_GROUPS, text))
        .or_else(|| hex_code(text))
}

/// The size of a finite-field group (RFC 7919) in bits.
pub fn ffdhe_bits(g: u16) -> Option<u32> {
    match g {
        256 => Some(2048),
        257 => Some(3072),
        258 => Some(4096),
        259 => Some(6144),
        260 => Some(8192),
        _ => None,
    }
}

pub fn signature_scheme_name(s: u16) -> String {
    name(SIGNATURE_SCHEMES, s).map_or_else(|| format!("0x{s:04x}"), str::to_string)
}

pub fn signature_scheme_code(text: &str) -> Option<u16> {
    code(SIGNATURE_SCHEMES, text).or_else(|| hex_code(text))
}

pub fn alert_name(a: u8) -> String {
    name(ALERTS, a).map_or_else(|| format!("alert {a}"), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_iana_cipher_suite_reads_back_by_name_and_code() {
        let named: Vec<u16> = (0..=u16::MAX)
            .filter(|c| iana_cipher(*c).is_some())
            .collect();
        // 345 in tls-parser's copy of the registry, 7 GOST suites beside it.
        assert_eq!(named.len(), 352);
        for c in named {
            let name = cipher_name(c);
            assert_eq!(cipher_code(&name), Some(c), "{name}");
            assert_eq!(cipher_code(&name.to_ascii_lowercase()), Some(c), "{name}");
            assert!(name.starts_with("TLS_"), "{name}");
        }
        assert_eq!(cipher_name(0x006B), "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256");
        assert_eq!(
            cipher_name(0xCCAA),
            "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        );
        assert_eq!(
            cipher_name(0xC102),
            "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT"
        );
        assert_eq!(cipher_code("0x006B"), Some(0x006B));
    }

    #[test]
    fn codes_iana_leaves_unnamed_print_as_codes() {
        assert_eq!(
            cipher_name(0x0062),
            "0x0062",
            "a 1999 draft's suite, not IANA's"
        );
        assert_eq!(cipher_code("TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA"), None);
        assert_eq!(cipher_name(0x0A0A), "0x0A0A", "GREASE");
        assert_eq!(group_name(0x0A0A), "0x0a0a");
        assert_eq!(signature_scheme_name(0x0402), "0x0402");
    }

    #[test]
    fn groups_signature_schemes_and_alerts_have_iana_spelling() {
        for (code, name) in [
            (0x001D, "x25519"),
            (0x001A, "brainpoolP256r1"),
            (0x0102, "ffdhe4096"),
            (0x11EC, "X25519MLKEM768"),
            (0x0029, "curveSM2"),
        ] {
            assert_eq!(group_name(code), name);
            assert_eq!(group_code(&name.to_ascii_uppercase()), Some(code));
        }
        assert_eq!(signature_scheme_name(0x0804), "rsa_pss_rsae_sha256");
        assert_eq!(
            signature_scheme_code("ecdsa_brainpoolP256r1tls13_sha256"),
            Some(0x081A)
        );
        assert_eq!(alert_name(116), "certificate_required");
    }

    /// tls-parser's own group and signature scheme tables (CamelCase groups, a subset of
    /// schemes) agree with the registry transcribed here wherever they name a code.
    #[test]
    fn the_transcribed_registries_agree_with_tls_parser() {
        for code in 0..=u16::MAX {
            let theirs = tls_parser::NamedGroup(code).to_string();
            if !theirs.starts_with("NamedGroup(") {
                assert!(name(GROUPS, code).is_some(), "group {code:#06x} ({theirs})");
            }
            let theirs = tls_parser::SignatureScheme(code).to_string();
            if !theirs.starts_with("SignatureScheme(") {
                assert_eq!(signature_scheme_name(code), theirs);
            }
        }
    }
}
