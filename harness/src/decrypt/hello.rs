//! What decryption needs from the two hellos, read from their handshake messages: the
//! ClientHello's random (the key log's key), and the ServerHello's random, chosen cipher
//! suite, version (`supported_versions` for TLS 1.3) and whether encrypt_then_mac was agreed.
//! A HelloRetryRequest is told apart by its fixed random.

/// A HelloRetryRequest's random: SHA-256 of "HelloRetryRequest" (RFC 8446, 4.1.3).
const RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];
const SUPPORTED_VERSIONS: u16 = 43;
const ENCRYPT_THEN_MAC: u16 = 22;
pub const TLS13: u16 = 0x0304;

/// The server's choices, as its ServerHello states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub random: [u8; 32],
    /// The negotiated version (TLS 1.3's from `supported_versions`).
    pub version: u16,
    pub suite: u16,
    pub encrypt_then_mac: bool,
    /// A HelloRetryRequest: another ClientHello and ServerHello follow.
    pub retry: bool,
}

/// A cursor over a handshake message's body; every read is bounded.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n)
    }

    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
}

/// The random of a ClientHello's body (handshake header removed).
pub fn client_random(body: &[u8]) -> Option<[u8; 32]> {
    let mut r = Reader(body);
    r.u16()?;
    r.take(32)?.try_into().ok()
}

/// A ServerHello's body (handshake header removed).
pub fn server_hello(body: &[u8]) -> Option<ServerHello> {
    let mut r = Reader(body);
    let legacy_version = r.u16()?;
    let random: [u8; 32] = r.take(32)?.try_into().ok()?;
    r.vec8()?;
    let suite = r.u16()?;
    r.u8()?;
    let mut hello = ServerHello {
        random,
        version: legacy_version,
        suite,
        encrypt_then_mac: false,
        retry: random == RETRY_RANDOM,
    };
    // Extensions are optional in a TLS 1.2 ServerHello.
    let Some(mut extensions) = r.vec16().map(Reader) else {
        return Some(hello);
    };
    while !extensions.0.is_empty() {
        let kind = extensions.u16()?;
        let data = extensions.vec16()?;
        match kind {
            SUPPORTED_VERSIONS => hello.version = Reader(data).u16()?,
            ENCRYPT_THEN_MAC => hello.encrypt_then_mac = true,
            _ => {}
        }
    }
    Some(hello)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_from_supported_versions_and_etm() {
        let mut body = vec![3, 3];
        body.extend([7; 32]);
        body.extend([0, 0x13, 0x01, 0]);
        body.extend([0, 10, 0, 43, 0, 2, 3, 4, 0, 22, 0, 0]);
        let hello = server_hello(&body).unwrap();
        assert_eq!((hello.version, hello.suite), (TLS13, 0x1301));
        assert!(hello.encrypt_then_mac && !hello.retry);
        // Cut anywhere, it is not read.
        for cut in 0..body.len() - 1 {
            if cut != 38 {
                assert_ne!(
                    server_hello(&body[..cut]).as_ref(),
                    Some(&hello),
                    "cut {cut}"
                );
            }
        }
        assert_eq!(client_random(&body[..20]), None);
        assert_eq!(client_random(&body), Some([7; 32]));
    }
}
