//! One direction's record protection, undone: AES-GCM and ChaCha20-Poly1305 through ring's
//! AEADs (TLS 1.2's explicit-nonce and XOR-nonce forms, and TLS 1.3's with its inner content
//! type), and TLS 1.2's AES-CBC through RustCrypto's `aes` and `cbc` with the record's HMAC
//! checked through ring, MAC-then-encrypt or encrypt_then_mac (RFC 7366).

use super::derive::Keys;
use super::suite::{Hash, Protection, Suite};
use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use ring::{aead, hmac};

/// Content types (RFC 8446, 5.1).
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;

/// Why a record could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("failed to authenticate (wrong keys, or the bytes were altered)")]
    Authentication,
    #[error("is too short for its protection ({0} bytes)")]
    Short(usize),
    #[error("has no content type inside")]
    NoContentType,
}

/// Which record layout the keys are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Tls12,
    Tls13,
}

/// One direction's keys and record sequence number.
pub struct Opener {
    suite: Suite,
    layout: Layout,
    keys: Keys,
    aead: Option<aead::LessSafeKey>,
    encrypt_then_mac: bool,
    seq: u64,
}

impl Opener {
    pub fn new(suite: Suite, layout: Layout, keys: Keys, encrypt_then_mac: bool) -> Opener {
        let aead = suite
            .aead()
            .and_then(|alg| aead::UnboundKey::new(alg, &keys.key).ok())
            .map(aead::LessSafeKey::new);
        Opener {
            suite,
            layout,
            keys,
            aead,
            encrypt_then_mac,
            seq: 0,
        }
    }

    pub fn suite(&self) -> &Suite {
        &self.suite
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Opens one record (`header`: its five header bytes); returns its content type and
    /// plaintext.
    pub fn open(&mut self, header: [u8; 5], body: &[u8]) -> Result<(u8, Vec<u8>), OpenError> {
        let seq = self.seq;
        self.seq += 1;
        let short = || OpenError::Short(body.len());
        match (self.suite.protection, self.layout) {
            (Protection::AesCbc(mac), _) => self.open_cbc(mac, header, body, seq),
            (_, Layout::Tls13) => {
                let nonce = xor_nonce(&self.keys.iv, seq);
                let mut plain = self.open_aead(&nonce, &header, body)?;
                // TLSInnerPlaintext: the content, its type, then zeros.
                let end = plain
                    .iter()
                    .rposition(|&b| b != 0)
                    .ok_or(OpenError::NoContentType)?;
                let kind = plain[end];
                plain.truncate(end);
                Ok((kind, plain))
            }
            (Protection::AesGcm, Layout::Tls12) => {
                // The nonce: the 4-byte salt, then the 8 explicit bytes that open the record.
                let explicit = body.get(..8).ok_or_else(short)?;
                let nonce = [&self.keys.iv[..], explicit].concat();
                let sealed = &body[8..];
                let len = sealed.len().checked_sub(16).ok_or_else(short)?;
                let aad = tls12_aad(seq, header, len);
                Ok((header[0], self.open_aead(&nonce, &aad, sealed)?))
            }
            (Protection::ChaCha20Poly1305, Layout::Tls12) => {
                let len = body.len().checked_sub(16).ok_or_else(short)?;
                let aad = tls12_aad(seq, header, len);
                let nonce = xor_nonce(&self.keys.iv, seq);
                Ok((header[0], self.open_aead(&nonce, &aad, body)?))
            }
        }
    }

    fn open_aead(&self, nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        let key = self.aead.as_ref().ok_or(OpenError::Authentication)?;
        let nonce =
            aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Authentication)?;
        let mut buf = sealed.to_vec();
        let plain = key
            .open_in_place(nonce, aead::Aad::from(aad), &mut buf)
            .map_err(|_| OpenError::Authentication)?;
        let len = plain.len();
        buf.truncate(len);
        Ok(buf)
    }

    fn open_cbc(
        &self,
        mac: Hash,
        header: [u8; 5],
        body: &[u8],
        seq: u64,
    ) -> Result<(u8, Vec<u8>), OpenError> {
        let short = OpenError::Short(body.len());
        let failed = OpenError::Authentication;
        let key = hmac::Key::new(mac.hmac(), &self.keys.mac_key);
        let (ciphertext, tag) = if self.encrypt_then_mac {
            // The MAC covers the IV and ciphertext, before anything is decrypted.
            let split = body.len().checked_sub(mac.len()).ok_or(short.clone())?;
            let (sealed, tag) = body.split_at(split);
            let input = [&tls12_aad(seq, header, sealed.len())[..], sealed].concat();
            hmac::verify(&key, &input, tag).map_err(|_| failed.clone())?;
            (sealed, None)
        } else {
            (body, Some(()))
        };
        if ciphertext.len() < 32 || ciphertext.len() % 16 != 0 {
            return Err(short);
        }
        let (iv, blocks) = ciphertext.split_at(16);
        let mut plain = blocks.to_vec();
        let decrypted = match self.keys.key.len() {
            16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(&self.keys.key, iv)
                .ok()
                .and_then(|d| {
                    d.decrypt_padded_mut::<NoPadding>(&mut plain)
                        .ok()
                        .map(|p| p.len())
                }),
            _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(&self.keys.key, iv)
                .ok()
                .and_then(|d| {
                    d.decrypt_padded_mut::<NoPadding>(&mut plain)
                        .ok()
                        .map(|p| p.len())
                }),
        };
        decrypted.ok_or(failed.clone())?;
        // TLS padding: its length byte last, and that many bytes of the same value before it.
        let pad = *plain.last().ok_or(failed.clone())? as usize;
        let unpadded = plain.len().checked_sub(pad + 1).ok_or(failed.clone())?;
        if plain[unpadded..].iter().any(|&b| b as usize != pad) {
            return Err(failed);
        }
        plain.truncate(unpadded);
        if tag.is_some() {
            let content_len = plain.len().checked_sub(mac.len()).ok_or(failed.clone())?;
            let (content, tag) = plain.split_at(content_len);
            let input = [&tls12_aad(seq, header, content.len())[..], content].concat();
            hmac::verify(&key, &input, tag).map_err(|_| failed)?;
            plain.truncate(content_len);
        }
        Ok((header[0], plain))
    }
}

/// TLS 1.2's additional data (and CBC MAC header): sequence number, type, version, length.
fn tls12_aad(seq: u64, header: [u8; 5], len: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8..11].copy_from_slice(&header[..3]);
    aad[11..].copy_from_slice(&(len as u16).to_be_bytes());
    aad
}

/// The per-record nonce: the IV with the sequence number XORed into its last 8 bytes.
fn xor_nonce(iv: &[u8], seq: u64) -> Vec<u8> {
    let mut nonce = iv.to_vec();
    let n = nonce.len();
    for (i, b) in seq.to_be_bytes().iter().enumerate() {
        if let Some(slot) = (n + i).checked_sub(8).and_then(|j| nonce.get_mut(j)) {
            *slot ^= b;
        }
    }
    nonce
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decrypt::suite::by_code;
    use aes::cipher::BlockEncryptMut;

    fn keys(key_len: usize, iv_len: usize, mac_len: usize) -> Keys {
        Keys {
            key: (0..key_len as u8).collect(),
            iv: (100..100 + iv_len as u8).collect(),
            mac_key: vec![7; mac_len],
        }
    }

    fn seal(suite: u16, keys: &Keys, nonce: &[u8], aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let alg = by_code(suite).unwrap().aead().unwrap();
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(alg, &keys.key).unwrap());
        let mut buf = plain.to_vec();
        let nonce = aead::Nonce::try_assume_unique_for_key(nonce).unwrap();
        key.seal_in_place_append_tag(nonce, aead::Aad::from(aad), &mut buf)
            .unwrap();
        buf
    }

    #[test]
    fn tls13_records_open_in_sequence_and_an_altered_one_fails() {
        let suite = by_code(0x1303).unwrap();
        let k = keys(32, 12, 0);
        let mut opener = Opener::new(suite, Layout::Tls13, k.clone(), false);
        for (seq, text) in [(0u64, &b"hello"[..]), (1, b"again")] {
            let inner = [text, &[APPLICATION_DATA, 0, 0]].concat();
            let header = [23, 3, 3, 0, (inner.len() + 16) as u8];
            let sealed = seal(0x1303, &k, &xor_nonce(&k.iv, seq), &header, &inner);
            assert_eq!(
                opener.open(header, &sealed),
                Ok((APPLICATION_DATA, text.to_vec()))
            );
        }
        let header = [23, 3, 3, 0, 21];
        let mut sealed = seal(0x1303, &k, &xor_nonce(&k.iv, 2), &header, b"x\x17\0\0\0");
        sealed[0] ^= 1;
        assert_eq!(opener.open(header, &sealed), Err(OpenError::Authentication));
        assert_eq!(opener.open(header, &[1, 2]), Err(OpenError::Authentication));
    }

    #[test]
    fn tls12_gcm_uses_the_salt_and_explicit_nonce() {
        let suite = by_code(0xc02f).unwrap();
        let k = keys(16, 4, 0);
        let mut opener = Opener::new(suite, Layout::Tls12, k.clone(), false);
        let explicit = [0, 0, 0, 0, 0, 0, 0, 9];
        let header = [23, 3, 3, 0, 8 + 4 + 16];
        let aad = tls12_aad(0, header, 4);
        let sealed = seal(0xc02f, &k, &[&k.iv[..], &explicit].concat(), &aad, b"ping");
        let record = [&explicit[..], &sealed].concat();
        assert_eq!(opener.open(header, &record), Ok((23, b"ping".to_vec())));
        assert_eq!(
            opener.open(header, &record[..10]),
            Err(OpenError::Short(10))
        );
    }

    /// A CBC record as TLS 1.2 writes it: IV, then content, MAC and padding encrypted (or,
    /// with encrypt_then_mac, the MAC over IV and ciphertext after them).
    fn cbc_record(k: &Keys, mac: Hash, etm: bool, header: [u8; 5], content: &[u8]) -> Vec<u8> {
        let key = hmac::Key::new(mac.hmac(), &k.mac_key);
        let mut plain = content.to_vec();
        if !etm {
            let tag = hmac::sign(
                &key,
                &[&tls12_aad(0, header, content.len())[..], content].concat(),
            );
            plain.extend_from_slice(tag.as_ref());
        }
        let pad = 15 - plain.len() % 16;
        plain.extend(std::iter::repeat_n(pad as u8, pad + 1));
        let iv = [5u8; 16];
        let len = plain.len();
        cbc::Encryptor::<aes::Aes128>::new_from_slices(&k.key, &iv)
            .unwrap()
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .unwrap();
        let mut record = [&iv[..], &plain].concat();
        if etm {
            let tag = hmac::sign(
                &key,
                &[&tls12_aad(0, header, record.len())[..], &record].concat(),
            );
            record.extend_from_slice(tag.as_ref());
        }
        record
    }

    #[test]
    fn cbc_records_open_mac_then_encrypt_and_encrypt_then_mac() {
        for (code, mac) in [(0xc013, Hash::Sha1), (0xc027, Hash::Sha256)] {
            let suite = by_code(code).unwrap();
            let k = keys(16, 16, mac.len());
            for etm in [false, true] {
                let content = b"HTTP/1.1 200 OK\r\n\r\n";
                let header = [23, 3, 3, 0, 0];
                let record = cbc_record(&k, mac, etm, header, content);
                let mut opener = Opener::new(suite, Layout::Tls12, k.clone(), etm);
                assert_eq!(
                    opener.open(header, &record),
                    Ok((23, content.to_vec())),
                    "{code:x} etm {etm}"
                );
                let mut altered = record.clone();
                altered[20] ^= 0x40;
                let mut opener = Opener::new(suite, Layout::Tls12, k.clone(), etm);
                assert_eq!(
                    opener.open(header, &altered),
                    Err(OpenError::Authentication),
                    "{code:x} etm {etm}"
                );
            }
        }
    }
}
