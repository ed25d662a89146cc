//! Which HTTP client a recorded session is, as the server sees it: the header names of its
//! first request, in order, with the values that say what the client is and can do
//! (User-Agent, an app's version header, an API version header, Accept, Accept-Encoding,
//! Connection, Expect, Upgrade, TE), and the versions all its requests name (HTTP version, API
//! version). The method and path, Host, the language asked for, and headers that change from
//! request to request (cookies, credentials, lengths, conditions, tracing) are set aside; so is
//! how many requests a keep-alive session made.

use super::head::{self, Head, Start};
use super::identity;
use std::collections::BTreeSet;

/// Headers whose values describe the client rather than the request (not Accept-Language:
/// one browser is used in many languages).
const CLIENT_HEADERS: &[&str] = &[
    "user-agent",
    "accept",
    "accept-encoding",
    "connection",
    "expect",
    "upgrade",
    "te",
    "transfer-encoding",
];

/// Headers a client sends or leaves out request by request, or whose values are the
/// request's own: not what the client is.
const PER_REQUEST_HEADERS: &[&str] = &[
    "host",
    "cookie",
    "authorization",
    "proxy-authorization",
    "content-length",
    "content-type",
    "content-md5",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if-range",
    "range",
    "referer",
    "origin",
    "date",
    "x-request-id",
    "x-correlation-id",
    "traceparent",
    "tracestate",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-real-ip",
    "forwarded",
    "via",
];

fn requests(client_messages: &[&[u8]]) -> Vec<Head> {
    client_messages
        .iter()
        .filter_map(|m| head::parse(m, true).ok().flatten())
        .filter(|h| matches!(h.start, Start::Request { .. }))
        .collect()
}

/// A header naming the API version the request is for (`X-API-Version`, `Api-Version`).
fn is_api_version_header(name: &str) -> bool {
    name.ends_with("api-version")
}

/// `HTTP/1.1 API v2` (the API version from the path or an `api-version` query or header): what
/// a server decides a request by, not which of its methods a session happened to use.
fn shape(head: &Head) -> String {
    let Start::Request { target, minor, .. } = &head.start else {
        return String::new();
    };
    let mut text = format!("HTTP/1.{minor}");
    if let Some(api) = api_version(target) {
        text.push_str(&format!(" API {api}"));
    }
    for (name, value) in &head.headers {
        if is_api_version_header(&name.to_ascii_lowercase()) {
            text.push_str(&format!(" {name}: {value}"));
        }
    }
    text
}

/// The API version a request target names: in its path (as the identity reads it) or in an
/// `api-version=` query parameter.
fn api_version(target: &str) -> Option<String> {
    if let Some(api) = identity::api_version(target) {
        return Some(api.to_string());
    }
    let query = target.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("api-version="))
        .map(str::to_string)
}

pub fn signature(client_messages: &[&[u8]]) -> String {
    let requests = requests(client_messages);
    let Some(first) = requests.first() else {
        return String::new();
    };
    let mut text = String::new();
    for (name, value) in &first.headers {
        let lower = name.to_ascii_lowercase();
        if PER_REQUEST_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        text.push_str(&lower);
        if CLIENT_HEADERS.contains(&lower.as_str())
            || identity::is_app_version(&lower)
            || is_api_version_header(&lower)
        {
            text.push_str(": ");
            text.push_str(value);
        }
        text.push('\n');
    }
    let shapes: BTreeSet<String> = requests.iter().map(shape).collect();
    for shape in shapes {
        text.push_str(&shape);
        text.push('\n');
    }
    text
}

/// `HTTP/1.0`, `API v1` (every API version its requests name), then `Expect: 100-continue`,
/// `Upgrade: h2c` and a method other than GET, the User-Agent's platform and the whole
/// User-Agent; last what else the signature keys on in the first request: the values of the
/// other client headers (`Accept-Encoding: identity`) and the names of the rest, so two
/// clients the signature tells apart are not merely numbered.
pub fn distinctions(client_messages: &[&[u8]]) -> Vec<String> {
    let requests = requests(client_messages);
    let Some(first) = requests.first() else {
        return Vec::new();
    };
    let mut traits: Vec<String> = Vec::new();
    let mut add = |t: String| {
        if !traits.contains(&t) {
            traits.push(t);
        }
    };
    for request in &requests {
        if let Start::Request { minor, target, .. } = &request.start {
            add(format!("HTTP/1.{minor}"));
            if let Some(api) = api_version(target) {
                add(format!("API {api}"));
            }
        }
        for (name, value) in &request.headers {
            if is_api_version_header(&name.to_ascii_lowercase()) {
                add(format!("{name} {value}"));
            }
        }
    }
    for header in ["Expect", "Upgrade"] {
        if let Some(value) = first.header(header) {
            add(format!("{header}: {value}"));
        }
    }
    if let Some(method) = first.method().filter(|m| *m != "GET") {
        add(method.to_string());
    }
    // The platform a User-Agent names (`Windows NT 10.0; Win64; x64`), and last the whole
    // User-Agent: what tells two builds of one browser apart.
    if let Some(agent) = first.header("user-agent") {
        if let Some(platform) = agent
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(platform, _)| platform.trim())
            .filter(|p| !p.is_empty())
        {
            add(platform.to_string());
        }
        add(format!("User-Agent: {agent}"));
    }
    for (name, value) in &first.headers {
        let lower = name.to_ascii_lowercase();
        if PER_REQUEST_HEADERS.contains(&lower.as_str())
            || ["user-agent", "expect", "upgrade"].contains(&lower.as_str())
            || is_api_version_header(&lower)
        {
            continue;
        }
        if CLIENT_HEADERS.contains(&lower.as_str()) || identity::is_app_version(&lower) {
            add(format!("{name}: {value}"));
        } else {
            add(name.clone());
        }
    }
    traits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_path_and_credentials_are_set_aside_but_versions_and_agent_are_not() {
        let a = b"GET /api/v2/users/17 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl/8.5.0\r\nAuthorization: Bearer x\r\n\r\n";
        let b = b"GET /api/v2/users/99?q=1 HTTP/1.1\r\nHost: b.example:8080\r\nUser-Agent: curl/8.5.0\r\nCookie: s=1\r\n\r\n";
        assert_eq!(signature(&[a]), signature(&[b]));
        let old = b"GET /api/v2/users/17 HTTP/1.0\r\nHost: a.example\r\nUser-Agent: curl/8.5.0\r\nAuthorization: Bearer x\r\n\r\n";
        assert_ne!(signature(&[a]), signature(&[old]));
        let v1 = b"GET /api/v1/users/17 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl/8.5.0\r\nAuthorization: Bearer x\r\n\r\n";
        assert_ne!(signature(&[a]), signature(&[v1]));
        let newer = b"GET /api/v2/users/17 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl/8.6.0\r\nAuthorization: Bearer x\r\n\r\n";
        assert_ne!(signature(&[a]), signature(&[newer]));
        assert_eq!(
            distinctions(&[old]),
            ["HTTP/1.0", "API v2", "User-Agent: curl/8.5.0"]
        );
        // Two clients without a User-Agent, told apart by what else they send.
        let python = b"GET /v2/a HTTP/1.1\r\nHost: h\r\nAccept-Encoding: identity\r\n\r\n";
        let node =
            b"GET /v2/a HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nX-Trace-Me: 1\r\n\r\n";
        assert_ne!(signature(&[python]), signature(&[node]));
        assert_eq!(
            distinctions(&[python]),
            ["HTTP/1.1", "API v2", "Accept-Encoding: identity"]
        );
        assert_eq!(
            distinctions(&[node]),
            ["HTTP/1.1", "API v2", "Connection: keep-alive", "X-Trace-Me"]
        );
        let upload = b"POST /up HTTP/1.1\r\nExpect: 100-continue\r\n\r\n";
        assert_eq!(
            distinctions(&[upload]),
            ["HTTP/1.1", "Expect: 100-continue", "POST"]
        );
    }

    #[test]
    fn every_request_of_a_session_counts_but_not_how_many_there_were() {
        let v2 = b"GET /v2/a HTTP/1.1\r\nUser-Agent: MyApp/3.2\r\n\r\n".as_slice();
        let v1 = b"GET /v1/b HTTP/1.1\r\nUser-Agent: MyApp/3.2\r\n\r\n".as_slice();
        assert_ne!(signature(&[v2]), signature(&[v2, v1]));
        assert_eq!(signature(&[v2, v1]), signature(&[v2, v1, v1, v2]));
        assert_eq!(
            distinctions(&[v2, v1]),
            ["HTTP/1.1", "API v2", "API v1", "User-Agent: MyApp/3.2"]
        );
        let header = |v: &str| {
            format!("GET /orders HTTP/1.1\r\nUser-Agent: MyApp/3.2\r\nX-API-Version: {v}\r\n\r\n")
        };
        let (one, two) = (header("1"), header("2"));
        assert_ne!(signature(&[one.as_bytes()]), signature(&[two.as_bytes()]));
        let query = b"GET /orders?api-version=2023-10 HTTP/1.1\r\n\r\n".as_slice();
        assert!(signature(&[query]).contains("API 2023-10"));
    }

    #[test]
    fn the_methods_a_session_used_and_the_language_it_asked_for_are_set_aside() {
        let get = b"GET /v2/a HTTP/1.1\r\nUser-Agent: MyApp/1.0\r\n\r\n".as_slice();
        let post = b"POST /v2/a HTTP/1.1\r\nUser-Agent: MyApp/1.0\r\n\r\n".as_slice();
        let delete = b"DELETE /v2/b HTTP/1.1\r\nUser-Agent: MyApp/1.0\r\n\r\n".as_slice();
        assert_eq!(signature(&[get]), signature(&[get, post]));
        assert_eq!(signature(&[get, post]), signature(&[get, delete]));
        let language = |l: &str| {
            format!("GET / HTTP/1.1\r\nUser-Agent: Chrome/120\r\nAccept-Language: {l}\r\n\r\n")
        };
        assert_eq!(
            signature(&[language("en-US").as_bytes()]),
            signature(&[language("de-DE").as_bytes()])
        );
    }
}
