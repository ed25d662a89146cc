//! Key derivation from logged secrets: TLS 1.2's PRF (RFC 5246, 5) expanding the master
//! secret into the key block, and TLS 1.3's HKDF-Expand-Label (RFC 8446, 7.1) turning a
//! traffic secret into a record key and IV, or into the next secret at a KeyUpdate.

use super::suite::{Hash, Protection, Suite};
use ring::{hkdf, hmac};

/// One direction's record keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub key: Vec<u8>,
    /// The AEAD's fixed IV (TLS 1.2 GCM: the 4-byte salt; TLS 1.3 and ChaCha20: 12 bytes).
    pub iv: Vec<u8>,
    /// CBC suites only: the HMAC key.
    pub mac_key: Vec<u8>,
}

/// P_hash(secret, label + seed), `len` bytes (RFC 5246, 5).
pub fn prf(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let key = hmac::Key::new(hash.hmac(), secret);
    let mut a = hmac::sign(&key, &[label, seed].concat());
    let mut out = Vec::with_capacity(len + hash.len());
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(label);
        ctx.update(seed);
        out.extend_from_slice(ctx.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

/// The client's and the server's TLS 1.2 record keys from the master secret.
pub fn tls12_keys(
    suite: &Suite,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> (Keys, Keys) {
    let (mac_len, iv_len) = match suite.protection {
        Protection::AesGcm => (0, 4),
        Protection::ChaCha20Poly1305 => (0, 12),
        // TLS 1.2 sends each CBC record's IV with it: the key block's IVs go unused.
        Protection::AesCbc(mac) => (mac.len(), 16),
    };
    let seed = [&server_random[..], &client_random[..]].concat();
    let total = 2 * (mac_len + suite.key_len + iv_len);
    let block = prf(suite.prf, master, b"key expansion", &seed, total);
    let mut rest = block.as_slice();
    let mut take = |n: usize| {
        let (head, tail) = rest.split_at(n);
        rest = tail;
        head.to_vec()
    };
    let (client_mac, server_mac) = (take(mac_len), take(mac_len));
    let (client_key, server_key) = (take(suite.key_len), take(suite.key_len));
    let (client_iv, server_iv) = (take(iv_len), take(iv_len));
    (
        Keys {
            key: client_key,
            iv: client_iv,
            mac_key: client_mac,
        },
        Keys {
            key: server_key,
            iv: server_iv,
            mac_key: server_mac,
        },
    )
}

/// An output length for ring's HKDF.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, "", len) (RFC 8446, 7.1).
pub fn expand_label(hash: Hash, secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let prk = hkdf::Prk::new_less_safe(hash.hkdf(), secret);
    let length = (len as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let info = [&length[..], &label_len, b"tls13 ", label, &[0u8]];
    let mut out = vec![0u8; len];
    // ring refuses only outputs longer than 255 hashes; every length asked here is a key's.
    if let Ok(okm) = prk.expand(&info, Len(len)) {
        let _ = okm.fill(&mut out);
    }
    out
}

/// A TLS 1.3 traffic secret's record key and IV.
pub fn tls13_keys(suite: &Suite, secret: &[u8]) -> Keys {
    Keys {
        key: expand_label(suite.prf, secret, b"key", suite.key_len),
        iv: expand_label(suite.prf, secret, b"iv", 12),
        mac_key: Vec::new(),
    }
}

/// The traffic secret after a KeyUpdate (RFC 8446, 7.2).
pub fn next_secret(suite: &Suite, secret: &[u8]) -> Vec<u8> {
    expand_label(suite.prf, secret, b"traffic upd", suite.prf.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decrypt::suite::by_code;

    fn h(text: &str) -> Vec<u8> {
        hex::decode(text.split_whitespace().collect::<String>()).unwrap()
    }

    /// RFC 8448, 3 (Simple 1-RTT Handshake): the server's handshake traffic secret, and the
    /// key and IV the trace derives from it; then the application secrets'.
    #[test]
    fn tls13_keys_match_rfc_8448() {
        let suite = by_code(0x1301).unwrap();
        let server_hs = h(
            "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
        );
        let keys = tls13_keys(&suite, &server_hs);
        assert_eq!(
            keys.key,
            h("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(keys.iv, h("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
        let client_hs = h(
            "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21",
        );
        let keys = tls13_keys(&suite, &client_hs);
        assert_eq!(
            keys.key,
            h("db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01")
        );
        assert_eq!(keys.iv, h("5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"));
        let server_ap = h(
            "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43",
        );
        let keys = tls13_keys(&suite, &server_ap);
        assert_eq!(
            keys.key,
            h("9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56")
        );
        assert_eq!(keys.iv, h("cf 78 2b 88 dd 83 54 9a ad f1 e9 84"));
    }

    /// The TLS 1.2 PRF with SHA-256: the test vector the IETF TLS list circulated (and
    /// Go's and OpenSSL's tests use): secret, seed and label below, first 100 bytes.
    #[test]
    fn tls12_prf_sha256_matches_the_known_vector() {
        let secret = h("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35");
        let seed = h("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c");
        let out = prf(Hash::Sha256, &secret, b"test label", &seed, 100);
        assert_eq!(
            out,
            h(
                "e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a 6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab 4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01 87 34 7b 66"
            )
        );
    }
}
