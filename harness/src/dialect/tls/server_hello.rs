//! The server's answer to a ClientHello (RFC 8446 section 4.1.3): a ServerHello with the
//! negotiated version and cipher suite, or a HelloRetryRequest, which also names a version and
//! a cipher suite and asks for a key share on one group.

pub use super::handshake::SERVER_HELLO;
use super::reader::Reader;

const EXT_SUPPORTED_VERSIONS: u16 = 43;
const EXT_KEY_SHARE: u16 = 51;

/// The ServerHello random that marks a HelloRetryRequest (RFC 8446 4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// The server's answer to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAnswer {
    Hello {
        version: u16,
        cipher: u16,
        /// TLS 1.3: the group and public key of the server's key share.
        share: Option<(u16, Vec<u8>)>,
    },
    /// A HelloRetryRequest: the version and suite the retry will use, and the group whose key
    /// share the server asks for (none when it asks only for a cookie).
    RetryRequest {
        version: u16,
        cipher: u16,
        group: Option<u16>,
    },
}

impl ServerAnswer {
    pub fn version(&self) -> u16 {
        match self {
            ServerAnswer::Hello { version, .. } | ServerAnswer::RetryRequest { version, .. } => {
                *version
            }
        }
    }
    pub fn cipher(&self) -> u16 {
        match self {
            ServerAnswer::Hello { cipher, .. } | ServerAnswer::RetryRequest { cipher, .. } => {
                *cipher
            }
        }
    }
}

/// Reads one whole ServerHello handshake message (its 4-byte header included); bytes after
/// it are not looked at.
pub fn server_answer(message: &[u8]) -> Option<ServerAnswer> {
    let mut r = Reader::new(message);
    if r.u8()? != SERVER_HELLO {
        return None;
    }
    let length = r.u24()?;
    let mut r = Reader::new(r.take(length)?);
    let legacy = r.u16()?;
    let random = r.take(32)?;
    r.vec8()?;
    let cipher = r.u16()?;
    r.u8()?;
    let mut version = legacy;
    let mut group = None;
    let mut share = None;
    if let Some(exts) = r.vec16() {
        let mut e = Reader::new(exts);
        while let (Some(kind), Some(data)) = (e.u16(), e.vec16()) {
            match kind {
                EXT_SUPPORTED_VERSIONS if data.len() == 2 => {
                    version = u16::from_be_bytes([data[0], data[1]])
                }
                EXT_KEY_SHARE if data.len() >= 2 => {
                    let named = u16::from_be_bytes([data[0], data[1]]);
                    group = Some(named);
                    share = Reader::new(&data[2..]).vec16().map(|k| (named, k.to_vec()));
                }
                _ => {}
            }
        }
    }
    if random == HRR_RANDOM {
        return Some(ServerAnswer::RetryRequest {
            version,
            cipher,
            group,
        });
    }
    Some(ServerAnswer::Hello {
        version,
        cipher,
        share,
    })
}
