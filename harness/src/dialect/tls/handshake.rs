//! Handshake messages reassembled from the records that carry them (RFC 8446 section 5.1): a
//! message may span several records and a record may hold several messages; and the message
//! types a client reads. The buffer is bounded: a message announced longer than a client
//! would take is refused before its bytes are kept.

use bytes::{Bytes, BytesMut};

pub const HELLO_REQUEST: u8 = 0;
pub const CLIENT_HELLO: u8 = 1;
pub const SERVER_HELLO: u8 = 2;
pub const ENCRYPTED_EXTENSIONS: u8 = 8;
pub const CERTIFICATE: u8 = 11;
pub const SERVER_KEY_EXCHANGE: u8 = 12;
pub const CERTIFICATE_REQUEST: u8 = 13;
pub const SERVER_HELLO_DONE: u8 = 14;
pub const CERTIFICATE_VERIFY: u8 = 15;
pub const FINISHED: u8 = 20;
pub const CERTIFICATE_STATUS: u8 = 22;
/// RFC 8879.
pub const COMPRESSED_CERTIFICATE: u8 = 25;

/// The longest handshake message kept: a certificate chain of 128 KiB (OpenSSL takes up to
/// 100 KiB), which also holds the longest ServerHello.
pub const MAX_MESSAGE: usize = 128 * 1024;

/// A handshake message announced longer than [`MAX_MESSAGE`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a handshake message of type {kind} announces {length} bytes, over the {MAX_MESSAGE}-byte limit"
)]
pub struct TooLong {
    pub kind: u8,
    pub length: usize,
}

/// Handshake bytes received so far that make no whole message yet.
#[derive(Debug, Default)]
pub struct Reassembly {
    buf: BytesMut,
}

impl Reassembly {
    /// Adds one handshake record's fragment.
    pub fn push(&mut self, fragment: &[u8]) {
        self.buf.extend_from_slice(fragment);
    }

    /// The type of the message at the front, once its first byte has arrived.
    pub fn next_kind(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// Whether part of a message is waiting for the rest.
    pub fn is_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Takes one whole message (header included) off the front; `Ok(None)` until it is all
    /// here. Bytes past [`MAX_MESSAGE`] are never waited for.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, TooLong> {
        let Some(header) = self.buf.get(..4) else {
            return Ok(None);
        };
        let length =
            (usize::from(header[1]) << 16) | (usize::from(header[2]) << 8) | usize::from(header[3]);
        if length > MAX_MESSAGE {
            let kind = header[0];
            self.buf.clear();
            return Err(TooLong { kind, length });
        }
        if self.buf.len() < 4 + length {
            return Ok(None);
        }
        Ok(Some(self.buf.split_to(4 + length).freeze()))
    }

    /// Drops what is buffered (after a decision).
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend(body);
        m
    }

    #[test]
    fn messages_come_whole_from_any_split_of_the_records() {
        let stream = [
            message(0, &[]),
            message(2, &[7; 70]),
            message(11, &[9; 300]),
        ]
        .concat();
        for size in [1, 2, 3, 4, 5, 71, 1000] {
            let mut reassembly = Reassembly::default();
            let mut got = Vec::new();
            for fragment in stream.chunks(size) {
                reassembly.push(fragment);
                while let Some(m) = reassembly.next_message().unwrap() {
                    got.push((m[0], m.len()));
                }
            }
            assert_eq!(got, [(0, 4), (2, 74), (11, 304)], "records of {size} bytes");
            assert!(!reassembly.is_partial());
        }
    }

    #[test]
    fn an_overlong_message_is_refused_from_its_header() {
        let mut reassembly = Reassembly::default();
        reassembly.push(&[2, 0xFF, 0xFF, 0xFF, 0, 0]);
        assert_eq!(
            reassembly.next_message(),
            Err(TooLong {
                kind: 2,
                length: 0xFF_FFFF
            })
        );
        assert!(!reassembly.is_partial(), "nothing of it is kept");
    }
}
