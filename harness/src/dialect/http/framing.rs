//! HTTP/1.x framing with bounded memory: a message is its head and its body, read to the body's
//! end whatever its size, of which the first [`KEPT_BODY`] bytes are kept. Content-Length,
//! chunked and close-delimited bodies; informational responses as messages of their own;
//! pipelined messages one after another; after 101 or a CONNECT's 2xx, raw bytes.

use super::head::{self, BodyLength, Head};
use crate::dialect::{FrameError, Framer};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;

/// The longest head (start line and header fields) either side may send.
pub const MAX_HEAD: usize = 64 * 1024;
/// Body bytes kept in a framed message; the rest are read and counted, not kept.
pub const KEPT_BODY: usize = 64 * 1024;
/// The longest body a message may have: a server announcing or sending more is not one a
/// client waits out.
pub const MAX_BODY: u64 = 1 << 30;
/// The longest chunk-size line (with extensions) or trailer section.
const MAX_CHUNK_LINE: usize = 4096;

/// One direction's HTTP framing state.
#[derive(Debug)]
pub struct HttpFramer {
    from_client: bool,
    state: State,
    /// Methods of requests sent and not yet answered by a final response, oldest first: a
    /// server's framer reads its responses by them.
    requests: VecDeque<String>,
}

#[derive(Debug)]
enum State {
    Head,
    Body(Partial),
    /// No longer HTTP: whatever arrives is passed on as it is.
    Tunnel,
}

/// A message whose head is read and whose body is not yet whole.
#[derive(Debug)]
struct Partial {
    message: BytesMut,
    rest: Rest,
    /// Body bytes read so far, kept or not.
    body: u64,
}

#[derive(Debug)]
enum Rest {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    /// At a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes to go, then its CRLF.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer fields until a blank line.
    Trailers,
}

impl HttpFramer {
    pub fn new(from_client: bool) -> HttpFramer {
        HttpFramer {
            from_client,
            state: State::Head,
            requests: VecDeque::new(),
        }
    }

    fn head(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let too_long =
            || FrameError::TooLong(format!("an HTTP head longer than {} KiB", MAX_HEAD / 1024));
        let Some(head) = head::parse(buf, self.from_client)? else {
            if buf.len() > MAX_HEAD {
                return Err(too_long());
            }
            return Ok(None);
        };
        // However its bytes arrived: a long head read in one piece is as long as one read in many.
        if head.len > MAX_HEAD {
            return Err(too_long());
        }
        let length = head.body_length(self.answered_method(&head).as_deref())?;
        // Refused before the head is taken off `buf`, where the error leaves it to be shown.
        if let BodyLength::Length(n) = length
            && n > MAX_BODY
        {
            return Err(FrameError::TooLong(format!(
                "Content-Length {n} is over the {MAX_BODY}-byte limit"
            )));
        }
        let message = buf.split_to(head.len);
        let rest = match length {
            BodyLength::None => return Ok(Some(message.freeze())),
            BodyLength::Tunnel => {
                self.state = State::Tunnel;
                return Ok(Some(message.freeze()));
            }
            BodyLength::Length(n) => Rest::Length(n),
            BodyLength::Chunked => Rest::Chunked(Chunk::Size),
            BodyLength::UntilClose => Rest::UntilClose,
        };
        self.state = State::Body(Partial {
            message,
            rest,
            body: 0,
        });
        Ok(None)
    }

    /// The method of the request a response answers; a final response retires it.
    fn answered_method(&mut self, head: &Head) -> Option<String> {
        let status = head.status()?;
        if status < 200 && status != 101 {
            return self.requests.front().cloned();
        }
        self.requests.pop_front()
    }
}

impl Partial {
    /// Takes `n` body bytes off `buf`, keeping what fits under [`KEPT_BODY`].
    fn take(&mut self, buf: &mut BytesMut, n: usize) -> Result<(), FrameError> {
        let kept_so_far = self.body.min(KEPT_BODY as u64) as usize;
        let keep = n.min(KEPT_BODY - kept_so_far);
        self.message.extend_from_slice(&buf[..keep]);
        buf.advance(n);
        self.body += n as u64;
        if self.body > MAX_BODY {
            return Err(FrameError::TooLong(format!(
                "a body longer than {MAX_BODY} bytes"
            )));
        }
        Ok(())
    }

    /// Reads what `buf` holds of the body: `true` once it is whole.
    fn read(&mut self, buf: &mut BytesMut) -> Result<bool, FrameError> {
        loop {
            match &mut self.rest {
                Rest::Length(left) => {
                    let n = (*left).min(buf.len() as u64) as usize;
                    *left -= n as u64;
                    let done = *left == 0;
                    self.take(buf, n)?;
                    return Ok(done);
                }
                Rest::UntilClose => {
                    let n = buf.len();
                    self.take(buf, n)?;
                    return Ok(false);
                }
                Rest::Chunked(Chunk::Size) => {
                    let Some(line) = line_end(buf)? else {
                        return Ok(false);
                    };
                    let size = chunk_size(&buf[..line])?;
                    self.take(buf, line + 2)?;
                    self.rest = Rest::Chunked(match size {
                        0 => Chunk::Trailers,
                        n => Chunk::Data(n),
                    });
                }
                Rest::Chunked(Chunk::Data(left)) => {
                    if buf.is_empty() {
                        return Ok(false);
                    }
                    let n = (*left).min(buf.len() as u64) as usize;
                    *left -= n as u64;
                    if *left == 0 {
                        self.rest = Rest::Chunked(Chunk::DataEnd);
                    }
                    self.take(buf, n)?;
                }
                Rest::Chunked(Chunk::DataEnd) => {
                    if buf.len() < 2 {
                        return Ok(false);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(FrameError::Malformed(
                            "a chunk's data does not end in CRLF".into(),
                        ));
                    }
                    self.take(buf, 2)?;
                    self.rest = Rest::Chunked(Chunk::Size);
                }
                Rest::Chunked(Chunk::Trailers) => {
                    let Some(line) = line_end(buf)? else {
                        return Ok(false);
                    };
                    self.take(buf, line + 2)?;
                    if line == 0 {
                        return Ok(true);
                    }
                }
            }
        }
    }
}

/// Where the CRLF ending the line at the front of `buf` is: `None` while it is not there yet.
fn line_end(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    crate::dialect::line_end(buf, b"\r\n", MAX_CHUNK_LINE, || {
        format!("a chunk-size or trailer line longer than {MAX_CHUNK_LINE} bytes")
    })
}

/// A chunk-size line: hex digits, then optional `;extensions`.
fn chunk_size(line: &[u8]) -> Result<u64, FrameError> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let bad = || {
        FrameError::Malformed(format!(
            "`{}` is not a chunk size",
            String::from_utf8_lossy(&line[..line.len().min(40)])
        ))
    };
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad());
    }
    u64::from_str_radix(std::str::from_utf8(digits).map_err(|_| bad())?, 16).map_err(|_| bad())
}

impl Framer for HttpFramer {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        match &mut self.state {
            State::Tunnel if buf.is_empty() => Ok(None),
            State::Tunnel => Ok(Some(buf.split().freeze())),
            State::Head if buf.is_empty() => Ok(None),
            State::Head => {
                if let Some(message) = self.head(buf)? {
                    return Ok(Some(message));
                }
                match self.state {
                    State::Body(_) => self.next(buf),
                    _ => Ok(None),
                }
            }
            State::Body(partial) => {
                if !partial.read(buf)? {
                    return Ok(None);
                }
                let State::Body(partial) = std::mem::replace(&mut self.state, State::Head) else {
                    unreachable!("in a body")
                };
                Ok(Some(partial.message.freeze()))
            }
        }
    }

    fn finish(&mut self, buf: &mut BytesMut) -> Option<Bytes> {
        match std::mem::replace(&mut self.state, State::Head) {
            State::Body(mut partial) => {
                // A close-delimited body ends here; any other is cut short, kept as far as it got.
                let n = buf.len();
                let _ = partial.take(buf, n);
                Some(partial.message.freeze())
            }
            // A head cut short is what the peer said before it went: the conversation judges
            // it (it cannot be taken for a close with nothing said).
            State::Head | State::Tunnel => (!buf.is_empty()).then(|| buf.split().freeze()),
        }
    }

    fn partial(&self) -> Option<&[u8]> {
        match &self.state {
            State::Body(partial) => Some(&partial.message),
            State::Head | State::Tunnel => None,
        }
    }

    fn client_sent(&mut self, message: &[u8]) {
        if let Ok(Some(head)) = head::parse(message, true)
            && let Some(method) = head.method()
        {
            self.requests.push_back(method.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames `bytes` fed `chunk` bytes at a time, then the close.
    fn frame_all(from_client: bool, bytes: &[u8], chunk: usize) -> Result<Vec<Bytes>, FrameError> {
        let mut framer = HttpFramer::new(from_client);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in bytes.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(message) = framer.next(&mut buf)? {
                out.push(message);
            }
        }
        out.extend(framer.finish(&mut buf));
        Ok(out)
    }

    #[test]
    fn frames_every_kind_of_body_in_any_split() {
        let stream = [
            &b"HTTP/1.1 100 Continue\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\nuntil the close",
        ]
        .concat();
        for chunk in [1, 2, 7, 1000] {
            let messages = frame_all(false, &stream, chunk).unwrap();
            let lengths: Vec<usize> = messages.iter().map(Bytes::len).collect();
            assert_eq!(lengths, [25, 43, 70, 27, 34], "split {chunk}");
        }
    }

    #[test]
    fn a_response_to_head_has_no_body_and_101_turns_to_raw_bytes() {
        let mut framer = HttpFramer::new(false);
        framer.client_sent(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
        let mut buf = BytesMut::from(
            &b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello"[..],
        );
        assert_eq!(framer.next(&mut buf).unwrap().unwrap().len(), 38);
        assert_eq!(framer.next(&mut buf).unwrap().unwrap().len(), 36);
        assert_eq!(
            framer.next(&mut buf).unwrap().unwrap().as_ref(),
            b"\x81\x05hello"
        );
    }

    #[test]
    fn a_long_body_is_read_to_its_end_keeping_only_its_start() {
        let mut framer = HttpFramer::new(false);
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"[..]);
        assert_eq!(framer.next(&mut buf).unwrap(), None);
        for _ in 0..99 {
            buf.extend_from_slice(&[b'x'; 10_000]);
            assert_eq!(framer.next(&mut buf).unwrap(), None);
            assert!(buf.is_empty(), "body bytes are not held in the buffer");
        }
        buf.extend_from_slice(&[b'x'; 10_000]);
        let message = framer.next(&mut buf).unwrap().unwrap();
        assert_eq!(message.len(), 44 + KEPT_BODY);
    }

    #[test]
    fn refuses_what_no_client_waits_out() {
        let huge = b"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n";
        assert!(
            frame_all(false, huge, 1000)
                .unwrap_err()
                .to_string()
                .contains("over the")
        );
        let mut buf = BytesMut::from(&huge[..]);
        assert!(HttpFramer::new(false).next(&mut buf).is_err());
        assert_eq!(buf, &huge[..], "the refused head is left to be shown");
        let endless_headers = [&b"HTTP/1.1 200 OK\r\n"[..], &b"X: y\r\n".repeat(20_000)].concat();
        assert!(frame_all(false, &endless_headers, 4096).is_err());
        for (len, framed) in [(MAX_HEAD, true), (MAX_HEAD + 1, false)] {
            let start = b"HTTP/1.1 204 No Content\r\nX: ";
            let padding = vec![b'p'; len - start.len() - 4];
            let head = [&start[..], &padding, b"\r\n\r\n"].concat();
            for chunk in [len, 4096, 1000] {
                let result = frame_all(false, &head, chunk);
                assert_eq!(result.is_ok(), framed, "{len} bytes in reads of {chunk}");
            }
        }
        let bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(frame_all(false, bad_chunk, 1000).is_err());
        let long_line = [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1"[..],
            &[b'0'; 5000],
        ]
        .concat();
        assert!(frame_all(false, &long_line, 1000).is_err());
    }

    #[test]
    fn a_cut_message_is_kept_as_far_as_it_got() {
        let messages = frame_all(
            false,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal",
            100,
        )
        .unwrap();
        assert_eq!(messages.len(), 1);
        assert!(messages[0].ends_with(b"hal"));
        let cut_head = b"HTTP/1.1 200 OK\r\nContent-Le";
        for chunk in [1, 5, 100] {
            let messages = frame_all(false, cut_head, chunk).unwrap();
            assert_eq!(messages, [&cut_head[..]], "split {chunk}");
        }
    }
}
