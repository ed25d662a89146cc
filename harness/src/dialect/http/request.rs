//! HTTP steps. A scripted request is written as it goes on the wire, one line per line and
//! without the CRs: the request line, then header fields, checked when the case loads; `body`
//! adds a body (and its Content-Length, unless the step gives a length or a
//! Transfer-Encoding); when it is sent it must frame as one HTTP/1.x request, or it is refused.
//! A recorded request is replayed as recorded, its Host rewritten to `{host}`.

use super::framing::HttpFramer;
use super::head;
use crate::dialect::{Framer, SendError, StepError, StepSource};
use crate::template::Template;
use bytes::BytesMut;
use std::collections::BTreeMap;

/// One compiled HTTP step.
#[derive(Debug)]
pub enum HttpRequest {
    Scripted {
        head: Template,
        body: Option<Template>,
    },
    /// A recorded request; with `rewrite_host`, its Host field becomes `{host}`.
    Recorded { bytes: Vec<u8>, rewrite_host: bool },
}

/// Characters of a method or field name (RFC 9110 `token`); `{` and `}` for variables.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~{}".contains(&b))
}

fn is_version(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 8
        && text.starts_with("HTTP/")
        && b[5].is_ascii_digit()
        && b[6] == b'.'
        && b[7].is_ascii_digit()
}

/// Checks a case file's request, line by line.
pub fn compile(source: &StepSource<'_>) -> Result<HttpRequest, StepError> {
    let (send, body) = (source.send, source.body);
    let text = source.text;
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split('\n') {
        lines.push((offset, line.strip_suffix('\r').unwrap_or(line)));
        offset += line.len() + 1;
    }
    while lines.len() > 1 && lines.last().is_some_and(|(_, l)| l.is_empty()) {
        lines.pop();
    }
    let (at, request_line) = lines[0];
    request_line_ok(at, request_line)?;
    for &(at, line) in &lines[1..] {
        if line.is_empty() {
            return Err(StepError::at(at, 1, "a blank line ends the head")
                .with_help("give the body as `body = \"...\"`"));
        }
        let Some((name, _)) = line.split_once(':') else {
            return Err(
                StepError::at(at, line.len(), format!("`{line}` is not a header field"))
                    .with_help("a field is `Name: value`"),
            );
        };
        if !is_token(name) {
            return Err(StepError::at(
                at,
                name.len(),
                format!("`{name}` is not a field name"),
            ));
        }
    }
    Ok(HttpRequest::Scripted {
        head: send.clone(),
        body: body.cloned(),
    })
}

fn request_line_ok(at: usize, line: &str) -> Result<(), StepError> {
    let help = "a request line is `METHOD TARGET HTTP/1.1`, e.g. `GET /api/v2/status HTTP/1.1`";
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(StepError::at(at, line.len(), "not a request line").with_help(help));
    };
    if !is_token(method) {
        return Err(StepError::at(
            at,
            method.len(),
            format!("`{method}` is not a method"),
        ));
    }
    if target.is_empty() {
        return Err(StepError::at(at + method.len() + 1, 1, "no request target").with_help(help));
    }
    let version_at = at + method.len() + target.len() + 2;
    if !is_version(version) && !version.contains('{') {
        return Err(StepError::at_item(
            version_at,
            version.len(),
            format!("`{version}` is not an HTTP version"),
        )
        .with_help("HTTP/1.1 or HTTP/1.0 (any HTTP/d.d is sent as written)"));
    }
    Ok(())
}

/// A recorded request as a step; one that names a host gets `{host}` instead.
pub fn replay(message: &[u8]) -> Result<HttpRequest, String> {
    let head = head::parse(message, true)
        .map_err(|e| e.to_string())?
        .ok_or("the recorded request's head is not whole")?;
    // A client that asked `Expect: 100-continue` and got a final answer instead of a 100
    // never sent its body: its head alone is what it sent.
    let head_alone = message.len() == head.len
        && head
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
    if let Ok(head::BodyLength::Length(n)) = head.body_length(None)
        && (message.len() - head.len) as u64 != n
        && !head_alone
    {
        return Err(format!(
            "the recorded request's body was not kept whole ({} of {n} bytes)",
            message.len() - head.len
        ));
    }
    Ok(HttpRequest::Recorded {
        bytes: message.to_vec(),
        rewrite_host: head.header("host").is_some(),
    })
}

impl HttpRequest {
    pub fn encode(&self, values: &BTreeMap<String, String>) -> Result<Vec<u8>, SendError> {
        match self {
            HttpRequest::Scripted { head, body } => {
                let text = head.expand(values).map_err(SendError::Unset)?;
                let body = body
                    .as_ref()
                    .map(|b| b.expand(values))
                    .transpose()
                    .map_err(SendError::Unset)?;
                let bytes = scripted(&text, body.as_deref());
                one_request(&bytes).map_err(SendError::Malformed)?;
                Ok(bytes)
            }
            HttpRequest::Recorded {
                bytes,
                rewrite_host,
            } => match values.get("host").filter(|_| *rewrite_host) {
                Some(host) => Ok(with_host(bytes, host)),
                None => Ok(bytes.clone()),
            },
        }
    }
}

/// A scripted request's bytes: its lines ended with CRLF, the blank line, and the body.
fn scripted(text: &str, body: Option<&str>) -> Vec<u8> {
    let lines: Vec<&str> = text
        .trim_end_matches(['\r', '\n'])
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut out = lines.join("\r\n");
    if let Some(body) = body {
        let framed = lines.iter().skip(1).any(|l| {
            let name = l.split(':').next().unwrap_or("").trim();
            name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
        });
        if !framed {
            out.push_str(&format!("\r\nContent-Length: {}", body.len()));
        }
    }
    out.push_str("\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default().as_bytes());
    bytes
}

/// Checks that a scripted request goes out as one HTTP/1.x request (its body may follow in a
/// later step, after a 100 Continue): a framing field written wrong (a Content-Length that is
/// not a number or not the body's, a Transfer-Encoding not ending in chunked) or a value no
/// server parses is refused, not sent for a server to reject as a lockout. A version other
/// than 1.0 and 1.1 is sent as written, for a server to refuse.
fn one_request(bytes: &[u8]) -> Result<(), String> {
    let line = &bytes[..memchr::memchr(b'\r', bytes).unwrap_or(bytes.len())];
    if !(line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0")) {
        return Ok(());
    }
    let mut buf = BytesMut::from(bytes);
    match HttpFramer::new(true).next(&mut buf) {
        Err(e) => Err(e.to_string()),
        Ok(Some(_)) if !buf.is_empty() => Err(format!(
            "the body runs {} bytes past the end its Content-Length or chunking gives",
            buf.len()
        )),
        Ok(_) => Ok(()),
    }
}

/// `request` with its Host field's value replaced by `host`; the rest byte for byte.
fn with_host(request: &[u8], host: &str) -> Vec<u8> {
    let head_end = memchr::memmem::find(request, b"\r\n\r\n").map_or(request.len(), |i| i + 2);
    let mut out = Vec::with_capacity(request.len() + host.len());
    let mut rest = &request[..head_end];
    let mut replaced = false;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        match line.iter().position(|&b| b == b':') {
            Some(colon) if !replaced && line[..colon].eq_ignore_ascii_case(b"host") => {
                out.extend_from_slice(&line[..colon]);
                out.extend_from_slice(b": ");
                out.extend_from_slice(host.as_bytes());
                out.extend_from_slice(b"\r\n");
                replaced = true;
            }
            _ => out.extend_from_slice(line),
        }
        rest = &rest[end..];
    }
    out.extend_from_slice(&request[head_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::typed_text_step;

    fn compiled(text: &str) -> Result<HttpRequest, StepError> {
        typed_text_step(&super::super::Http, text)
    }

    #[test]
    fn a_request_is_checked_line_by_line() {
        assert!(compiled("GET /api/v2/status HTTP/1.1\nHost: {host}\n").is_ok());
        let err = compiled("GET /x HTTP/1.1\nHost {host}\n").unwrap_err();
        assert_eq!(
            (err.offset, err.message.as_str()),
            (16, "`Host {host}` is not a header field")
        );
        let err = compiled("GET /x HTTP/11\n").unwrap_err();
        assert_eq!((err.offset, err.len), (7, 7));
        let err = compiled("GET  /x HTTP/1.1").unwrap_err();
        assert_eq!(err.message, "not a request line");
        let err = compiled("GET /x HTTP/1.1\n\nbody").unwrap_err();
        assert_eq!(err.message, "a blank line ends the head");
        let err = compiled("GET /x HTTP/1.1\nBad Name: x").unwrap_err();
        assert_eq!((err.offset, err.len), (16, 8));
    }

    #[test]
    fn a_scripted_request_goes_out_with_crlf_and_its_body_length() {
        assert_eq!(
            scripted("POST /x HTTP/1.1\nHost: a\n", Some("hi")),
            b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
        );
        assert_eq!(scripted("GET / HTTP/1.0", None), b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(
            scripted(
                "POST /x HTTP/1.1\nTransfer-Encoding: chunked",
                Some("0\r\n\r\n")
            ),
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        );
    }

    #[test]
    fn a_scripted_request_that_would_not_frame_as_one_is_refused_not_sent() {
        let send = |text: &str, body: Option<&str>| {
            let send = Template::parse(text).unwrap();
            let body = body.map(|b| Template::parse(b).unwrap());
            let source = StepSource {
                send: &send,
                body: body.as_ref(),
                text,
            };
            compile(&source).unwrap().encode(&BTreeMap::new())
        };
        let refused = |text, body| match send(text, body) {
            Err(SendError::Malformed(why)) => why,
            other => panic!("{text:?} was not refused: {other:?}"),
        };
        assert_eq!(
            refused("POST / HTTP/1.1\nContent-Length: 0", Some("hi")),
            "the body runs 2 bytes past the end its Content-Length or chunking gives"
        );
        assert_eq!(
            refused("POST / HTTP/1.1\nContent-Length: two", None),
            "Content-Length `two` is not a length"
        );
        assert!(refused("POST / HTTP/1.1\nTransfer-Encoding: gzip", Some("x")).contains("chunked"));
        assert!(refused("GET / HTTP/1.1\nX: a\u{1}b", None).starts_with("not an HTTP request"));
        // Its body in a later step, after a 100 Continue; a version for a server to refuse.
        assert!(
            send(
                "POST / HTTP/1.1\nExpect: 100-continue\nContent-Length: 5",
                None
            )
            .is_ok()
        );
        assert!(send("GET / HTTP/2.0\nHost: a", None).is_ok());
        assert!(
            send(
                "POST / HTTP/1.1\nTransfer-Encoding: chunked",
                Some("2\r\nhi\r\n0\r\n\r\n")
            )
            .is_ok()
        );
    }

    #[test]
    fn a_replayed_request_names_the_target_host() {
        let recorded = b"GET / HTTP/1.1\r\nhost: localhost:8080\r\nUser-Agent: curl/8\r\n\r\n";
        assert_eq!(
            with_host(recorded, "127.0.0.1"),
            b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nUser-Agent: curl/8\r\n\r\n"
        );
        assert!(replay(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc").is_err());
    }
}
