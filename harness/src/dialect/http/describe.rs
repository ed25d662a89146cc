//! HTTP messages as people read them: the start line, each header field, and the start of the
//! body as text (de-chunked) or as a byte count; and the values that change on every run
//! (dates, entity tags, server versions, ephemeral ports) replaced for snapshots.

use super::head::{self, BodyLength};
use crate::dialect::Redactions;
use crate::direction::Direction;

/// Body lines shown, and characters of each.
const BODY_LINES: usize = 4;
const LINE_CHARS: usize = 120;

pub fn describe(from: Direction, bytes: &[u8]) -> String {
    let Ok(Some(head)) = head::parse(bytes, from == Direction::Client) else {
        return crate::dialect::describe_unframed(bytes);
    };
    let mut lines = vec![head.start_line()];
    lines.extend(head.headers.iter().map(|(n, v)| format!("{n}: {v}")));
    let body = &bytes[head.len..];
    if !body.is_empty() {
        let chunked = head.body_length(None) == Ok(BodyLength::Chunked);
        lines.push(String::new());
        lines.extend(body_lines(body, chunked));
    }
    lines.join("\n")
}

/// The body's first lines when it is text, else its size.
fn body_lines(body: &[u8], chunked: bool) -> Vec<String> {
    let decoded = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    let text = match std::str::from_utf8(&decoded) {
        Ok(text) if !text.contains(|c: char| c.is_control() && !"\r\n\t".contains(c)) => text,
        _ => return vec![format!("({} bytes of binary body)", body.len())],
    };
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut shown: Vec<String> = all
        .iter()
        .take(BODY_LINES)
        .map(|l| {
            let l = l.trim_end();
            match l.char_indices().nth(LINE_CHARS) {
                Some((at, _)) => format!("{}…", &l[..at]),
                None => l.to_string(),
            }
        })
        .collect();
    if all.len() > BODY_LINES {
        shown.push(format!("… ({} more lines)", all.len() - BODY_LINES));
    }
    shown
}

/// A chunked body's data, as far as it is whole (it may be cut short where it was kept).
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line) = memchr::memmem::find(body, b"\r\n") {
        let size = std::str::from_utf8(&body[..line])
            .ok()
            .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok());
        let Some(size) = size.filter(|&s| s > 0) else {
            break;
        };
        let data = &body[line + 2..];
        out.extend_from_slice(&data[..size.min(data.len())]);
        body = data.get(size + 2..).unwrap_or_default();
    }
    out
}

/// Header fields whose values change on every response, server versions, and the ports of
/// servers the harness started, as placeholders.
pub static REDACTIONS: Redactions = Redactions::new(&[
    (r"(?mi)^(date): .*$", "$1: <date>"),
    (r"(?mi)^(expires): .*$", "$1: <expires>"),
    (r"(?mi)^(last-modified): .*$", "$1: <last-modified>"),
    (r"(?mi)^(etag): .*$", "$1: <etag>"),
    (r"(?mi)^(age): .*$", "$1: <age>"),
    (r"(?mi)^(x-request-id): .*$", "$1: <x-request-id>"),
    (r"(?mi)^(set-cookie): .*$", "$1: <set-cookie>"),
    (
        r"\b(nginx|Apache|lighttpd|Caddy|openresty|Microsoft-IIS)/[0-9][0-9A-Za-z.\-]*( \([^)\n]*\))?",
        "$1/<version>",
    ),
    (r"\b(127\.0\.0\.1|localhost|\[::1\]):\d+", "$1:<port>"),
    (r"\bPort \d+", "Port <port>"),
]);

/// Header fields that bear on a verdict or on what the client does next; the rest (dates,
/// server names, lengths, connection handling) vary between servers that mean the same.
const MEANINGFUL_FIELDS: &[&str] = &[
    "deprecation",
    "sunset",
    "warning",
    "link",
    "location",
    "upgrade",
    "www-authenticate",
    "proxy-authenticate",
    "retry-after",
];

/// A described message reduced to what it means: the start line without a response's reason
/// phrase, then the meaningful fields, sorted, names in lower case.
pub fn normalize(described: &str) -> String {
    let mut lines = described.lines();
    let start = lines.next().unwrap_or_default();
    let start = match start.strip_prefix("HTTP/") {
        Some(_) => start.splitn(3, ' ').take(2).collect::<Vec<_>>().join(" "),
        None => start.to_string(),
    };
    let mut fields: Vec<String> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            let name = name.trim().to_ascii_lowercase();
            MEANINGFUL_FIELDS
                .contains(&name.as_str())
                .then(|| format!("{name}: {}", value.trim()))
        })
        .collect();
    fields.sort();
    std::iter::once(start)
        .chain(fields)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_reads_as_its_lines_and_its_body_text() {
        let response = b"HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nUpgrad\r\n9\r\ne to 3.0\n\r\n0\r\n\r\n";
        assert_eq!(
            describe(Direction::Server, response),
            "HTTP/1.1 426 Upgrade Required\nContent-Type: text/plain\nTransfer-Encoding: chunked\n\nUpgrade to 3.0"
        );
        let binary = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\x00\x01\x02";
        assert!(describe(Direction::Server, binary).ends_with("(3 bytes of binary body)"));
        assert_eq!(
            describe(Direction::Server, b"garbage\x00"),
            "8 bytes: 6761726261676500"
        );
    }

    #[test]
    fn replies_that_mean_the_same_normalize_alike() {
        let nginx = "HTTP/1.1 426 \nServer: nginx/1.22.1\nDate: x\nSunset: y\n\nplease upgrade";
        let apache = "HTTP/1.1 426 Upgrade Required\nDate: z\nSunset: y\nServer: Apache\n\nplease upgrade ExampleApp";
        assert_eq!(normalize(nginx), "HTTP/1.1 426\nsunset: y");
        assert_eq!(normalize(nginx), normalize(apache));
        assert_ne!(
            normalize("HTTP/1.1 200 OK"),
            normalize("HTTP/1.1 505 HTTP Version Not Supported")
        );
    }

    #[test]
    fn redaction_leaves_what_does_not_change_from_run_to_run() {
        let text = "HTTP/1.1 200 OK\nServer: Apache/2.4.62 (Debian)\nDate: Fri, 27 Nov 2026 10:00:00 GMT\nETag: \"abc\"\n\n<address>Apache/2.4.62 (Debian) Server at 127.0.0.1 Port 41234</address>";
        assert_eq!(
            REDACTIONS.apply(text),
            "HTTP/1.1 200 OK\nServer: Apache/<version>\nDate: <date>\nETag: <etag>\n\n<address>Apache/<version> Server at 127.0.0.1 Port <port></address>"
        );
        assert_eq!(
            REDACTIONS.apply("Host: localhost:8080"),
            "Host: localhost:<port>"
        );
    }
}
