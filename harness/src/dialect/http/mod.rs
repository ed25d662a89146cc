//! HTTP/1.x: replaying requests (recorded, or written out in a case file) and classifying the
//! server's responses. Admitted is a 2xx, 3xx or 101, or an authentication challenge (reaching
//! authentication is admission); warned is admitted with Deprecation, Sunset or
//! `Warning: 299` (or what the suite configures); locked out is 426, 505, 410, 403 and other
//! 4xx, or a close before any response; another 5xx is a server fault, an error. Each part is
//! a `[dialect_settings]` key.

mod conversation;
mod dates;
mod describe;
pub mod framing;
pub mod head;
mod policy;
mod request;

use super::{
    Conversation, Dialect, Doc, FrameError, Framer, Identity, RecordedIdentity, Request,
    SettingError, Settings, StepError, StepSource,
};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};
use conversation::HttpConversation;
use framing::HttpFramer;
use policy::Policy;
use std::collections::BTreeMap;

pub use describe::describe;

/// The HTTP/1.x dialect.
pub struct Http;

const STEP_KINDS: &[Doc] = &[
    Doc {
        name: "send = \"GET /path HTTP/1.1\\nHost: {host}\\n...\"",
        about: "a request as it goes on the wire, one line per line, without CRs; `body = \"...\"` adds a body and its Content-Length",
    },
    Doc {
        name: "send_hex",
        about: "raw bytes, sent as they are (a malformed request, a pipelined pair)",
    },
];

const SETTING_KEYS: &[Doc] = &[
    Doc {
        name: policy::ADMITTED,
        about: "statuses that admit: `200` or a class `2xx` (default 2xx, 3xx, 101, 401, 407)",
    },
    Doc {
        name: policy::LOCKED_OUT,
        about: "statuses that lock out (default 4xx, 505); an exact status outranks a class",
    },
    Doc {
        name: policy::ERROR,
        about: "statuses that are server faults, not policy (default 5xx)",
    },
    Doc {
        name: policy::WARNING_HEADERS,
        about: "response headers that make an admission a warning: `Name` or `Name: pattern` (default Deprecation, Sunset, `Warning: ^299`)",
    },
    Doc {
        name: policy::WARNING_BODY,
        about: "patterns in a response body that make an admission a warning (default none)",
    },
];

impl Dialect for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn summary(&self) -> &'static str {
        "HTTP/1.x requests against servers retiring API versions, app versions and HTTP/1.0; Sunset and Deprecation warn"
    }

    fn default_port(&self) -> u16 {
        80
    }

    fn step_kinds(&self) -> &'static [Doc] {
        STEP_KINDS
    }

    fn setting_keys(&self) -> &'static [Doc] {
        SETTING_KEYS
    }

    fn settings(&self, table: &BTreeMap<String, toml::Value>) -> Result<Settings, SettingError> {
        Ok(Settings::new(Policy::from_settings(table)?))
    }

    fn step(&self, source: &StepSource<'_>) -> Result<Box<dyn Request>, StepError> {
        request::compile(source)
    }

    /// One whole message when the buffer holds it; a body too long to hold is framed by
    /// [`own_framer`](Dialect::own_framer), which live replies and recordings use.
    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let mut framer = HttpFramer::new(from == Direction::Client);
        let mut copy = buf.clone();
        match framer.next(&mut copy)? {
            Some(message) => {
                let _ = buf.split_to(buf.len() - copy.len());
                Ok(Some(message))
            }
            None => Ok(None),
        }
    }

    fn own_framer(&self, from: Direction) -> Option<Box<dyn Framer + '_>> {
        Some(Box::new(HttpFramer::new(from == Direction::Client)))
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &Settings,
    ) -> Box<dyn Conversation> {
        Box::new(HttpConversation::new(
            settings.get::<Policy>().cloned().unwrap_or_default(),
        ))
    }

    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        let Some(head) = client_messages
            .iter()
            .find_map(|m| head::parse(m, true).ok().flatten())
        else {
            return RecordedIdentity::default();
        };
        let head::Start::Request { minor, target, .. } = &head.start else {
            unreachable!("parsed as a request")
        };
        let versions = match api_version(target) {
            Some(api) => format!("HTTP/1.{minor}, API {api}"),
            None => format!("HTTP/1.{minor}"),
        };
        let mut client = head.header("user-agent").and_then(product);
        // An app whose HTTP library names itself in the User-Agent says its own version in a
        // header of its own.
        if let Some((name, value)) = head.headers.iter().find(|(n, _)| is_app_version(n)) {
            let client = client.get_or_insert_with(|| Identity {
                client: "(no User-Agent)".into(),
                version: String::new(),
            });
            client.version = format!("{} ({name} {value})", client.version)
                .trim_start()
                .to_string();
        }
        RecordedIdentity {
            versions: Some(versions),
            client,
            account: None,
        }
    }

    fn opens_handshake(&self, first: &[u8]) -> bool {
        head::parse(first, true).is_ok()
            && first.iter().position(|&b| b == b' ').is_some_and(|i| i > 0)
    }

    fn replay(&self, message: &[u8], _account: Option<&str>) -> Result<Box<dyn Request>, String> {
        request::replay(message)
    }

    fn replay_note(&self) -> &'static str {
        "(its Host header rewritten to {host})"
    }

    fn answers(&self, _request: &[u8], reply: &[u8]) -> bool {
        matches!(head::parse(reply, false), Ok(Some(h)) if h.status().is_some_and(|s| s >= 200 || s == 101))
    }

    fn normalize(&self, described: &str) -> String {
        describe::normalize(described)
    }

    fn redact(&self, text: &str) -> String {
        describe::redact(text)
    }

    fn describe(&self, from: Direction, bytes: &[u8]) -> String {
        describe(from, bytes)
    }

    fn synthetic_session(&self, n: u64) -> Vec<(Direction, Vec<u8>)> {
        const AGENTS: [&str; 4] = [
            "curl/8.5.0",
            "ExampleApp/2.9.1 (Android 9)",
            "python-requests/2.31.0",
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36",
        ];
        let agent = AGENTS[(n % 4) as usize];
        let request = format!(
            "GET /api/v{}/status HTTP/1.1\r\nHost: api.example\r\nUser-Agent: {agent}\r\nAccept: */*\r\n\r\n",
            1 + n % 2
        );
        let response = if agent.starts_with("ExampleApp/2") {
            "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n\r\nUpgrade ExampleApp to 3\n"
        } else {
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"ok\"}\n"
        };
        vec![
            (Direction::Client, request.into_bytes()),
            (Direction::Server, response.as_bytes().to_vec()),
        ]
    }
}

/// `X-App-Version`, `X-Client-Version` and the like: where mobile and desktop apps put their
/// own version.
fn is_app_version(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("x-") && name.ends_with("-version") && name != "x-api-version"
}

/// The API version a request path names: `v2` in `/api/v2/status` or `/v2.1/items`.
fn api_version(target: &str) -> Option<&str> {
    let path = target.split(['?', '#']).next()?;
    path.split('/').find(|segment| {
        segment.len() > 1
            && segment.starts_with(['v', 'V'])
            && segment[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.')
            && segment.as_bytes()[1].is_ascii_digit()
    })
}

/// Browsers' products, most specific first: a browser's User-Agent names several (Chrome's
/// says Mozilla, AppleWebKit, Chrome and Safari), and the first that appears names it.
const BROWSERS: &[&str] = &[
    "Edg",
    "OPR",
    "SamsungBrowser",
    "Firefox",
    "HeadlessChrome",
    "Chrome",
    "CriOS",
    "FxiOS",
    "Version",
];

/// The client a User-Agent names, and its version: its first product (`curl/8.5.0` in
/// `curl/8.5.0 (x86_64)`), or for a browser's `Mozilla/5.0 (...) ...` the browser's own
/// (Safari's version is in `Version/`).
fn product(agent: &str) -> Option<Identity> {
    let products: Vec<(&str, &str)> = agent
        .split_whitespace()
        .filter(|word| !word.starts_with('(') && !word.ends_with(')') && !word.ends_with(';'))
        .map(|word| word.split_once('/').unwrap_or((word, "")))
        .collect();
    let (client, version) = *products.first()?;
    let browser = (client == "Mozilla")
        .then(|| {
            BROWSERS
                .iter()
                .find_map(|b| products.iter().find(|(name, _)| name == b))
        })
        .flatten();
    let (client, version) = match browser {
        Some(&("Version", version)) => ("Safari", version),
        Some(&found) => found,
        None => (client, version),
    };
    Some(Identity {
        client: client.to_string(),
        version: version.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_client_is_its_user_agents_first_product() {
        let request = b"GET / HTTP/1.0\r\nUser-Agent: Wget/1.21.3 (linux-gnu)\r\n\r\n";
        let identity = Http.recorded_identity(&[request]);
        assert_eq!(identity.versions.as_deref(), Some("HTTP/1.0"));
        let client = identity.client.unwrap();
        assert_eq!(
            (client.client.as_str(), client.version.as_str()),
            ("Wget", "1.21.3")
        );
        assert_eq!(
            Http.recorded_identity(&[b"GET / HTTP/1.1\r\n\r\n"]).client,
            None
        );
        let named = |agent: &str| {
            let id = product(agent).unwrap();
            format!("{} {}", id.client, id.version)
        };
        assert_eq!(
            named(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"
            ),
            "HeadlessChrome 156.0.0.0"
        );
        assert_eq!(
            named(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
            ),
            "Safari 17.1"
        );
        assert_eq!(
            named("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
            "Firefox 128.0"
        );
        assert_eq!(named("Python/3.11 aiohttp/3.14.5"), "Python 3.11");
        assert_eq!(named("node"), "node ");
    }

    #[test]
    fn an_apps_own_version_header_and_the_api_version_join_the_identity() {
        let app = b"GET /api/v1/status?x=/v3/ HTTP/1.1\r\nUser-Agent: okhttp/4.12.0\r\nX-App-Version: 2.4.0\r\n\r\n";
        let identity = Http.recorded_identity(&[app]);
        assert_eq!(identity.versions.as_deref(), Some("HTTP/1.1, API v1"));
        assert_eq!(
            identity.client.unwrap().version,
            "4.12.0 (X-App-Version 2.4.0)"
        );
        assert_eq!(api_version("/v2.1/items"), Some("v2.1"));
        assert_eq!(api_version("/video/v/x"), None);
    }

    #[test]
    fn a_request_opens_the_handshake_and_other_bytes_do_not() {
        assert!(Http.opens_handshake(b"GET / HTTP/1.1\r\n"));
        assert!(!Http.opens_handshake(b"\x16\x03\x01"));
        assert!(!Http.opens_handshake(b"\r\n\r\n"));
    }
}
