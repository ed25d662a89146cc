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
mod identity;
mod lines;
mod policy;
mod request;
mod retry_after;
mod signature;

use super::{
    Conversation, Doc, FrameError, Framer, Identity, IdentityInTraffic, Protocol, RecordedIdentity,
    Recordings, Signatures, Step, StepError, StepSource, Wire,
};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};
use conversation::HttpConversation;
use framing::HttpFramer;
use policy::Policy;

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
        name: policy::BUSY,
        about: "statuses of a busy server, an error counted as busy and never a lockout; Retry-After is kept for --retry-busy (default 408, 429, 503)",
    },
    Doc {
        name: policy::WARNING_HEADERS,
        about: "response headers that make an admission a warning: `Name` or `Name: pattern` (default Deprecation, Sunset, `Warning: ^299`)",
    },
    Doc {
        name: policy::WARNING_BODY,
        about: "patterns in a response body that make an admission a warning (default none)",
    },
    Doc {
        name: identity::VERSION_HEADER,
        about: "the request header that names a recorded app's own version, e.g. `App-Build` (default: any X-...-Version header)",
    },
    Doc {
        name: identity::API_VERSION_PATH,
        about: "a pattern over a recorded request's target whose one group is the API version, e.g. `^/api/(\\d{4}-\\d{2})/` (default: a /vN/ segment)",
    },
];

const SIGNATURES: Signatures = Signatures::of(signature::signature, signature::distinctions);

impl Wire for Http {
    super::facts! {
        name: "http",
        summary: "HTTP/1.x requests against servers retiring API versions, app versions and HTTP/1.0; Sunset and Deprecation warn",
        port: 80,
        steps: STEP_KINDS,
        settings: SETTING_KEYS,
        describe: describe::describe,
        redactions: describe::REDACTIONS,
    }

    /// One whole message when the buffer holds it; a body too long to hold is framed by
    /// [`own_framer`](super::Wire::own_framer), which live replies and recordings use.
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

    fn normalize(&self, described: &str) -> String {
        describe::normalize(described)
    }

    super::offers!(Recordings, Distinguish(SIGNATURES));
}

impl Recordings for Http {
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        identity::read(client_messages, &identity::Rules::default())
    }

    fn opens_handshake(&self, first: &[u8]) -> bool {
        head::parse(first, true).is_ok()
            && first.iter().position(|&b| b == b' ').is_some_and(|i| i > 0)
    }

    fn replay_note(&self) -> &'static str {
        "(its Host header rewritten to {host})"
    }

    fn answers(&self, _request: &[u8], reply: &[u8]) -> bool {
        matches!(head::parse(reply, false), Ok(Some(h)) if h.status().is_some_and(|s| s >= 200 || s == 101))
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

impl Protocol for Http {
    type Step = request::HttpRequest;
    type Settings = Policy;

    fn step(&self, source: &StepSource<'_>) -> Result<Self::Step, StepError> {
        request::compile(source)
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &Self::Settings,
    ) -> Box<dyn Conversation<Self::Step>> {
        Box::new(HttpConversation::new(settings.clone()))
    }

    fn identity_in_traffic(&self) -> Option<&dyn IdentityInTraffic<Policy>> {
        Some(self)
    }

    fn replay(&self, message: &[u8], _account: Option<&str>) -> Result<Step<Self::Step>, String> {
        request::replay(message).map(Step::Own)
    }
}

impl IdentityInTraffic<Policy> for Http {
    fn identity_in(
        &self,
        settings: &Policy,
        client_messages: &mut dyn Iterator<Item = Vec<u8>>,
    ) -> Option<RecordedIdentity> {
        let rules = &settings.identity;
        if rules.is_default() {
            return None;
        }
        let messages: Vec<Vec<u8>> = client_messages.take(1).collect();
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        Some(identity::read(&refs, rules))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_opens_the_handshake_and_other_bytes_do_not() {
        assert!(Http.opens_handshake(b"GET / HTTP/1.1\r\n"));
        assert!(!Http.opens_handshake(b"\x16\x03\x01"));
        assert!(!Http.opens_handshake(b"\r\n\r\n"));
    }
}
