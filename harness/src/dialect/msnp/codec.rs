//! MSNP framing (msnp.md section 2): CRLF-terminated command lines; payload commands announce
//! their body length as the last argument and the body follows the CRLF unterminated. The body
//! is taken by length, never by searching for CRLF. Pure functions over bytes, no I/O.

use super::Message;
use crate::dialect::FrameError;
use bytes::{Bytes, BytesMut};

/// Which side sent the bytes: the two sides have different payload commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

/// Bounds that keep a hostile peer from making the decoder buffer without end.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_line: usize,
    pub max_body: usize,
}

impl Default for Limits {
    /// Real command lines are under 1 KiB and real bodies (GCF) a few KiB.
    fn default() -> Limits {
        Limits {
            max_line: 16 * 1024,
            max_body: 1024 * 1024,
        }
    }
}

impl Limits {
    pub fn unbounded() -> Limits {
        Limits {
            max_line: usize::MAX,
            max_body: usize::MAX,
        }
    }
}

const SERVER_PAYLOADS: &[&str] = &[
    "MSG", "NOT", "GCF", "UBX", "IPG", "ADL", "RML", "FQY", "UUN", "UBN",
];
const CLIENT_PAYLOADS: &[&str] = &["MSG", "QRY", "UUX", "ADL", "RML", "FQY", "UUN", "PAG"];

/// Whether a head announces a body. A payload command carries one only when its last
/// argument is a length (`ADL 5 OK` is an acknowledgement without body); an error reply carries
/// one when it has a length after its TrID (`241 10 74`, later protocol versions).
fn announced_body(
    command: &str,
    last: Option<&str>,
    arg_count: impl FnOnce() -> usize,
    sender: Sender,
) -> Option<&'static str> {
    let payloads = match sender {
        Sender::Client => CLIENT_PAYLOADS,
        Sender::Server => SERVER_PAYLOADS,
    };
    let numeric_last = last.is_some_and(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()));
    let is_error = command.bytes().all(|b| b.is_ascii_digit());
    if !numeric_last {
        None
    } else if payloads.contains(&command) {
        Some("payload command")
    } else if is_error && arg_count() >= 2 {
        Some("error reply")
    } else {
        None
    }
}

/// ASCII without control characters (no early exit, so it is checked many bytes at a time).
fn is_plain_ascii(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(true, |ok, &b| ok & (0x20..0x7f).contains(&b))
}

/// Where the first whole message in `buf` ends: the length of its command line (without
/// CRLF) and its total length with the body. `Ok(None)`: more bytes are needed. Checks
/// everything [`decode`] checks, without allocating, so recordings frame cheaply.
pub fn frame_len(
    buf: &[u8],
    sender: Sender,
    limits: &Limits,
) -> Result<Option<(usize, usize)>, FrameError> {
    // A command starts with three capital letters or digits: reject other bytes at once,
    // rather than waiting for a CRLF that a peer speaking another protocol may never send.
    let prefix = &buf[..buf.len().min(3)];
    if !prefix
        .iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(FrameError::Foreign(format!(
            "not an MSNP command line: {}",
            preview(&buf[..buf.len().min(16)])
        )));
    }
    let Some(line_end) = crate::dialect::line_end(buf, b"\r\n", limits.max_line, || {
        format!(
            "command line longer than {} bytes without CRLF",
            limits.max_line
        )
    })?
    else {
        return Ok(None);
    };
    let line = std::str::from_utf8(&buf[..line_end]).map_err(|_| {
        FrameError::Foreign(format!(
            "command line is not text: {}",
            preview(&buf[..line_end])
        ))
    })?;
    let line_from_command = line.trim_start_matches(' ');
    let command_len = line_from_command
        .find(' ')
        .unwrap_or(line_from_command.len());
    let (command, args) = line_from_command.split_at(command_len);
    let valid_command = command.len() == 3
        && command
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let control = |c: char| c.is_control();
    if !valid_command || (!is_plain_ascii(line.as_bytes()) && line.chars().any(control)) {
        return Err(FrameError::Foreign(format!(
            "not an MSNP command line: {}",
            preview(line.as_bytes())
        )));
    }
    // Most lines announce no body: the words are counted only when the last one is a number.
    let last = args.rsplit(' ').find(|w| !w.is_empty());
    let count = || args.split(' ').filter(|w| !w.is_empty()).count();
    let head_len = line_end + 2;
    let body_len = match announced_body(command, last, count, sender) {
        None => 0,
        Some(kind) => {
            let announced = last.unwrap_or_default();
            match announced.parse::<usize>() {
                Ok(n) if n <= limits.max_body => n,
                _ => {
                    return Err(FrameError::TooLong(format!(
                        "{kind} `{command}` announces a {announced}-byte body, over the {}-byte limit",
                        limits.max_body
                    )));
                }
            }
        }
    };
    // Unbounded limits (an already framed message) must not overflow on a huge length.
    let Some(total) = head_len.checked_add(body_len) else {
        return Err(FrameError::TooLong(format!(
            "a {body_len}-byte body cannot be held"
        )));
    };
    Ok((buf.len() >= total).then_some((line_end, total)))
}

/// Takes one whole message off the front of `buf`. `Ok(None)`: more bytes are needed, nothing
/// is consumed. On success returns the message and its raw bytes.
pub fn decode(
    buf: &mut BytesMut,
    sender: Sender,
    limits: &Limits,
) -> Result<Option<(Message, Bytes)>, FrameError> {
    let Some((line_end, total)) = frame_len(buf, sender, limits)? else {
        return Ok(None);
    };
    let raw = buf.split_to(total).freeze();
    Ok(Some((message_of(&raw, line_end, sender), raw)))
}

/// Reads one message already framed (by [`frame_len`]); `None` when `raw` is not exactly one
/// whole message.
pub fn parse(raw: &Bytes, sender: Sender) -> Option<Message> {
    match frame_len(raw, sender, &Limits::unbounded()) {
        Ok(Some((line_end, total))) if total == raw.len() => {
            Some(message_of(raw, line_end, sender))
        }
        _ => None,
    }
}

/// The message in `raw`, whose command line ends at `line_end` (checked to be text).
fn message_of(raw: &Bytes, line_end: usize, sender: Sender) -> Message {
    let line = std::str::from_utf8(&raw[..line_end]).unwrap_or_default();
    let mut words = line
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string);
    let command = words.next().unwrap_or_default();
    let args: Vec<String> = words.collect();
    let body = (raw.len() > line_end + 2).then(|| raw.slice(line_end + 2..));
    let has_body = announced_body(
        &command,
        args.last().map(String::as_str),
        || args.len(),
        sender,
    )
    .is_some();
    Message {
        command,
        args,
        body: if has_body {
            Some(body.unwrap_or_default())
        } else {
            None
        },
    }
}

/// Decodes every whole message in `bytes`, leaving any partial one in place.
pub fn decode_all(
    buf: &mut BytesMut,
    sender: Sender,
    limits: &Limits,
) -> Result<Vec<Message>, FrameError> {
    let mut messages = Vec::new();
    while let Some((message, _)) = decode(buf, sender, limits)? {
        messages.push(message);
    }
    Ok(messages)
}

/// The wire form of a line (CRLF appended) and, when given, a body whose length is appended to
/// the line as its last argument.
pub fn encode(line: &str, body: Option<&[u8]>) -> Bytes {
    let mut out = BytesMut::with_capacity(line.len() + 16 + body.map_or(0, <[u8]>::len));
    out.extend_from_slice(line.as_bytes());
    if let Some(body) = body {
        out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    if let Some(body) = body {
        out.extend_from_slice(body);
    }
    out.freeze()
}

/// A short, printable rendering of hostile bytes for an error message.
fn preview(bytes: &[u8]) -> String {
    const MAX: usize = 48;
    let shown = &bytes[..bytes.len().min(MAX)];
    let printable = shown.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
    let mut text = if printable {
        format!("`{}`", String::from_utf8_lossy(shown))
    } else {
        format!("hex {}", hex::encode(shown))
    };
    if bytes.len() > MAX {
        text.push_str(&format!(" (+{} bytes)", bytes.len() - MAX));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const SESSION: &[u8] = b"VER 1 MSNP8 CVR0\r\nCVR 2 7.0.0816 7.0.0816 1.0.0000 http://x/SETUP9x.EXE http://messenger.msn.com\r\nGCF 0 20\r\n<a>\r\nnot\r\na line</a>MSG Hotmail Hotmail 4\r\n\r\n\r\nUSR 3 TWN S lc=1033,id=507\r\n911 4\r\n";

    fn heads(messages: &[Message]) -> Vec<String> {
        messages.iter().map(Message::head).collect()
    }

    fn decode_in_chunks(bytes: &[u8], chunk: usize) -> Vec<Message> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in bytes.chunks(chunk) {
            buf.extend_from_slice(piece);
            out.extend(decode_all(&mut buf, Sender::Server, &Limits::default()).unwrap());
        }
        assert!(buf.is_empty(), "bytes left over");
        out
    }

    #[rstest]
    #[case::one_byte_at_a_time(1)]
    #[case::two_bytes(2)]
    #[case::odd_split(7)]
    #[case::splits_inside_crlf(18)]
    #[case::all_at_once(4096)]
    fn same_messages_whatever_the_split(#[case] chunk: usize) {
        let whole = decode_in_chunks(SESSION, SESSION.len());
        assert_eq!(decode_in_chunks(SESSION, chunk), whole);
        assert_eq!(
            heads(&whole),
            [
                "VER 1 MSNP8 CVR0",
                "CVR 2 7.0.0816 7.0.0816 1.0.0000 http://x/SETUP9x.EXE http://messenger.msn.com",
                "GCF 0 20",
                "MSG Hotmail Hotmail 4",
                "USR 3 TWN S lc=1033,id=507",
                "911 4",
            ]
        );
    }

    #[test]
    fn body_with_crlf_inside_is_taken_by_length() {
        let messages = decode_in_chunks(SESSION, 3);
        assert_eq!(
            messages[2].body.as_deref(),
            Some(&b"<a>\r\nnot\r\na line</a>"[..])
        );
        assert_eq!(messages[3].body.as_deref(), Some(&b"\r\n\r\n"[..]));
        assert_eq!(messages[4].error_code(), None);
        assert_eq!(messages[5].error_code(), Some(911));
        assert_eq!(messages[5].trid(), Some(4));
    }

    #[test]
    fn incomplete_body_consumes_nothing() {
        let mut buf = BytesMut::from(&b"GCF 0 10\r\n12345"[..]);
        assert!(
            decode(&mut buf, Sender::Server, &Limits::default())
                .unwrap()
                .is_none()
        );
        assert_eq!(buf.len(), 15);
    }

    #[test]
    fn acknowledgement_of_payload_command_has_no_body() {
        let mut buf = BytesMut::from(&b"ADL 5 OK\r\nVER 6 0\r\n"[..]);
        let messages = decode_all(&mut buf, Sender::Server, &Limits::default()).unwrap();
        assert_eq!(heads(&messages), ["ADL 5 OK", "VER 6 0"]);
    }

    #[test]
    fn error_reply_with_length_carries_a_body() {
        let mut buf = BytesMut::from(&b"241 10 5\r\n<ml/>"[..]);
        let messages = decode_all(&mut buf, Sender::Server, &Limits::default()).unwrap();
        assert_eq!(messages[0].body.as_deref(), Some(&b"<ml/>"[..]));
    }

    #[test]
    fn direction_decides_payload_commands() {
        // QRY carries a body from the client; the server's `QRY 5` acknowledgement does not.
        let mut from_client = BytesMut::from(&b"QRY 5 msmsgs@msnmsgr.com 2\r\nab"[..]);
        let m = decode_all(&mut from_client, Sender::Client, &Limits::default()).unwrap();
        assert_eq!(m[0].body.as_deref(), Some(&b"ab"[..]));
        let mut from_server = BytesMut::from(&b"QRY 5\r\n"[..]);
        let m = decode_all(&mut from_server, Sender::Server, &Limits::default()).unwrap();
        assert_eq!(m[0].body, None);
    }

    #[rstest]
    #[case::endless_line(&[b'A'; 20_000][..], "longer than")]
    #[case::garbage(
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\r\n",
        "not an MSNP command line"
    )]
    #[case::tls_hello_without_crlf(b"\x16\x03\x01\x00\xc9\x01", "not an MSNP command line")]
    #[case::not_text(b"VER \xff\xfe\r\n", "not text")]
    #[case::lowercase_command(b"hello world\r\n", "not an MSNP command line")]
    #[case::huge_body(b"MSG Hotmail Hotmail 2147483648\r\n", "over the")]
    #[case::overflowing_length(b"MSG a b 99999999999999999999999999\r\n", "over the")]
    fn hostile_bytes_are_errors(#[case] bytes: &[u8], #[case] needle: &str) {
        let mut buf = BytesMut::from(bytes);
        let err = decode(&mut buf, Sender::Server, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }

    #[test]
    fn encode_appends_body_length() {
        assert_eq!(
            &encode("VER 1 MSNP8 CVR0", None)[..],
            b"VER 1 MSNP8 CVR0\r\n"
        );
        assert_eq!(&encode("QRY 9 id", Some(b"abc"))[..], b"QRY 9 id 3\r\nabc");
    }
}
