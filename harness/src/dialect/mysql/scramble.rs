//! The answers to each authentication plugin's challenge, computed from the suite's password:
//! mysql_native_password's SHA-1 scramble, caching_sha2_password's SHA-256 scramble (and its
//! full authentication: the password in the clear, only over TLS), MariaDB's client_ed25519
//! (an Ed25519 signature of the nonce with the key expanded from SHA-512 of the password),
//! and the clear password of mysql_clear_password and sha256_password over TLS.

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use sha2::Digest;

/// The plugins the harness can answer.
pub const PLUGINS: &[&str] = &[
    "mysql_native_password",
    "caching_sha2_password",
    "client_ed25519",
    "sha256_password",
    "mysql_clear_password",
];

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))); empty for an empty password.
pub fn native(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = digest(&SHA1_FOR_LEGACY_USE_ONLY, password);
    let stage2 = digest(&SHA1_FOR_LEGACY_USE_ONLY, stage1.as_ref());
    let salted = digest(
        &SHA1_FOR_LEGACY_USE_ONLY,
        &[nonce, stage2.as_ref()].concat(),
    );
    xor(stage1.as_ref(), salted.as_ref())
}

/// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce); empty for an empty one.
pub fn caching_sha2(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = digest(&SHA256, password);
    let stage2 = digest(&SHA256, stage1.as_ref());
    let salted = digest(&SHA256, &[stage2.as_ref(), nonce].concat());
    xor(stage1.as_ref(), salted.as_ref())
}

/// MariaDB's client_ed25519: the 64-byte Ed25519 signature of `nonce`, the secret scalar and
/// nonce prefix being SHA-512 of the password (as MariaDB's own client computes it).
pub fn ed25519(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
    let expanded: [u8; 64] = sha2::Sha512::digest(password).into();
    let key = ExpandedSecretKey::from_bytes(&expanded);
    let public = ed25519_dalek::VerifyingKey::from(&key);
    raw_sign::<sha2::Sha512>(&key, nonce, &public)
        .to_bytes()
        .to_vec()
}

/// The password as a plugin sends it in the clear (over TLS only): NUL-terminated.
pub fn clear(password: &[u8]) -> Vec<u8> {
    [password, &[0]].concat()
}

/// The answer `plugin` gives to `nonce`; `None` for a plugin the harness cannot perform.
pub fn answer(plugin: &str, password: &[u8], nonce: &[u8]) -> Option<Vec<u8>> {
    Some(match plugin {
        "mysql_native_password" => native(password, nonce),
        "caching_sha2_password" => caching_sha2(password, nonce),
        "client_ed25519" => ed25519(password, nonce),
        "mysql_clear_password" | "sha256_password" => clear(password),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's check of a native scramble: SHA1(answer XOR SHA1(nonce + stored)) equals
    /// the stored SHA1(SHA1(password)).
    #[test]
    fn a_native_scramble_passes_the_servers_check() {
        let nonce = b"abcdefghijklmnopqrst";
        let answer = native(b"secret", nonce);
        let stored = digest(
            &SHA1_FOR_LEGACY_USE_ONLY,
            digest(&SHA1_FOR_LEGACY_USE_ONLY, b"secret").as_ref(),
        );
        let salted = digest(
            &SHA1_FOR_LEGACY_USE_ONLY,
            &[&nonce[..], stored.as_ref()].concat(),
        );
        let stage1 = xor(&answer, salted.as_ref());
        assert_eq!(
            digest(&SHA1_FOR_LEGACY_USE_ONLY, &stage1).as_ref(),
            stored.as_ref()
        );
        assert!(native(b"", nonce).is_empty());
    }

    #[test]
    fn a_caching_sha2_scramble_passes_the_servers_check() {
        let nonce = b"01234567890123456789";
        let answer = caching_sha2(b"secret", nonce);
        let stored = digest(&SHA256, digest(&SHA256, b"secret").as_ref());
        let salted = digest(&SHA256, &[stored.as_ref(), &nonce[..]].concat());
        let stage1 = xor(&answer, salted.as_ref());
        assert_eq!(digest(&SHA256, &stage1).as_ref(), stored.as_ref());
    }

    /// The signature verifies under the public key MariaDB stores for the password
    /// (`ed25519_password('secret')` is that key in base64).
    #[test]
    fn an_ed25519_signature_verifies_under_the_passwords_key() {
        use ed25519_dalek::hazmat::ExpandedSecretKey;
        let nonce = [9u8; 32];
        let signature = ed25519(b"secret", &nonce);
        let expanded: [u8; 64] = sha2::Sha512::digest(b"secret").into();
        let public = ed25519_dalek::VerifyingKey::from(&ExpandedSecretKey::from_bytes(&expanded));
        let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
        assert!(public.verify_strict(&nonce, &signature).is_ok());
        assert!(public.verify_strict(&[8u8; 32], &signature).is_err());
    }
}
