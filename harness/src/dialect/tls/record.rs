//! TLS record framing (RFC 8446 section 5.1): a 5-byte header (content type, legacy version,
//! length) and at most 2^14 + 2048 bytes of fragment. A very old client's SSLv2-compatible
//! ClientHello (a 2-byte header with the top bit set) frames too.

use crate::dialect::FrameError;
use bytes::{Bytes, BytesMut};

pub const HANDSHAKE: u8 = 22;
pub const ALERT: u8 = 21;
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const APPLICATION_DATA: u8 = 23;
/// Ciphertext may be this long (RFC 8446 5.2); plaintext is shorter.
const MAX_FRAGMENT: usize = (1 << 14) + 2048;

/// One record, or one SSLv2-compatible hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub content_type: u8,
    pub version: u16,
    pub fragment: Bytes,
    pub raw: Bytes,
    /// The SSLv2-compatible ClientHello format of very old clients.
    pub sslv2: bool,
}

/// Takes one whole record off the front of `buf`; `Ok(None)` when more bytes are needed.
pub fn decode(buf: &mut BytesMut, allow_sslv2: bool) -> Result<Option<Record>, FrameError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if allow_sslv2 && first & 0x80 != 0 {
        if buf.len() < 3 {
            return Ok(None);
        }
        let length = (usize::from(first & 0x7f) << 8) | usize::from(buf[1]);
        if buf[2] != 1 {
            return Err(FrameError::Foreign(format!(
                "SSLv2 record of type {} is not a ClientHello",
                buf[2]
            )));
        }
        if buf.len() < 2 + length {
            return Ok(None);
        }
        let raw = buf.split_to(2 + length).freeze();
        let version = u16::from_be_bytes([
            raw.get(3).copied().unwrap_or(0),
            raw.get(4).copied().unwrap_or(0),
        ]);
        return Ok(Some(Record {
            content_type: HANDSHAKE,
            version,
            fragment: raw.slice(2..),
            raw,
            sslv2: true,
        }));
    }
    // Reject what is not TLS as soon as its first bytes show it, not after a timeout.
    let content_type = first;
    if !(20..=24).contains(&content_type) || buf.get(1).is_some_and(|&major| major != 3) {
        return Err(FrameError::Foreign(format!(
            "not a TLS record: {}",
            hex::encode(&buf[..5.min(buf.len())])
        )));
    }
    if buf.len() < 5 {
        return Ok(None);
    }
    let version = u16::from_be_bytes([buf[1], buf[2]]);
    let length = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    if length > MAX_FRAGMENT {
        return Err(FrameError::TooLong(format!(
            "TLS record announces {length} bytes, over the {MAX_FRAGMENT}-byte limit"
        )));
    }
    if buf.len() < 5 + length {
        return Ok(None);
    }
    let raw = buf.split_to(5 + length).freeze();
    Ok(Some(Record {
        content_type,
        version,
        fragment: raw.slice(5..),
        raw,
        sslv2: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_records_and_sslv2_hellos_in_any_split() {
        let bytes = [
            &[22u8, 3, 1, 0, 2, 1, 0][..],
            &[21, 3, 3, 0, 2, 2, 70],
            &[0x80, 3, 1, 0, 2],
        ]
        .concat();
        for chunk in [1, 2, 3, 100] {
            let mut buf = BytesMut::new();
            let mut records = Vec::new();
            for piece in bytes.chunks(chunk) {
                buf.extend_from_slice(piece);
                while let Some(r) = decode(&mut buf, true).unwrap() {
                    records.push(r);
                }
            }
            assert_eq!(records.len(), 3, "split {chunk}");
            assert_eq!(records[1].fragment.as_ref(), &[2, 70]);
            assert!(records[2].sslv2);
        }
    }

    #[test]
    fn rejects_what_is_not_tls() {
        assert!(decode(&mut BytesMut::from(&b"VER 1 MSNP8\r\n"[..]), false).is_err());
        assert!(decode(&mut BytesMut::from(&[22u8, 3, 3, 0xff, 0xff][..]), false).is_err());
        assert!(decode(&mut BytesMut::from(&[0x80u8, 3, 1][..]), false).is_err());
    }
}
