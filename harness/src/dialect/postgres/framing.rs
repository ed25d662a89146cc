//! PostgreSQL's frontend/backend framing (protocol 3.x, "Message Formats"): the untyped
//! packets that open a connection (StartupMessage of any version, SSLRequest, GSSENCRequest,
//! CancelRequest: a length, then a code), the one-byte answer to an SSLRequest or
//! GSSENCRequest, and typed messages (a type byte, then a length). TLS records that follow an
//! accepted SSLRequest in a recording pass as they come. Lengths are bounded.

use crate::dialect::{FrameError, Framer};
use bytes::{Bytes, BytesMut};

pub const SSL_REQUEST: u32 = 80_877_103;
pub const GSSENC_REQUEST: u32 = 80_877_104;
pub const CANCEL_REQUEST: u32 = 80_877_102;
/// The longest startup packet a server accepts (PostgreSQL's MAX_STARTUP_PACKET_LENGTH).
pub const MAX_STARTUP: usize = 10_000;
/// The longest typed message accepted. A backend's messages before authentication are small.
pub const MAX_MESSAGE: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Client side: startup packets; server side: never.
    Untyped,
    Typed,
    /// Encrypted (TLS or GSS): passed on as it comes.
    Opaque,
}

/// One direction's PostgreSQL framing state.
#[derive(Debug)]
pub struct PgFramer {
    state: State,
    /// Server side: SSLRequests and GSSENCRequests sent and not yet answered.
    awaiting_answer: usize,
    /// Server side: the client asked for protocol 2, whose errors are a type byte and a
    /// NUL-terminated text, with no length.
    protocol_2: bool,
}

impl PgFramer {
    pub fn new(from_client: bool) -> PgFramer {
        PgFramer {
            state: if from_client {
                State::Untyped
            } else {
                State::Typed
            },
            awaiting_answer: 0,
            protocol_2: false,
        }
    }

    /// A framer that tells a startup packet from a typed message by its first byte (a
    /// startup packet's length starts with a zero byte; a type byte is a letter).
    pub fn guessing(from_client: bool, buf: &[u8]) -> PgFramer {
        let mut framer = PgFramer::new(from_client);
        if from_client && buf.first().is_some_and(|&b| b != 0) {
            framer.state = State::Typed;
        }
        framer
    }
}

/// A TLS handshake record starts `16 03`: what follows an accepted SSLRequest (or opens a
/// connection directly, with `sslnegotiation=direct`).
pub fn is_tls(buf: &[u8]) -> bool {
    buf.len() >= 2 && buf[0] == 0x16 && buf[1] == 0x03
}

fn untyped(buf: &mut BytesMut) -> Result<Option<(Bytes, u32)>, FrameError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    let code = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if !(8..=MAX_STARTUP).contains(&length) {
        return Err(FrameError::TooLong(format!(
            "a startup packet of {length} bytes (at most {MAX_STARTUP})"
        )));
    }
    if buf.len() < length {
        return Ok(None);
    }
    Ok(Some((buf.split_to(length).freeze(), code)))
}

fn typed(buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
    if buf.len() < 5 {
        return Ok(None);
    }
    if !buf[0].is_ascii_alphabetic() {
        return Err(FrameError::Foreign(format!(
            "not a PostgreSQL message: type byte 0x{:02x}",
            buf[0]
        )));
    }
    let length = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if !(4..=MAX_MESSAGE).contains(&length) {
        return Err(FrameError::TooLong(format!(
            "a '{}' message of {length} bytes (at most {MAX_MESSAGE})",
            char::from(buf[0])
        )));
    }
    if buf.len() < 1 + length {
        return Ok(None);
    }
    Ok(Some(buf.split_to(1 + length).freeze()))
}

impl Framer for PgFramer {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if buf.is_empty() {
            return Ok(None);
        }
        if self.state != State::Opaque && is_tls(buf) {
            self.state = State::Opaque;
        }
        match self.state {
            State::Opaque => Ok(Some(buf.split().freeze())),
            State::Untyped => {
                let Some((packet, code)) = untyped(buf)? else {
                    return Ok(None);
                };
                if ![SSL_REQUEST, GSSENC_REQUEST].contains(&code) {
                    self.state = State::Typed;
                }
                Ok(Some(packet))
            }
            State::Typed if self.awaiting_answer > 0 => {
                // The answer to an SSLRequest or GSSENCRequest is one byte; an old server may
                // answer with an ErrorResponse instead.
                if buf[0] == b'E' {
                    // Answered only once the whole error is in, whatever the split.
                    let framed = typed(buf)?;
                    if framed.is_some() {
                        self.awaiting_answer -= 1;
                    }
                    return Ok(framed);
                }
                self.awaiting_answer -= 1;
                let answer = buf.split_to(1).freeze();
                if answer[0] == b'G' {
                    self.state = State::Opaque;
                }
                Ok(Some(answer))
            }
            State::Typed if self.protocol_2 && buf[0] == b'E' => {
                match memchr::memchr(0, &buf[..buf.len().min(MAX_MESSAGE)]) {
                    Some(end) => Ok(Some(buf.split_to(end + 1).freeze())),
                    None if buf.len() >= MAX_MESSAGE => Err(FrameError::TooLong(format!(
                        "a protocol 2 error of over {MAX_MESSAGE} bytes"
                    ))),
                    None => Ok(None),
                }
            }
            State::Typed => typed(buf),
        }
    }

    fn client_sent(&mut self, message: &[u8]) {
        // Untyped packets (a startup) begin with their length's zero byte; typed ones
        // (a PasswordMessage) with a letter.
        if message.len() >= 8 && message[0] == 0 && message[4..6] == [0, 2] {
            self.protocol_2 = true;
        }
        if message.len() == 8
            && [SSL_REQUEST, GSSENC_REQUEST].contains(&u32::from_be_bytes([
                message[4], message[5], message[6], message[7],
            ]))
        {
            self.awaiting_answer += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_all(
        framer: &mut PgFramer,
        bytes: &[u8],
        chunk: usize,
    ) -> Result<Vec<Bytes>, FrameError> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in bytes.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(message) = framer.next(&mut buf)? {
                out.push(message);
            }
        }
        Ok(out)
    }

    #[test]
    fn a_client_frames_startup_packets_then_typed_messages() {
        let ssl = [0, 0, 0, 8, 4, 210, 22, 47];
        let startup = [0, 0, 0, 9, 0, 3, 0, 0, 0];
        let stream = [&ssl[..], &startup, b"X\x00\x00\x00\x04"].concat();
        for chunk in [1, 3, 100] {
            let out = frame_all(&mut PgFramer::new(true), &stream, chunk).unwrap();
            assert_eq!(out.len(), 3, "split {chunk}");
            assert_eq!(&out[2][..], b"X\x00\x00\x00\x04");
        }
        let tls = [&ssl[..], &[0x16, 3, 1, 0, 1, 1]].concat();
        let out = frame_all(&mut PgFramer::new(true), &tls, 100).unwrap();
        assert_eq!(&out[1][..], &[0x16, 3, 1, 0, 1, 1]);
    }

    #[test]
    fn a_server_answers_an_ssl_request_with_one_byte() {
        let mut framer = PgFramer::new(false);
        framer.client_sent(&[0, 0, 0, 8, 4, 210, 22, 47]);
        let out = frame_all(&mut framer, b"NR\x00\x00\x00\x08\x00\x00\x00\x00", 2).unwrap();
        assert_eq!(&out[0][..], b"N");
        assert_eq!(out[1].len(), 9);
        let mut framer = PgFramer::new(false);
        framer.client_sent(&[0, 0, 0, 8, 4, 210, 22, 47]);
        let out = frame_all(&mut framer, b"S\x16\x03\x03\x00\x02ab", 100).unwrap();
        assert_eq!(&out[0][..], b"S");
        assert!(out[1].starts_with(b"\x16\x03"));
    }

    #[test]
    fn refuses_what_no_client_waits_out() {
        let huge = b"R\x80\x00\x00\x00";
        assert!(frame_all(&mut PgFramer::new(false), huge, 10).is_err());
        assert!(frame_all(&mut PgFramer::new(false), b"\x00\x01garbage", 10).is_err());
        let huge_startup = [0u8, 1, 0, 0, 0, 3, 0, 0];
        assert!(frame_all(&mut PgFramer::new(true), &huge_startup, 10).is_err());
    }
}
