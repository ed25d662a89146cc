//! Reading a TLS 1.3 server's encrypted flight (RFC 8446 7.1, 7.3, 5.2): the key schedule
//! as far as the server's handshake traffic secret, then each record opened with it. This
//! is a client's view that stops at the server's Finished: it never sends a Finished of its
//! own. Primitives (HKDF, SHA-2, AES-GCM, ChaCha20-Poly1305) come from `ring`.

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::digest;
use ring::hkdf::{self, KeyType, Prk};

/// What the negotiated suite takes: its hash and its AEAD.
struct Suite {
    hkdf: hkdf::Algorithm,
    hash: &'static digest::Algorithm,
    aead: &'static aead::Algorithm,
}

fn suite(cipher: u16) -> Option<Suite> {
    let (hkdf, hash, aead) = match cipher {
        0x1301 => (hkdf::HKDF_SHA256, &digest::SHA256, &aead::AES_128_GCM),
        0x1302 => (hkdf::HKDF_SHA384, &digest::SHA384, &aead::AES_256_GCM),
        0x1303 => (hkdf::HKDF_SHA256, &digest::SHA256, &aead::CHACHA20_POLY1305),
        _ => return None,
    };
    Some(Suite { hkdf, hash, aead })
}

/// An output length for HKDF-Expand.
struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label (RFC 8446 7.1).
fn expand_label(prk: &Prk, label: &str, context: &[u8], len: usize) -> Vec<u8> {
    let full = format!("tls13 {label}");
    let length = (len as u16).to_be_bytes();
    let label_len = [full.len() as u8];
    let context_len = [context.len() as u8];
    let info: [&[u8]; 5] = [&length, &label_len, full.as_bytes(), &context_len, context];
    let mut out = vec![0u8; len];
    prk.expand(&info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .expect("a TLS 1.3 label's output fits HKDF");
    out
}

/// The key that opens the server's handshake records.
pub struct ServerHandshakeKey {
    key: LessSafeKey,
    iv: [u8; 12],
    sequence: u64,
}

impl std::fmt::Debug for ServerHandshakeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandshakeKey")
            .field("sequence", &self.sequence)
            .finish()
    }
}

impl ServerHandshakeKey {
    /// Derives the key from the (EC)DHE shared secret and the transcript so far: the
    /// ClientHello and ServerHello handshake messages, headers included, as sent.
    pub fn derive(
        cipher: u16,
        shared_secret: &[u8],
        transcript: &[u8],
    ) -> Result<ServerHandshakeKey, String> {
        let suite = suite(cipher).ok_or_else(|| {
            format!(
                "the harness cannot decrypt {}",
                super::names::cipher_name(cipher)
            )
        })?;
        let hash_len = suite.hash.output_len();
        let zeros = vec![0u8; hash_len];
        let early = hkdf::Salt::new(suite.hkdf, &zeros).extract(&zeros);
        let empty_hash = digest::digest(suite.hash, &[]);
        let derived = expand_label(&early, "derived", empty_hash.as_ref(), hash_len);
        let handshake = hkdf::Salt::new(suite.hkdf, &derived).extract(shared_secret);
        let hello_hash = digest::digest(suite.hash, transcript);
        let traffic = expand_label(&handshake, "s hs traffic", hello_hash.as_ref(), hash_len);
        let traffic = Prk::new_less_safe(suite.hkdf, &traffic);
        let key = expand_label(&traffic, "key", &[], suite.aead.key_len());
        let iv = expand_label(&traffic, "iv", &[], 12);
        let key = UnboundKey::new(suite.aead, &key).map_err(|_| "bad AEAD key length")?;
        Ok(ServerHandshakeKey {
            key: LessSafeKey::new(key),
            iv: iv.try_into().expect("12 bytes"),
            sequence: 0,
        })
    }

    /// Opens one application_data record (header included): its inner content type and
    /// plaintext.
    pub fn open(&mut self, record: &[u8]) -> Result<(u8, Vec<u8>), String> {
        let (header, sealed) = record.split_at_checked(5).ok_or("a record cut short")?;
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.sequence.to_be_bytes()) {
            *n ^= s;
        }
        self.sequence += 1;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(header),
                &mut buf,
            )
            .map_err(|_| {
                format!(
                    "encrypted record {} does not open with the handshake key",
                    self.sequence
                )
            })?;
        // RFC 8446 5.4: zero padding after the content type.
        let end = plain
            .iter()
            .rposition(|b| *b != 0)
            .ok_or("an encrypted record with no content type")?;
        let kind = plain[end];
        let content = plain[..end].to_vec();
        Ok((kind, content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::dialect::tls::hello::Description;
    use crate::dialect::tls::key_share::OwnShares;
    use crate::dialect::tls::record;
    use crate::dialect::tls::server_hello::{ServerAnswer, server_answer};
    use bytes::BytesMut;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::sync::Arc;

    /// A rustls server's TLS 1.3 flight for `hello`, records as sent.
    pub fn rustls_flight(hello: &[u8], cipher: rustls::SupportedCipherSuite) -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../suites/tls-cutoff/servers");
        let certs = vec![CertificateDer::from_pem_file(format!("{dir}/test-cert.pem")).unwrap()];
        let key = PrivateKeyDer::from_pem_file(format!("{dir}/test-key.pem")).unwrap();
        let mut provider = rustls::crypto::ring::default_provider();
        provider.cipher_suites = vec![cipher];
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let mut server = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        server.read_tls(&mut &hello[..]).unwrap();
        server.process_new_packets().unwrap();
        let mut out = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut out).unwrap();
        }
        let mut buf = BytesMut::from(&out[..]);
        let mut records = Vec::new();
        while let Ok(Some(r)) = record::decode(&mut buf, false) {
            records.push(r.raw.to_vec());
        }
        records
    }

    #[test]
    fn a_rustls_servers_encrypted_flight_opens_with_every_suite() {
        use rustls::crypto::ring::cipher_suite as cs;
        for (code, suite) in [
            (0x1301, cs::TLS13_AES_128_GCM_SHA256),
            (0x1302, cs::TLS13_AES_256_GCM_SHA384),
            (0x1303, cs::TLS13_CHACHA20_POLY1305_SHA256),
        ] {
            let mut hello = Description::parse(&format!(
                "versions=TLSv1.3 ciphers=0x{code:04x} groups=x25519 sni=localhost"
            ))
            .unwrap()
            .build();
            let mut own = OwnShares::replace(&mut hello);
            let records = rustls_flight(&hello, suite);
            let server_hello = &records[0][5..];
            let Some(ServerAnswer::Hello {
                cipher,
                share: Some((group, public)),
                ..
            }) = server_answer(server_hello)
            else {
                panic!("no ServerHello with a key share");
            };
            assert_eq!(cipher, code);
            let shared = own.agree(group, &public).unwrap();
            let transcript = [&hello[5..], server_hello].concat();
            let mut key = ServerHandshakeKey::derive(cipher, &shared, &transcript).unwrap();
            let encrypted: Vec<_> = records.iter().filter(|r| r[0] == 23).collect();
            let (kind, plain) = key.open(encrypted[0]).unwrap();
            assert_eq!(kind, 22, "handshake");
            assert_eq!(plain[0], 8, "EncryptedExtensions first");
            let mut replayed = ServerHandshakeKey::derive(cipher, &shared, &transcript).unwrap();
            replayed.sequence = 1;
            assert!(
                replayed.open(encrypted[0]).is_err(),
                "the sequence number counts"
            );
        }
    }

    #[test]
    fn suites_the_harness_cannot_decrypt_say_so() {
        let e = ServerHandshakeKey::derive(0x1304, &[0; 32], &[]).unwrap_err();
        assert!(e.contains("TLS_AES_128_CCM_SHA256"), "{e}");
    }
}
