//! SSH transport framing (RFC 4253 sections 4.2 and 6): text lines up to and including the
//! identification string (a server may send other lines first), then binary packets
//! (packet_length, padding_length, payload, padding) in the clear, until NEWKEYS; after it the
//! bytes are encrypted and passed on as they come. A line after the identification (OpenSSH's
//! "Protocol major versions differ.") frames as a line too.

use crate::dialect::{FrameError, Framer};
use bytes::{Bytes, BytesMut};

/// The longest line either side may send (RFC 4253 allows 255 bytes for the identification;
/// pre-banner lines get more room).
pub const MAX_LINE: usize = 1024;
/// The largest packet_length accepted (OpenSSH's own limit is 256 KiB).
pub const MAX_PACKET: usize = 256 * 1024;
/// SSH_MSG_NEWKEYS: after it, that direction is encrypted.
pub const NEWKEYS: u8 = 21;

/// One direction's SSH framing state.
#[derive(Debug, Default)]
pub struct SshFramer {
    state: State,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Lines,
    Packets,
    Encrypted,
}

impl SshFramer {
    /// A framer that reads `buf`'s first byte to tell a line from a packet: for callers that
    /// frame one message with no history.
    pub fn guessing(buf: &[u8]) -> SshFramer {
        SshFramer {
            state: if buf.first() == Some(&0) {
                State::Packets
            } else {
                State::Lines
            },
        }
    }
}

fn line(buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
    match memchr::memchr(b'\n', &buf[..buf.len().min(MAX_LINE)]) {
        Some(end) => Ok(Some(buf.split_to(end + 1).freeze())),
        None if buf.len() >= MAX_LINE => Err(FrameError::TooLong(format!(
            "a line of over {MAX_LINE} bytes before the SSH packets"
        ))),
        None => Ok(None),
    }
}

impl Framer for SshFramer {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if buf.is_empty() {
            return Ok(None);
        }
        match self.state {
            State::Encrypted => Ok(Some(buf.split().freeze())),
            State::Lines => {
                let framed = line(buf)?;
                if framed.as_ref().is_some_and(|l| l.starts_with(b"SSH-")) {
                    self.state = State::Packets;
                }
                Ok(framed)
            }
            // A packet length under 16 MiB starts with a zero byte; text does not.
            State::Packets if buf[0] != 0 && buf[0].is_ascii_graphic() => line(buf),
            State::Packets => {
                if buf.len() < 6 {
                    return Ok(None);
                }
                let length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                if length > MAX_PACKET {
                    return Err(FrameError::TooLong(format!(
                        "an SSH packet_length of {length}, over the {MAX_PACKET}-byte limit"
                    )));
                }
                let padding = usize::from(buf[4]);
                if length < 5 || padding + 1 >= length {
                    return Err(FrameError::Malformed(format!(
                        "an SSH packet of {length} bytes with {padding} bytes of padding"
                    )));
                }
                if buf.len() < 4 + length {
                    return Ok(None);
                }
                let packet = buf.split_to(4 + length).freeze();
                if packet[5] == NEWKEYS {
                    self.state = State::Encrypted;
                }
                Ok(Some(packet))
            }
        }
    }
}

/// A whole packet's payload (message type first), without length and padding.
pub fn payload(packet: &[u8]) -> Option<&[u8]> {
    let length = u32::from_be_bytes(packet.get(..4)?.try_into().ok()?) as usize;
    let padding = usize::from(*packet.get(4)?);
    packet.get(5..(4 + length).checked_sub(padding)?)
}

/// `payload` as a packet in the clear: padded to a multiple of 8 with at least 4 bytes
/// (RFC 4253 section 6), the padding zeros.
pub fn packet(payload: &[u8]) -> Vec<u8> {
    let mut padding = 8 - (5 + payload.len()) % 8;
    if padding < 4 {
        padding += 8;
    }
    let length = 1 + payload.len() + padding;
    let mut out = Vec::with_capacity(4 + length);
    out.extend_from_slice(&(length as u32).to_be_bytes());
    out.push(padding as u8);
    out.extend_from_slice(payload);
    out.resize(4 + length, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_all(bytes: &[u8], chunk: usize) -> Result<Vec<Bytes>, FrameError> {
        let mut framer = SshFramer::default();
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
    fn frames_lines_then_packets_then_encrypted_bytes_in_any_split() {
        let stream = [
            &b"Welcome\r\n"[..],
            b"SSH-2.0-OpenSSH_9.2\r\n",
            &packet(&[20, 1, 2, 3]),
            &packet(&[NEWKEYS]),
            b"\x8f\x01encrypted",
        ]
        .concat();
        for chunk in [1, 3, 7, 1000] {
            let messages = frame_all(&stream, chunk).unwrap();
            assert_eq!(&messages[0][..], b"Welcome\r\n", "split {chunk}");
            assert_eq!(&messages[1][..], b"SSH-2.0-OpenSSH_9.2\r\n");
            assert_eq!(payload(&messages[2]), Some(&[20, 1, 2, 3][..]));
            assert_eq!(payload(&messages[3]), Some(&[NEWKEYS][..]));
            let rest: Vec<u8> = messages[4..].concat();
            assert_eq!(rest, b"\x8f\x01encrypted");
        }
    }

    #[test]
    fn refuses_what_no_client_waits_out() {
        let huge = [&b"SSH-2.0-x\r\n"[..], &[0, 0xff, 0xff, 0xff, 4, 20]].concat();
        assert!(
            frame_all(&huge, 100)
                .unwrap_err()
                .to_string()
                .contains("over the")
        );
        assert!(frame_all(&[b'a'; 2000], 100).is_err());
        let no_room = [
            &b"SSH-2.0-x\r\n"[..],
            &[0, 0, 0, 8, 8, 20, 0, 0, 0, 0, 0, 0],
        ]
        .concat();
        assert!(frame_all(&no_room, 100).is_err());
    }

    #[test]
    fn a_text_line_after_the_identification_frames_as_a_line() {
        let messages = frame_all(b"SSH-2.0-x\r\nProtocol major versions differ.\n", 5).unwrap();
        assert_eq!(&messages[1][..], b"Protocol major versions differ.\n");
    }

    #[test]
    fn packets_are_padded_as_rfc_4253_asks() {
        for n in 0..40 {
            let p = packet(&vec![7; n]);
            assert_eq!(p.len() % 8, 0);
            assert!(p[4] >= 4);
            assert_eq!(payload(&p).unwrap().len(), n);
        }
    }
}
