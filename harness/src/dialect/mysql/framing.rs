//! MySQL/MariaDB packet framing ("MySQL Packets"): a 3-byte little-endian payload length, a
//! sequence id, the payload. A payload of 16 MiB − 1 bytes goes on in the next packet, up to
//! one shorter: the framer hands out the whole logical message (its packets, headers and
//! all) and [`payload`] joins them. After a client's SSLRequest both directions carry TLS,
//! passed on as it comes. Messages are bounded by [`MAX_MESSAGE`], checked at each packet's
//! header before its bytes are held: the opening of a connection never comes near it, so a
//! split message is framed only by a framer given a higher limit ([`MysqlFramer::with_limit`]).

use super::packets::{self, ClientHello};
use crate::dialect::{FrameError, Framer};
use bytes::{Bytes, BytesMut};

/// A packet's longest payload: one this long is continued by the next packet.
pub const MAX_PAYLOAD: usize = 0xff_ff_ff;
/// The longest logical message accepted: a server's greeting and authentication packets are
/// a few hundred bytes, and no peer makes the harness hold more.
pub const MAX_MESSAGE: usize = 1 << 20;
const HEADER: usize = 4;

/// A TLS handshake record starts `16 03`.
pub fn is_tls(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x16 && bytes[1] == 0x03
}

/// Any TLS record (handshake, alert, change cipher spec, application data): `14`–`17`, `03`,
/// a minor version up to 4. What a recording holds after an SSLRequest.
pub fn is_tls_record(bytes: &[u8]) -> bool {
    bytes.len() >= 3 && (0x14..=0x17).contains(&bytes[0]) && bytes[1] == 0x03 && bytes[2] <= 4
}

/// One direction's MySQL framing state.
#[derive(Debug)]
pub struct MysqlFramer {
    from_client: bool,
    /// The client sent its SSLRequest: what follows is TLS.
    encrypted: bool,
    /// The longest message framed, headers included.
    limit: usize,
}

impl MysqlFramer {
    pub fn new(from_client: bool) -> MysqlFramer {
        MysqlFramer::with_limit(from_client, MAX_MESSAGE)
    }

    /// A framer that takes messages up to `limit` bytes (one of 16 MiB and more is split).
    pub fn with_limit(from_client: bool, limit: usize) -> MysqlFramer {
        MysqlFramer {
            from_client,
            encrypted: false,
            limit,
        }
    }
}

/// The length of the logical message at the front of `buf`, once it is all there.
fn whole_message(buf: &[u8], limit: usize) -> Result<Option<usize>, FrameError> {
    let mut at = 0;
    loop {
        let Some(header) = buf.get(at..at + HEADER) else {
            return Ok(None);
        };
        let length =
            usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
        let end = at + HEADER + length;
        if end > limit {
            return Err(FrameError::TooLong(format!(
                "a packet of {length} bytes, past the {limit} bytes a message may hold"
            )));
        }
        if buf.len() < end {
            return Ok(None);
        }
        if length < MAX_PAYLOAD {
            return Ok(Some(end));
        }
        at = end;
    }
}

/// The payload of a framed message: its packets' payloads joined, headers left out.
pub fn payload(message: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let first_len = message.get(..3).map_or(0, |h| {
        usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16
    });
    if first_len < MAX_PAYLOAD {
        let end = (HEADER + first_len).min(message.len());
        return std::borrow::Cow::Borrowed(message.get(HEADER..end).unwrap_or_default());
    }
    let mut joined = Vec::new();
    let mut rest = message;
    while let Some(header) = rest.get(..HEADER) {
        let length =
            usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
        let end = (HEADER + length).min(rest.len());
        joined.extend_from_slice(&rest[HEADER..end]);
        rest = &rest[end..];
    }
    std::borrow::Cow::Owned(joined)
}

/// The sequence id of a framed message's first packet.
pub fn sequence(message: &[u8]) -> Option<u8> {
    message.get(3).copied()
}

/// Packs `payload` into packets numbered from `sequence` (splitting at 16 MiB − 1 bytes).
pub fn packets(payload: &[u8], mut sequence: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + HEADER);
    let mut chunks = payload.chunks(MAX_PAYLOAD).peekable();
    loop {
        let chunk = chunks.next().unwrap_or_default();
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes()[..3]);
        out.push(sequence);
        out.extend_from_slice(chunk);
        sequence = sequence.wrapping_add(1);
        // A payload of exactly a multiple of 16 MiB − 1 ends with an empty packet.
        if chunks.peek().is_none() && chunk.len() < MAX_PAYLOAD {
            return out;
        }
    }
}

/// What a client's framed message opens the connection with: an SSLRequest or a handshake
/// response, sent as packet 1 (or 2, after an SSLRequest).
pub fn client_opening(message: &[u8]) -> Option<ClientHello> {
    if !matches!(sequence(message), Some(1 | 2)) || is_tls_record(message) {
        return None;
    }
    packets::client_hello(&payload(message))
}

/// Whether a client message is an SSLRequest.
pub fn is_ssl_request(message: &[u8]) -> bool {
    sequence(message) == Some(1)
        && matches!(
            client_opening(message),
            Some(ClientHello::SslRequest { .. })
        )
}

impl Framer for MysqlFramer {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if buf.is_empty() {
            return Ok(None);
        }
        // A TLS record where a packet would be, after an SSLRequest this side did not see
        // (or a client opening with TLS straight away): encrypted from here on.
        if self.from_client && is_tls(buf) && buf.get(2).is_some_and(|&v| v <= 4) {
            self.encrypted = true;
        }
        if self.encrypted {
            return Ok(Some(buf.split().freeze()));
        }
        let Some(end) = whole_message(buf, self.limit)? else {
            return Ok(None);
        };
        let message = buf.split_to(end).freeze();
        if self.from_client && is_ssl_request(&message) {
            self.encrypted = true;
        }
        Ok(Some(message))
    }

    fn client_sent(&mut self, message: &[u8]) {
        if is_ssl_request(message) {
            self.encrypted = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_all(framer: &mut MysqlFramer, bytes: &[u8], chunk: usize) -> Vec<Bytes> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in bytes.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(message) = framer.next(&mut buf).unwrap() {
                out.push(message);
            }
        }
        out
    }

    #[test]
    fn packets_frame_whatever_the_split() {
        let stream = [
            packets(b"\x00\x00\x00\x02\x00\x00\x00", 2),
            packets(b"\xfeplugin\0", 3),
        ]
        .concat();
        for chunk in [1, 2, 5, 100] {
            let out = frame_all(&mut MysqlFramer::new(false), &stream, chunk);
            assert_eq!(out.len(), 2, "split {chunk}");
            assert_eq!(&payload(&out[1])[..], b"\xfeplugin\0");
            assert_eq!(sequence(&out[1]), Some(3));
        }
    }

    #[test]
    fn a_payload_of_16_mib_goes_on_in_the_next_packet() {
        let big = vec![7u8; MAX_PAYLOAD + 10];
        let wire = packets(&big, 0);
        assert_eq!(wire.len(), big.len() + 2 * HEADER);
        let limit = 2 * MAX_PAYLOAD + 8;
        let out = frame_all(&mut MysqlFramer::with_limit(false, limit), &wire, 1 << 20);
        assert_eq!(out.len(), 1);
        assert_eq!(payload(&out[0]).len(), big.len());
        let exact = packets(&vec![1u8; MAX_PAYLOAD], 0);
        assert_eq!(
            exact.len(),
            MAX_PAYLOAD + 2 * HEADER,
            "ends with an empty packet"
        );
    }

    #[test]
    fn refuses_messages_past_the_limit() {
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0][..]);
        let error = MysqlFramer::new(false).next(&mut buf).unwrap_err();
        assert!(
            error.to_string().starts_with("a packet of 16777215 bytes"),
            "refused at its header"
        );
        let mut buf = BytesMut::new();
        for seq in 0..3u8 {
            buf.extend_from_slice(&[0xff, 0xff, 0xff, seq]);
            buf.resize(buf.len() + MAX_PAYLOAD, 0);
        }
        let limit = 2 * MAX_PAYLOAD + 8;
        assert!(
            MysqlFramer::with_limit(false, limit)
                .next(&mut buf)
                .is_err()
        );
    }

    #[test]
    fn after_an_ssl_request_both_sides_carry_tls() {
        let mut ssl = vec![0u8; 32];
        ssl[..4].copy_from_slice(
            &(super::packets::caps::PROTOCOL_41 | super::packets::caps::SSL).to_le_bytes(),
        );
        let request = packets(&ssl, 1);
        let stream = [request.clone(), vec![0x16, 3, 1, 0, 2, 1, 0]].concat();
        let out = frame_all(&mut MysqlFramer::new(true), &stream, 3);
        assert_eq!(&out[0][..], &request[..]);
        assert_eq!(
            out[1..].concat(),
            [0x16, 3, 1, 0, 2, 1, 0],
            "passed on as it comes"
        );
        let mut server = MysqlFramer::new(false);
        server.client_sent(&request);
        let out = frame_all(&mut server, &[0x16, 3, 3, 0, 1, 2], 100);
        assert_eq!(out.len(), 1);
    }
}
