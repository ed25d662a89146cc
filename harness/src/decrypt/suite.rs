//! The cipher suites the harness decrypts, and what each needs: its record protection (an AEAD
//! or AES-CBC with an HMAC), its key and IV lengths, and the hash of its key derivation (the
//! TLS 1.2 PRF's or TLS 1.3's HKDF).

/// The hash a suite derives its keys with (and, for CBC suites, its record MAC's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
}

impl Hash {
    pub fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }

    pub fn hmac(self) -> ring::hmac::Algorithm {
        match self {
            Hash::Sha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => ring::hmac::HMAC_SHA256,
            Hash::Sha384 => ring::hmac::HMAC_SHA384,
        }
    }

    pub fn hkdf(self) -> ring::hkdf::Algorithm {
        match self {
            Hash::Sha1 => ring::hkdf::HKDF_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => ring::hkdf::HKDF_SHA256,
            Hash::Sha384 => ring::hkdf::HKDF_SHA384,
        }
    }
}

/// How a suite protects its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    AesGcm,
    ChaCha20Poly1305,
    /// AES-CBC with an HMAC of this hash (MAC-then-encrypt, or encrypt_then_mac if agreed).
    AesCbc(Hash),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    pub protection: Protection,
    pub key_len: usize,
    /// The hash of the PRF (TLS 1.2) or HKDF (TLS 1.3).
    pub prf: Hash,
}

impl Suite {
    pub fn aead(&self) -> Option<&'static ring::aead::Algorithm> {
        match (self.protection, self.key_len) {
            (Protection::AesGcm, 16) => Some(&ring::aead::AES_128_GCM),
            (Protection::AesGcm, _) => Some(&ring::aead::AES_256_GCM),
            (Protection::ChaCha20Poly1305, _) => Some(&ring::aead::CHACHA20_POLY1305),
            (Protection::AesCbc(_), _) => None,
        }
    }
}

const fn suite(code: u16, protection: Protection, key_len: usize, prf: Hash) -> Suite {
    Suite {
        code,
        protection,
        key_len,
        prf,
    }
}

use Hash::{Sha1, Sha256, Sha384};
use Protection::{AesCbc, AesGcm, ChaCha20Poly1305};

/// TLS 1.3's suites, then TLS 1.2's AEAD and CBC suites (ECDHE, DHE and RSA key exchange).
const SUITES: &[Suite] = &[
    suite(0x1301, AesGcm, 16, Sha256),
    suite(0x1302, AesGcm, 32, Sha384),
    suite(0x1303, ChaCha20Poly1305, 32, Sha256),
    suite(0xc02b, AesGcm, 16, Sha256),
    suite(0xc02f, AesGcm, 16, Sha256),
    suite(0x009c, AesGcm, 16, Sha256),
    suite(0x009e, AesGcm, 16, Sha256),
    suite(0xc02c, AesGcm, 32, Sha384),
    suite(0xc030, AesGcm, 32, Sha384),
    suite(0x009d, AesGcm, 32, Sha384),
    suite(0x009f, AesGcm, 32, Sha384),
    suite(0xcca8, ChaCha20Poly1305, 32, Sha256),
    suite(0xcca9, ChaCha20Poly1305, 32, Sha256),
    suite(0xccaa, ChaCha20Poly1305, 32, Sha256),
    suite(0x002f, AesCbc(Sha1), 16, Sha256),
    suite(0x0033, AesCbc(Sha1), 16, Sha256),
    suite(0xc009, AesCbc(Sha1), 16, Sha256),
    suite(0xc013, AesCbc(Sha1), 16, Sha256),
    suite(0x0035, AesCbc(Sha1), 32, Sha256),
    suite(0x0039, AesCbc(Sha1), 32, Sha256),
    suite(0xc00a, AesCbc(Sha1), 32, Sha256),
    suite(0xc014, AesCbc(Sha1), 32, Sha256),
    suite(0x003c, AesCbc(Sha256), 16, Sha256),
    suite(0x0067, AesCbc(Sha256), 16, Sha256),
    suite(0xc023, AesCbc(Sha256), 16, Sha256),
    suite(0xc027, AesCbc(Sha256), 16, Sha256),
    suite(0x003d, AesCbc(Sha256), 32, Sha256),
    suite(0x006b, AesCbc(Sha256), 32, Sha256),
    suite(0xc024, AesCbc(Sha384), 32, Sha384),
    suite(0xc028, AesCbc(Sha384), 32, Sha384),
];

/// The suite with IANA code `code`, if the harness decrypts it.
pub fn by_code(code: u16) -> Option<Suite> {
    SUITES.iter().copied().find(|s| s.code == code)
}
