//! Framing one direction of one connection. Most protocols frame each message from the bytes
//! alone ([`Wire::frame`](super::Wire::frame)); some need to remember where they are: an HTTP body is read to
//! its end (or the connection's) whatever its size, and a response's framing depends on the
//! request it answers. A [`Framer`] carries that state; [`Stateless`] adapts a dialect whose
//! framing needs none.

use super::{Dialect, FrameError};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};

/// One direction's framing state, fed the bytes as they arrive.
pub trait Framer: Send {
    /// Takes one whole message off the front of `buf` (or takes bytes into the framer's own
    /// bounded state): `Ok(None)` when more bytes are needed.
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError>;
    /// The direction has ended: the message the close completes (an HTTP/1.0 body that runs
    /// to the close), or the part of one the framer holds, so that no byte is lost.
    fn finish(&mut self, buf: &mut BytesMut) -> Option<Bytes> {
        let _ = buf;
        None
    }
    /// The message begun and not yet whole that the framer holds (an HTTP head and what it
    /// kept of a body still coming), without taking it; `None` between messages.
    fn partial(&self) -> Option<&[u8]> {
        None
    }
    /// The client sent `message`: a server's framing may depend on it (a response to an HTTP
    /// `HEAD` has no body).
    fn client_sent(&mut self, message: &[u8]) {
        let _ = message;
    }
}

/// A framer for a dialect whose messages frame from their bytes alone.
pub struct Stateless<'a> {
    pub dialect: &'a dyn Dialect,
    pub from: Direction,
}

impl Framer for Stateless<'_> {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        self.dialect.frame(self.from, buf)
    }
}

/// Where the line at the front of `buf` ends: the offset of its first `terminator`, the line
/// before it at most `max` bytes. `Ok(None)` while it may still come; a
/// [`FrameError::TooLong`] saying `too_long()` once more than `max` bytes hold none. The one
/// bounded line search of every line framer (MSNP's command lines, HTTP's chunk lines, a
/// dialect file's lines, SSH's lines before its packets).
pub fn line_end(
    buf: &[u8],
    terminator: &[u8],
    max: usize,
    too_long: impl FnOnce() -> String,
) -> Result<Option<usize>, FrameError> {
    let window = &buf[..buf.len().min(max.saturating_add(terminator.len()))];
    match find(window, terminator) {
        Some(at) => Ok(Some(at)),
        None if buf.len() > max => Err(FrameError::TooLong(too_long())),
        None => Ok(None),
    }
}

/// Where `needle` first starts in `haystack`. Terminators are a byte or two and lines short,
/// so this looks for the first byte and checks the rest there, rather than building a
/// substring searcher for every line (which cost judge a tenth of its framing).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    memchr::memchr_iter(first, haystack).find(|&at| haystack[at + 1..].starts_with(rest))
}

/// The bytes at the front of `buf` up to and including the first `end` byte, looked for in
/// at most `max` bytes, the end byte included (a line, a NUL-terminated message):
/// [`line_end`]'s answer, taken off `buf`.
pub fn take_through(
    buf: &mut BytesMut,
    end: u8,
    max: usize,
    too_long: impl FnOnce() -> String,
) -> Result<Option<Bytes>, FrameError> {
    let found = line_end(buf, &[end], max.saturating_sub(1), too_long)?;
    Ok(found.map(|at| buf.split_to(at + 1).freeze()))
}

/// The framer live replies and recordings of `dialect` are framed with, for one direction of
/// one connection.
pub fn framer(dialect: &dyn Dialect, from: Direction) -> Box<dyn Framer + '_> {
    dialect
        .own_framer(from)
        .unwrap_or_else(|| Box::new(Stateless { dialect, from }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(buf: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
        line_end(buf, b"\r\n", max, || "too long".into())
    }

    /// A line of exactly `max` bytes is found; one byte more, with no terminator in sight, is
    /// too long; less, still waiting, is more to come.
    #[test]
    fn a_line_may_hold_max_bytes_before_its_terminator() {
        assert_eq!(found(b"abcd\r\nnext", 4), Ok(Some(4)));
        assert_eq!(found(b"abcd", 4), Ok(None));
        assert_eq!(
            found(b"abcde", 4),
            Err(FrameError::TooLong("too long".into()))
        );
        assert_eq!(
            found(b"abcde\r\n", 4),
            Err(FrameError::TooLong("too long".into()))
        );
    }

    /// The first whole terminator, past lone first bytes and cut-off ones, is where the
    /// line ends: as a substring search would find it.
    #[test]
    fn the_first_whole_terminator_ends_the_line() {
        assert_eq!(found(b"a\rb\r\r\nc\r\n", 64), Ok(Some(4)));
        assert_eq!(found(b"\r\n", 64), Ok(Some(0)));
        assert_eq!(found(b"abc\r", 64), Ok(None));
        assert_eq!(found(b"\r\r\r", 64), Ok(None));
        let blank = |buf: &[u8]| line_end(buf, b"\r\n\r\n", 64, || "too long".into());
        assert_eq!(blank(b"a\r\nb\r\n\r\nc"), Ok(Some(4)));
        assert_eq!(blank(b"a\r\nb\r\n\r"), Ok(None));
        let nul = |buf: &[u8]| line_end(buf, b"\0", 64, || "too long".into());
        assert_eq!(nul(b"ab\0"), Ok(Some(2)));
        for n in 0..40 {
            let buf: Vec<u8> = (0..n).map(|i| b"\r\nx"[(i * 7 + n) % 3]).collect();
            let expected = memchr::memmem::find(&buf, b"\r\n");
            assert_eq!(find(&buf, b"\r\n"), expected, "{buf:?}");
        }
    }

    /// `take_through` counts its end byte within `max`.
    #[test]
    fn take_through_counts_its_end_byte() {
        let mut buf = BytesMut::from(&b"abc\nrest"[..]);
        let taken = take_through(&mut buf, b'\n', 4, || "too long".into()).unwrap();
        assert_eq!(taken.as_deref(), Some(&b"abc\n"[..]));
        assert_eq!(&buf[..], b"rest");
        let mut buf = BytesMut::from(&b"abcd\n"[..]);
        assert!(take_through(&mut buf, b'\n', 4, || "too long".into()).is_err());
    }
}
