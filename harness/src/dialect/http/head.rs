//! HTTP/1.x message heads (RFC 9112): the start line and header fields, parsed with httparse,
//! and what they say about the body that follows.

use crate::dialect::FrameError;

/// The most header fields a head may carry.
pub const MAX_HEADERS: usize = 128;

/// A parsed request or response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub start: Start,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The head's length in bytes, through the blank line.
    pub len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Request {
        method: String,
        target: String,
        /// The minor version: `HTTP/1.0` is 0, `HTTP/1.1` is 1.
        minor: u8,
    },
    Response {
        minor: u8,
        status: u16,
        reason: String,
    },
}

/// How the body after a head is delimited (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    None,
    Length(u64),
    Chunked,
    /// Read until the server closes the connection (a response with neither length nor
    /// chunking, as HTTP/1.0 servers send).
    UntilClose,
    /// The connection stops being HTTP (101 Switching Protocols, a 2xx answer to CONNECT).
    Tunnel,
}

impl Head {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn status(&self) -> Option<u16> {
        match self.start {
            Start::Response { status, .. } => Some(status),
            Start::Request { .. } => None,
        }
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            Start::Request { method, .. } => Some(method),
            Start::Response { .. } => None,
        }
    }

    /// The start line as sent, e.g. `GET /api/v2/status HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub fn start_line(&self) -> String {
        match &self.start {
            Start::Request {
                method,
                target,
                minor,
            } => format!("{method} {target} HTTP/1.{minor}"),
            Start::Response {
                minor,
                status,
                reason,
            } => format!("HTTP/1.{minor} {status} {reason}")
                .trim_end()
                .to_string(),
        }
    }

    /// How this message's body is delimited; `request_method` is the method of the request a
    /// response answers (a response to HEAD has no body).
    pub fn body_length(&self, request_method: Option<&str>) -> Result<BodyLength, FrameError> {
        if let Start::Response { status, .. } = self.start {
            if status == 101 || (request_method == Some("CONNECT") && (200..300).contains(&status))
            {
                return Ok(BodyLength::Tunnel);
            }
            if status < 200 || status == 204 || status == 304 || request_method == Some("HEAD") {
                return Ok(BodyLength::None);
            }
        }
        if let Some(codings) = self.joined("transfer-encoding") {
            let last = codings.rsplit(',').next().unwrap_or("").trim();
            return match (last.eq_ignore_ascii_case("chunked"), &self.start) {
                (true, _) => Ok(BodyLength::Chunked),
                (false, Start::Response { .. }) => Ok(BodyLength::UntilClose),
                (false, Start::Request { .. }) => Err(FrameError::Malformed(format!(
                    "a request's Transfer-Encoding `{codings}` does not end in chunked"
                ))),
            };
        }
        let mut length = None;
        for value in self.headers_named("content-length") {
            for item in value.split(',') {
                let item = item.trim();
                let parsed = (!item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| item.parse::<u64>().ok())
                    .flatten()
                    .ok_or_else(|| {
                        FrameError::Malformed(format!("Content-Length `{value}` is not a length"))
                    })?;
                if length.is_some_and(|l| l != parsed) {
                    return Err(FrameError::Malformed(
                        "the message has two different Content-Lengths".into(),
                    ));
                }
                length = Some(parsed);
            }
        }
        Ok(match (length, &self.start) {
            (Some(0), _) => BodyLength::None,
            (Some(n), _) => BodyLength::Length(n),
            (None, Start::Request { .. }) => BodyLength::None,
            (None, Start::Response { .. }) => BodyLength::UntilClose,
        })
    }

    /// The values of header `name` joined with `, `, as one field (RFC 9110 section 5.3).
    fn joined(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self.headers_named(name).collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// Parses a head at the front of `bytes`: `Ok(None)` when it is not whole yet. A response's
/// folded field lines (obs-fold) are read as RFC 9112 section 5.2 allows, each fold one SP; a
/// malformed field line is named by its number and quoted.
pub fn parse(bytes: &[u8], from_client: bool) -> Result<Option<Head>, FrameError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let error = |e: httparse::Error| {
        let what = if from_client { "request" } else { "response" };
        match e {
            httparse::Error::TooManyHeaders => FrameError::TooLong(format!(
                "an HTTP {what} head with over {MAX_HEADERS} header fields"
            )),
            e => FrameError::Foreign(match super::lines::first_bad(bytes, from_client) {
                Some((number, line)) if number > 1 => {
                    format!("not an HTTP {what}: {e} at line {number}: {}", shown(line))
                }
                _ => format!("not an HTTP {what}: {e}: {}", shown(bytes)),
            }),
        }
    };
    let (start, len, headers) = if from_client {
        let mut request = httparse::Request::new(&mut fields);
        let httparse::Status::Complete(len) = request.parse(bytes).map_err(error)? else {
            return Ok(None);
        };
        let start = Start::Request {
            method: request.method.unwrap_or_default().to_string(),
            target: request.path.unwrap_or_default().to_string(),
            minor: request.version.unwrap_or(1),
        };
        (start, len, request.headers.to_vec())
    } else {
        let mut response = httparse::Response::new(&mut fields);
        let parsed = httparse::ParserConfig::default()
            .allow_obsolete_multiline_headers_in_responses(true)
            .parse_response(&mut response, bytes);
        let httparse::Status::Complete(len) = parsed.map_err(error)? else {
            return Ok(None);
        };
        let start = Start::Response {
            minor: response.version.unwrap_or(1),
            status: response.code.unwrap_or_default(),
            reason: response.reason.unwrap_or_default().to_string(),
        };
        (start, len, response.headers.to_vec())
    };
    let headers = headers
        .iter()
        .map(|h| (h.name.to_string(), super::lines::unfold(h.value)))
        .collect();
    Ok(Some(Head {
        start,
        headers,
        len,
    }))
}

/// The first bytes of what failed to parse, for the error.
fn shown(bytes: &[u8]) -> String {
    let first = &bytes[..bytes.len().min(80)];
    match std::str::from_utf8(first) {
        Ok(text) if !text.contains(|c: char| c.is_control() && c != '\r' && c != '\n') => {
            format!("{:?}", text)
        }
        _ => hex::encode(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(text: &str) -> Head {
        parse(text.as_bytes(), false).unwrap().unwrap()
    }

    #[test]
    fn a_response_body_is_delimited_as_rfc_9112_says() {
        let ok = response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(ok.body_length(None), Ok(BodyLength::Length(5)));
        assert_eq!(ok.body_length(Some("HEAD")), Ok(BodyLength::None));
        let chunked = response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(chunked.body_length(None), Ok(BodyLength::Chunked));
        let old = response("HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!(old.body_length(None), Ok(BodyLength::UntilClose));
        let switching = response("HTTP/1.1 101 Switching Protocols\r\n\r\n");
        assert_eq!(switching.body_length(None), Ok(BodyLength::Tunnel));
        let proceed = response("HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(proceed.body_length(None), Ok(BodyLength::None));
        let twice = response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assert!(twice.body_length(None).is_err());
        let huge = response("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n");
        assert!(huge.body_length(None).is_err());
        let signed = response("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n");
        assert!(signed.body_length(None).is_err());
    }

    #[test]
    fn heads_parse_whole_or_not_at_all() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n", true), Ok(None));
        let head = parse(b"GET /x HTTP/1.0\r\nHost: a\r\n\r\nrest", true)
            .unwrap()
            .unwrap();
        assert_eq!(head.start_line(), "GET /x HTTP/1.0");
        assert_eq!(head.len, 28);
        assert_eq!(head.header("HOST"), Some("a"));
        assert!(parse(b"\x16\x03\x01\x02\x00", true).is_err());
    }

    #[test]
    fn a_folded_response_field_is_one_value_and_a_bad_line_is_named() {
        let head = response(
            "HTTP/1.1 200 OK\r\nSunset: Thu, 01 Jan 2026\r\n  00:00:00 GMT\r\nA: b\r\n\r\n",
        );
        assert_eq!(head.header("sunset"), Some("Thu, 01 Jan 2026 00:00:00 GMT"));
        assert_eq!(head.header("a"), Some("b"));
        let bad = b"HTTP/1.1 200 OK\r\nA: b\r\nC: d\r\nNo colon here\r\n\r\n";
        assert_eq!(
            parse(bad, false).unwrap_err().to_string(),
            "not an HTTP response: invalid header name at line 4: \"No colon here\""
        );
    }
}
