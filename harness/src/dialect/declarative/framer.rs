//! The line framer a dialect file configures: a message is one line, and a server reply goes
//! on over the lines its `continues` pattern matches (SMTP's `250-...` up to `250 ...`).
//! Lines and replies are bounded; a control byte (a TLS record after STARTTLS, binary junk)
//! is not a line, and says so at once rather than waiting for a terminator.

use super::spec::Framing;
use crate::dialect::{FrameError, line_end};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};

/// Takes one whole message sent by `from` off the front of `buf`: `Ok(None)` when more
/// bytes are needed.
pub fn frame(
    framing: &Framing,
    from: Direction,
    buf: &mut BytesMut,
) -> Result<Option<Bytes>, FrameError> {
    let mut start = 0;
    loop {
        let rest = &buf[start..];
        let end = line_end(rest, b"\n", framing.max_line.saturating_sub(1), || {
            format!("a line over {} bytes", framing.max_line)
        });
        // A control byte says at once that this is not text, before any line limit does.
        let seen = match &end {
            Ok(Some(at)) => at + 1,
            _ => rest.len().min(framing.max_line),
        };
        if let Some(at) = rest[..seen].iter().position(|&b| not_text(b)) {
            return Err(FrameError::Foreign(format!(
                "byte 0x{:02x} at offset {} is not text",
                rest[at],
                start + at
            )));
        }
        let Some(end) = end? else {
            return Ok(None);
        };
        let line = &rest[..end + 1];
        let next = start + end + 1;
        if next > framing.max_reply {
            return Err(FrameError::TooLong(format!(
                "a reply over {} bytes",
                framing.max_reply
            )));
        }
        let continues = from == Direction::Server
            && framing
                .continues
                .as_ref()
                .is_some_and(|pattern| pattern.is_match(&String::from_utf8_lossy(trim_end(line))));
        if !continues {
            return Ok(Some(buf.split_to(next).freeze()));
        }
        start = next;
    }
}

/// Bytes no text line holds: control characters other than tab and the line's end.
fn not_text(byte: u8) -> bool {
    byte < 0x20 && !matches!(byte, b'\t' | b'\r' | b'\n') || byte == 0x7f
}

/// A line without its terminator.
pub fn trim_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A message's lines as text, without terminators, joined by `\n`.
pub fn text(message: &[u8]) -> String {
    String::from_utf8_lossy(trim_end(message))
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn smtp() -> Framing {
        Framing {
            terminator: "\r\n",
            continues: Some(Regex::new(r"^\d{3}-").unwrap()),
            max_line: 64,
            max_reply: 200,
        }
    }

    fn all(framing: &Framing, from: Direction, bytes: &[u8]) -> Result<Vec<String>, FrameError> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(m) = frame(framing, from, &mut buf)? {
            out.push(text(&m));
        }
        Ok(out)
    }

    #[test]
    fn a_multi_line_reply_is_one_message_up_to_its_last_line() {
        let got = all(
            &smtp(),
            Direction::Server,
            b"250-mail.example\r\n250-AUTH PLAIN\r\n250 SMTPUTF8\r\n220 go\r\n",
        )
        .unwrap();
        assert_eq!(
            got,
            ["250-mail.example\n250-AUTH PLAIN\n250 SMTPUTF8", "220 go"]
        );
    }

    #[test]
    fn client_lines_never_continue() {
        let got = all(&smtp(), Direction::Client, b"250-x\r\nQUIT\r\n").unwrap();
        assert_eq!(got, ["250-x", "QUIT"]);
    }

    #[test]
    fn any_split_of_the_bytes_frames_the_same() {
        let bytes = b"220 hi\r\n250-a\r\n250-b\n250 c\r\n";
        let whole = all(&smtp(), Direction::Server, bytes).unwrap();
        for cut in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..cut]);
            let mut got = Vec::new();
            while let Some(m) = frame(&smtp(), Direction::Server, &mut buf).unwrap() {
                got.push(text(&m));
            }
            buf.extend_from_slice(&bytes[cut..]);
            while let Some(m) = frame(&smtp(), Direction::Server, &mut buf).unwrap() {
                got.push(text(&m));
            }
            assert_eq!(got, whole, "cut at {cut}");
        }
    }

    #[test]
    fn an_unfinished_reply_waits() {
        let mut buf = BytesMut::from(&b"250-a\r\n250-b\r\n25"[..]);
        assert_eq!(frame(&smtp(), Direction::Server, &mut buf).unwrap(), None);
        assert_eq!(buf.len(), 16, "nothing is taken until the reply is whole");
    }

    #[test]
    fn a_line_over_the_limit_is_refused_before_its_end_comes() {
        let long = vec![b'a'; 64];
        let err = all(&smtp(), Direction::Server, &long).unwrap_err();
        assert_eq!(err, FrameError::TooLong("a line over 64 bytes".into()));
    }

    #[test]
    fn a_reply_over_the_limit_is_refused() {
        let bytes = b"250-0123456789\r\n".repeat(20);
        let err = all(&smtp(), Direction::Server, &bytes).unwrap_err();
        assert_eq!(err, FrameError::TooLong("a reply over 200 bytes".into()));
    }

    #[test]
    fn a_tls_record_is_not_text_from_its_first_byte() {
        let err = all(&smtp(), Direction::Client, &[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap_err();
        assert_eq!(
            err,
            FrameError::Foreign("byte 0x16 at offset 0 is not text".into())
        );
        let err = all(&smtp(), Direction::Server, b"250-ok\r\n\x00").unwrap_err();
        assert_eq!(
            err,
            FrameError::Foreign("byte 0x00 at offset 8 is not text".into())
        );
    }
}
