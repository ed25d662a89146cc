//! SSH's data types (RFC 4251 section 5) and the messages the key exchange reads: KEXINIT
//! with its ten name-lists, DISCONNECT, and the key-exchange reply's host key.

use md5::{Digest, Md5};

pub const DISCONNECT: u8 = 1;
pub const IGNORE: u8 = 2;
pub const UNIMPLEMENTED: u8 = 3;
pub const DEBUG: u8 = 4;
pub const EXT_INFO: u8 = 7;
pub const KEXINIT: u8 = 20;
pub const NEWKEYS: u8 = 21;
/// KEXDH_INIT, KEX_ECDH_INIT (and the hybrid methods' init).
pub const KEX_INIT: u8 = 30;
/// KEXDH_REPLY, KEX_ECDH_REPLY; for group exchange, KEX_DH_GEX_GROUP.
pub const KEX_REPLY: u8 = 31;
pub const GEX_INIT: u8 = 32;
pub const GEX_REPLY: u8 = 33;
pub const GEX_REQUEST: u8 = 34;

/// A reader over a message's fields.
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    pub fn u32(&mut self) -> Option<u32> {
        let bytes = self.take(4)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?))
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(taken)
    }

    pub fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    pub fn name_list(&mut self) -> Option<Vec<String>> {
        let text = std::str::from_utf8(self.string()?).ok()?;
        Some(if text.is_empty() {
            Vec::new()
        } else {
            text.split(',').map(str::to_string).collect()
        })
    }
}

pub fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// An mpint from big-endian magnitude bytes (RFC 4251 section 5): no leading zeros, and a zero
/// byte in front when the top bit is set.
pub fn put_mpint(out: &mut Vec<u8>, magnitude: &[u8]) {
    let trimmed = match magnitude.iter().position(|&b| b != 0) {
        Some(first) => &magnitude[first..],
        None => &[],
    };
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        out.extend_from_slice(&(trimmed.len() as u32 + 1).to_be_bytes());
        out.push(0);
        out.extend_from_slice(trimmed);
    } else {
        put_string(out, trimmed);
    }
}

/// The ten name-lists of a KEXINIT, in the order RFC 4253 section 7.1 gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KexInit {
    pub kex: Vec<String>,
    pub host_key: Vec<String>,
    pub cipher_c2s: Vec<String>,
    pub cipher_s2c: Vec<String>,
    pub mac_c2s: Vec<String>,
    pub mac_s2c: Vec<String>,
    pub compression_c2s: Vec<String>,
    pub compression_s2c: Vec<String>,
    pub first_kex_follows: bool,
}

impl KexInit {
    /// Reads a KEXINIT payload (message type first).
    pub fn parse(payload: &[u8]) -> Option<KexInit> {
        let mut r = Reader(payload);
        if r.byte()? != KEXINIT {
            return None;
        }
        r.take(16)?; // cookie
        let mut lists: Vec<Vec<String>> = Vec::with_capacity(10);
        for _ in 0..10 {
            lists.push(r.name_list()?);
        }
        let first_kex_follows = r.byte()? != 0;
        let mut lists = lists.into_iter();
        let mut next = || lists.next().unwrap_or_default();
        Some(KexInit {
            kex: next(),
            host_key: next(),
            cipher_c2s: next(),
            cipher_s2c: next(),
            mac_c2s: next(),
            mac_s2c: next(),
            compression_c2s: next(),
            compression_s2c: next(),
            first_kex_follows,
        })
    }

    /// The KEXINIT payload, with `cookie` and empty language lists.
    pub fn encode(&self, cookie: [u8; 16]) -> Vec<u8> {
        let mut out = vec![KEXINIT];
        out.extend_from_slice(&cookie);
        for list in [
            &self.kex,
            &self.host_key,
            &self.cipher_c2s,
            &self.cipher_s2c,
            &self.mac_c2s,
            &self.mac_s2c,
            &self.compression_c2s,
            &self.compression_s2c,
        ] {
            put_string(&mut out, list.join(",").as_bytes());
        }
        put_string(&mut out, b"");
        put_string(&mut out, b"");
        out.push(u8::from(self.first_kex_follows));
        out.extend_from_slice(&[0; 4]);
        out
    }

    /// The HASSH fingerprint of a client's KEXINIT (Salesforce's hassh: the MD5 of its key
    /// exchange, client-to-server cipher, MAC and compression lists, `;`-separated), or
    /// hasshServer's of a server's (the server-to-client lists).
    pub fn hassh(&self, of_client: bool) -> String {
        let (cipher, mac, compression) = if of_client {
            (&self.cipher_c2s, &self.mac_c2s, &self.compression_c2s)
        } else {
            (&self.cipher_s2c, &self.mac_s2c, &self.compression_s2c)
        };
        let text = [&self.kex, cipher, mac, compression]
            .map(|l| l.join(","))
            .join(";");
        hex::encode(Md5::digest(text.as_bytes()))
    }
}

/// A DISCONNECT payload's reason code and description.
pub fn disconnect(payload: &[u8]) -> Option<(u32, String)> {
    let mut r = Reader(payload);
    (r.byte()? == DISCONNECT).then_some(())?;
    let code = r.u32()?;
    let text = String::from_utf8_lossy(r.string().unwrap_or_default()).into_owned();
    Some((code, text))
}

/// The names RFC 4253 section 11.1 gives DISCONNECT reason codes.
pub fn disconnect_reason(code: u32) -> &'static str {
    match code {
        1 => "host not allowed to connect",
        2 => "protocol error",
        3 => "key exchange failed",
        5 => "MAC error",
        6 => "compression error",
        7 => "service not available",
        8 => "protocol version not supported",
        9 => "host key not verifiable",
        10 => "connection lost",
        11 => "by application",
        12 => "too many connections",
        13 => "auth cancelled by user",
        14 => "no more auth methods available",
        15 => "illegal user name",
        _ => "reserved",
    }
}

/// A key-exchange reply's host key type and signature algorithm, when it reads as one
/// (K_S, then the server's public value, then the signature).
pub fn reply_host_key(payload: &[u8]) -> Option<(String, String)> {
    let mut r = Reader(payload);
    r.byte()?;
    let key_type = Reader(r.string()?).string()?;
    r.string()?;
    let signature = Reader(r.string()?).string()?;
    let printable = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_graphic()))
            .map(str::to_string)
    };
    Some((printable(key_type)?, printable(signature)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kexinit_reads_back_as_written_and_fingerprints_as_hassh() {
        let offer = KexInit {
            kex: vec!["curve25519-sha256".into(), "ext-info-c".into()],
            host_key: vec!["ssh-ed25519".into()],
            cipher_c2s: vec!["aes128-ctr".into()],
            cipher_s2c: vec!["aes128-ctr".into()],
            mac_c2s: vec!["hmac-sha2-256".into()],
            mac_s2c: vec!["hmac-sha2-256".into()],
            compression_c2s: vec!["none".into()],
            compression_s2c: vec!["none".into()],
            first_kex_follows: false,
        };
        assert_eq!(KexInit::parse(&offer.encode([7; 16])), Some(offer.clone()));
        // md5("curve25519-sha256,ext-info-c;aes128-ctr;hmac-sha2-256;none")
        assert_eq!(offer.hassh(true).len(), 32);
        assert_eq!(offer.hassh(true), offer.hassh(false));
        assert_eq!(KexInit::parse(&[20, 1, 2]), None);
    }

    #[test]
    fn mpints_are_minimal_and_positive() {
        let mut out = Vec::new();
        put_mpint(&mut out, &[0, 0, 0x80, 1]);
        assert_eq!(out, [0, 0, 0, 3, 0, 0x80, 1]);
        out.clear();
        put_mpint(&mut out, &[0, 0x7f]);
        assert_eq!(out, [0, 0, 0, 1, 0x7f]);
    }
}
