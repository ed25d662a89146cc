//! Where a head that did not parse went wrong: the line itself and its number, so that an
//! error quotes the bad line rather than the start of the message. RFC 9112 section 5 gives
//! the shape of a field line; section 5.2 lets a response continue a field's value on a line
//! that starts with SP or HTAB (obs-fold), which [`unfold`] turns into one SP.

/// The first line of `head` (start line first, numbered from 1) that is not a field line as
/// RFC 9112 section 5 has it, with the line as sent (without its line ending). `None` when
/// every line up to the blank line (or the end of the bytes) is well formed.
pub fn first_bad(head: &[u8], from_client: bool) -> Option<(usize, &[u8])> {
    let mut rest = head;
    let mut number = 0;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        rest = &rest[end..];
        number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if number == 1 {
            continue;
        }
        if text.is_empty() {
            return None;
        }
        // A fold continues the field before it; none may precede the first field.
        let folded = matches!(text[0], b' ' | b'\t');
        let ok = if folded {
            !from_client && number > 2 && value_ok(text)
        } else {
            field_ok(text)
        };
        if !ok {
            return Some((number, text));
        }
    }
    None
}

/// `name ":" OWS value OWS`, the name a token.
fn field_ok(line: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    let name = &line[..colon];
    !name.is_empty() && name.iter().all(|&b| is_tchar(b)) && value_ok(&line[colon + 1..])
}

/// Field content: visible characters, SP, HTAB and obs-text; no CR, LF or other controls.
fn value_ok(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b) || b >= 0x80)
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A field value with each obs-fold (`OWS CRLF RWS`: a line ending with the whitespace around
/// it) replaced by one SP, as RFC 9112 section 5.2 tells a recipient to do before it
/// interprets the value.
pub fn unfold(value: &[u8]) -> String {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'\r' | b'\n' => {
                while out.last().is_some_and(|&b| b == b' ' || b == b'\t') {
                    out.pop();
                }
                while i < value.len() && matches!(value[i], b'\r' | b'\n' | b' ' | b'\t') {
                    i += 1;
                }
                out.push(b' ');
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bad_line_is_found_with_its_number() {
        let head = b"HTTP/1.1 200 OK\r\nA: b\r\nBad Name: c\r\nD: e\r\n\r\n";
        assert_eq!(first_bad(head, false), Some((3, &b"Bad Name: c"[..])));
        let head = b"HTTP/1.1 200 OK\r\nA: b\r\n  more\r\n\r\nbody\x01";
        assert_eq!(first_bad(head, false), None, "a response may fold");
        assert_eq!(
            first_bad(b"GET / HTTP/1.1\r\nA: b\r\n more\r\n\r\n", true),
            Some((3, &b" more"[..])),
            "a request may not"
        );
        assert_eq!(
            first_bad(b"HTTP/1.1 200 OK\r\n folded first\r\n\r\n", false),
            Some((2, &b" folded first"[..]))
        );
        assert_eq!(
            first_bad(b"HTTP/1.1 200 OK\nA: b\nC: \x7f\n\n", false),
            Some((3, &b"C: \x7f"[..]))
        );
    }

    #[test]
    fn a_fold_is_one_space() {
        assert_eq!(unfold(b"hello\r\n there \r\n\t again"), "hello there again");
        assert_eq!(unfold(b"plain"), "plain");
    }
}
