//! TLS records out of one direction's byte stream, however TCP cut it: a record split across
//! segments waits for its rest, several in one segment come out one by one. Bounded: a record
//! longer than TLS allows (2^14 bytes of plaintext plus 2048 of protection) is refused.

/// The longest record body TLS allows on the wire (RFC 5246, 6.2.3).
pub const MAX_RECORD: usize = (1 << 14) + 2048;

/// One record: its header and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub header: [u8; 5],
    pub body: Vec<u8>,
}

impl Record {
    pub fn content_type(&self) -> u8 {
        self.header[0]
    }
}

/// Why a direction's bytes are not TLS records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("a TLS record of {0} bytes (at most {MAX_RECORD})")]
    TooLong(usize),
    #[error("bytes that are not a TLS record (content type {0}, version 0x{1:04x})")]
    NotTls(u8, u16),
}

/// One direction's bytes not yet made into records.
#[derive(Debug, Default)]
pub struct Records {
    buf: Vec<u8>,
}

impl Records {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole record; `Ok(None)` until its last byte is in.
    pub fn next(&mut self) -> Result<Option<Record>, RecordError> {
        let Some(head) = self.buf.get(..5) else {
            return Ok(None);
        };
        let header: [u8; 5] = [head[0], head[1], head[2], head[3], head[4]];
        let version = u16::from_be_bytes([header[1], header[2]]);
        if !(20..=24).contains(&header[0]) || header[1] != 3 {
            return Err(RecordError::NotTls(header[0], version));
        }
        let len = u16::from_be_bytes([header[3], header[4]]) as usize;
        if len > MAX_RECORD {
            return Err(RecordError::TooLong(len));
        }
        if self.buf.len() < 5 + len {
            return Ok(None);
        }
        let body = self.buf[5..5 + len].to_vec();
        self.buf.drain(..5 + len);
        Ok(Some(Record { header, body }))
    }

    /// Bytes left that make no whole record.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_out_whole_whatever_the_split() {
        let stream = [
            &[23u8, 3, 3, 0, 3, 1, 2, 3][..],
            &[21, 3, 3, 0, 2, 9, 9],
            &[22, 3, 1, 0, 0],
        ]
        .concat();
        for chunk in 1..stream.len() {
            let mut records = Records::default();
            let mut out = Vec::new();
            for piece in stream.chunks(chunk) {
                records.push(piece);
                while let Some(record) = records.next().unwrap() {
                    out.push(record);
                }
            }
            assert_eq!(out.len(), 3, "split {chunk}");
            assert_eq!(out[0].body, [1, 2, 3]);
            assert_eq!(out[1].content_type(), 21);
            assert_eq!(records.pending(), 0);
        }
    }

    #[test]
    fn refuses_what_is_not_a_record_or_too_long() {
        let mut records = Records::default();
        records.push(b"GET / HTTP/1.1\r\n");
        assert!(matches!(records.next(), Err(RecordError::NotTls(..))));
        let mut records = Records::default();
        records.push(&[23, 3, 3, 0xff, 0xff]);
        assert_eq!(records.next(), Err(RecordError::TooLong(0xffff)));
    }
}
