//! Which HTTP client a recorded session is, as the server sees it: the first request's
//! method, HTTP and API version, its header names in order and the values that say what the
//! client is and can do (User-Agent, an app's version header, Accept-*, Connection, Expect,
//! Upgrade, TE). The path past its API version, Host, cookies, credentials and lengths change
//! from session to session and are set aside.

use super::head::{self, Head, Start};
use super::identity::{self, Rules};

/// Headers whose values describe the client rather than the request.
const CLIENT_HEADERS: &[&str] = &[
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "connection",
    "expect",
    "upgrade",
    "te",
    "transfer-encoding",
];

fn first_request(client_messages: &[&[u8]]) -> Option<Head> {
    client_messages
        .iter()
        .find_map(|m| head::parse(m, true).ok().flatten())
}

pub fn signature(client_messages: &[&[u8]]) -> String {
    let Some(head) = first_request(client_messages) else {
        return String::new();
    };
    let Start::Request { method, .. } = &head.start else {
        return String::new();
    };
    let versions = identity::read(client_messages, &Rules::default())
        .versions
        .unwrap_or_default();
    let mut text = format!("{method} {versions}\n");
    for (name, value) in &head.headers {
        let lower = name.to_ascii_lowercase();
        text.push_str(&lower);
        if CLIENT_HEADERS.contains(&lower.as_str()) || identity::is_app_version(&lower) {
            text.push_str(": ");
            text.push_str(value);
        }
        text.push('\n');
    }
    text
}

/// `HTTP/1.0`, `API v1`, then `Expect: 100-continue`, `Upgrade: h2c` and a method other
/// than GET.
pub fn distinctions(client_messages: &[&[u8]]) -> Vec<String> {
    let Some(head) = first_request(client_messages) else {
        return Vec::new();
    };
    let mut traits: Vec<String> = identity::read(client_messages, &Rules::default())
        .versions
        .unwrap_or_default()
        .split(", ")
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    for header in ["Expect", "Upgrade"] {
        if let Some(value) = head.header(header) {
            traits.push(format!("{header}: {value}"));
        }
    }
    if let Some(method) = head.method().filter(|m| *m != "GET") {
        traits.push(method.to_string());
    }
    traits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_path_and_credentials_are_set_aside_but_versions_and_agent_are_not() {
        let a = b"GET /api/v2/users/17 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl/8.5.0\r\nAuthorization: Bearer x\r\n\r\n";
        let b = b"GET /api/v2/users/99?q=1 HTTP/1.1\r\nHost: b.example:8080\r\nUser-Agent: curl/8.5.0\r\nAuthorization: Bearer y\r\n\r\n";
        assert_eq!(signature(&[a]), signature(&[b]));
        let old = b"GET /api/v2/users/17 HTTP/1.0\r\nHost: a.example\r\nUser-Agent: curl/8.5.0\r\nAuthorization: Bearer x\r\n\r\n";
        assert_ne!(signature(&[a]), signature(&[old]));
        let v1 = b"GET /api/v1/users/17 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl/8.5.0\r\nAuthorization: Bearer x\r\n\r\n";
        assert_ne!(signature(&[a]), signature(&[v1]));
        let newer = b"GET /api/v2/users/17 HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl/8.6.0\r\nAuthorization: Bearer x\r\n\r\n";
        assert_ne!(signature(&[a]), signature(&[newer]));
        assert_eq!(distinctions(&[old]), ["HTTP/1.0", "API v2"]);
        let upload = b"POST /up HTTP/1.1\r\nExpect: 100-continue\r\n\r\n";
        assert_eq!(
            distinctions(&[upload]),
            ["HTTP/1.1", "Expect: 100-continue", "POST"]
        );
    }
}
