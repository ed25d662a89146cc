//! The HTTP/1.x framer, classifier and request steps. The framer, fed any bytes in any split
//! either way, never panics, never waits holding more than a head's limit, loses no byte, and
//! every message it emits frames back to itself; well-formed messages frame alike in every
//! split, and a big one is held to its head and the start of its body. The classifier, fed any
//! responses, never panics, admits only on a status the policy admits, and never calls a
//! response carrying Sunset, Deprecation or `Warning: 299` plainly admitted. A request step
//! compiled from any text never panics and, when it compiles, goes out as exactly one request.

use crate::campaign::check;
use crate::{SERIAL, peak_heap_on_this_thread_during};
use bytes::{Bytes, BytesMut};
use harness::dialect::http::Http;
use harness::dialect::http::framing::{KEPT_BODY, MAX_HEAD};
use harness::dialect::http::head::{self, BodyLength};
use harness::dialect::{Dialect, Ending, Payload, SendError, Settings, framer, text_step};
use harness::direction::Direction;
use harness::template::Template;
use harness::verdict::{Verdict, VerdictKind};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{BTreeMap, VecDeque};

/// Pieces of HTTP, right and wrong, that random streams are made of.
const FRAGMENTS: &[&str] = &[
    "HTTP/1.1 200 OK\r\n",
    "HTTP/1.0 404 Not Found\r\n",
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 103 Early Hints\r\n",
    "HTTP/1.1 101 Switching Protocols\r\n",
    "HTTP/1.1 204 No Content\r\n",
    "HTTP/1.1 304 Not Modified\r\n",
    "HTTP/1.1 426 Upgrade Required\r\n",
    "HTTP/1.1 999 \r\n",
    "HTTP/2 200\r\n",
    "GET / HTTP/1.1\r\n",
    "HEAD /x HTTP/1.1\r\n",
    "POST /api/v1 HTTP/1.0\r\n",
    "CONNECT a:443 HTTP/1.1\r\n",
    "Host: a\r\n",
    "Content-Length: 0\r\n",
    "Content-Length: 5\r\n",
    "Content-Length: 12\r\n",
    "Content-Length: 5, 5\r\n",
    "Content-Length: 5, 6\r\n",
    "Content-Length: 99999999999999999999\r\n",
    "Content-Length: 9223372036854775808\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip\r\n",
    "Transfer-Encoding: gzip, chunked\r\n",
    "Sunset: Sat, 01 Nov 2025 00:00:00 GMT\r\n",
    "Deprecation: @1700000000\r\n",
    "Warning: 299 - \"upgrade\"\r\n",
    " folded\r\n",
    "\r\n",
    "\r\n\r\n",
    "5\r\nhello\r\n",
    "3;ext=1\r\nabc\r\n",
    "0\r\n\r\n",
    "0\r\n",
    "fffffffffffffff\r\n",
    "X-Trailer: 1\r\n",
    "hello",
    " ",
    ":",
    "\n",
    "\r",
];

/// Bytes that print as text, so that a failing input reads as HTTP.
#[derive(Clone)]
pub struct Wire(pub Vec<u8>);

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

/// A stream of fragments and random bytes.
fn http_soup() -> impl Strategy<Value = Wire> {
    let piece = prop_oneof![
        8 => prop::sample::select(FRAGMENTS).prop_map(|f| f.as_bytes().to_vec()),
        2 => prop::collection::vec(any::<u8>(), 0..24),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| Wire(pieces.concat()))
}

/// `bytes` as a connection delivers them: reads of the sizes `splits` gives, in turn.
fn reads<'a>(bytes: &'a [u8], splits: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut at = 0;
    let mut turn = 0;
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let n = splits
            .get(turn % splits.len().max(1))
            .copied()
            .unwrap_or(usize::MAX)
            .clamp(1, bytes.len() - at);
        turn += 1;
        at += n;
        Some(&bytes[at - n..at])
    })
}

/// A request whose only use is its method, for a server framer to read responses by.
fn request(method: &str) -> Vec<u8> {
    format!("{method} / HTTP/1.1\r\nHost: a\r\n\r\n").into_bytes()
}

/// What framing a stream gave: its messages, and whether it ended in a framing error.
#[derive(Debug, PartialEq, Eq)]
struct Framed {
    messages: Vec<Bytes>,
    failed: bool,
}

/// Checks that after a framing error, nothing read is lost: what the framer holds (as the
/// close gives it) and what it left in the buffer are what it did not frame. A capture import
/// keeps them, and a transcript shows them.
fn check_nothing_lost(
    framer: &mut dyn harness::dialect::Framer,
    buf: &mut BytesMut,
    read: &[u8],
    messages: &[Bytes],
) -> Result<(), TestCaseError> {
    if read.len() > KEPT_BODY {
        return Ok(()); // a long body is not kept whole
    }
    let held = framer.finish(buf).unwrap_or_default();
    let all = [messages.concat(), held.to_vec(), buf.to_vec()].concat();
    prop_assert!(all == read, "a framing error lost bytes");
    Ok(())
}

/// Frames `bytes` read in `splits` with a fresh framer for `from`, told first of `methods`
/// sent, then closes; checks on the way that the framer never waits holding more than a head's
/// limit.
fn frame(
    bytes: &[u8],
    splits: &[usize],
    from: Direction,
    methods: &[&str],
) -> Result<Framed, TestCaseError> {
    let mut framer = framer(&Http, from);
    for method in methods {
        framer.client_sent(&request(method));
    }
    let mut buf = BytesMut::new();
    let mut messages = Vec::new();
    let mut fed = 0;
    for read in reads(bytes, splits) {
        buf.extend_from_slice(read);
        fed += read.len();
        loop {
            match framer.next(&mut buf) {
                Ok(Some(message)) => messages.push(message),
                Ok(None) => break,
                Err(_) => {
                    check_nothing_lost(framer.as_mut(), &mut buf, &bytes[..fed], &messages)?;
                    return Ok(Framed {
                        messages,
                        failed: true,
                    });
                }
            }
        }
        prop_assert!(
            buf.len() <= MAX_HEAD,
            "{} bytes buffered waiting for more",
            buf.len()
        );
    }
    messages.extend(framer.finish(&mut buf));
    prop_assert!(buf.is_empty(), "{} bytes left after the close", buf.len());
    Ok(Framed {
        messages,
        failed: false,
    })
}

/// Feeds any bytes, in any split, to the framer of either side, then closes: no panic, no
/// waiting on more than a head's worth, no byte lost or doubled, and each message frames back
/// to itself (in the context of the request it answers).
pub fn check_framer(
    bytes: &[u8],
    splits: &[usize],
    from: Direction,
    methods: &[&str],
) -> Result<(), TestCaseError> {
    let framed = frame(bytes, splits, from, methods)?;
    if !framed.failed && bytes.len() <= KEPT_BODY {
        prop_assert!(
            framed.messages.concat() == bytes,
            "the messages are not the stream"
        );
    }
    // Which request each response answers, as the framer reads them.
    let mut outstanding: VecDeque<&str> = methods.iter().copied().collect();
    for message in &framed.messages {
        prop_assert!(
            message.len() <= MAX_HEAD + KEPT_BODY,
            "{} bytes",
            message.len()
        );
        let Ok(Some(parsed)) = head::parse(message, from == Direction::Client) else {
            // Only a head cut short by the close frames as what is not a head.
            prop_assert!(std::ptr::eq(message, framed.messages.last().unwrap()));
            prop_assert!(!framed.failed);
            continue;
        };
        let method = match parsed.status() {
            Some(status) if status < 200 && status != 101 => outstanding.front().copied(),
            Some(_) => outstanding.pop_front(),
            None => None,
        };
        let again = frame(message, &[message.len()], from, &Vec::from_iter(method))?;
        prop_assert_eq!(&again.messages, &vec![message.clone()]);
        prop_assert!(!again.failed);
        if parsed.body_length(method) == Ok(BodyLength::Tunnel) {
            break; // the rest is not HTTP
        }
    }
    Ok(())
}

fn direction() -> impl Strategy<Value = Direction> {
    prop::sample::select(vec![Direction::Client, Direction::Server])
}

fn methods() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(
        prop::sample::select(vec!["GET", "HEAD", "POST", "CONNECT"]),
        0..3,
    )
}

#[test]
fn http_framer_never_panics_stays_bounded_and_reframes_what_it_emits() {
    let strategy = (
        http_soup(),
        prop::collection::vec((any::<Index>(), any::<u8>()), 0..4),
        prop::collection::vec(1usize..300, 1..6),
        direction(),
        methods(),
    );
    check(
        "http_framer_never_panics_stays_bounded_and_reframes_what_it_emits",
        file!(),
        strategy,
        |(Wire(mut bytes), flips, splits, from, methods)| {
            for (at, value) in flips {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
            }
            check_framer(&bytes, &splits, from, &methods)
        },
    );
}

/// How a generated message's body is delimited.
#[derive(Debug, Clone)]
enum Body {
    None,
    Length(String),
    Chunked(Vec<String>, Vec<&'static str>),
    /// To the close; only a response's, and only the last message's.
    Close(String),
}

impl Body {
    fn header(&self) -> Option<String> {
        match self {
            Body::None | Body::Close(_) => None,
            Body::Length(body) => Some(format!("Content-Length: {}\r\n", body.len())),
            Body::Chunked(..) => Some("Transfer-Encoding: chunked\r\n".into()),
        }
    }

    fn bytes(&self) -> String {
        match self {
            Body::None => String::new(),
            Body::Length(body) | Body::Close(body) => body.clone(),
            Body::Chunked(chunks, trailers) => {
                let mut out = String::new();
                for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                    out.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
                }
                out.push_str("0\r\n");
                for trailer in trailers {
                    out.push_str(trailer);
                }
                out + "\r\n"
            }
        }
    }
}

/// One generated message: its start line, header fields and body.
#[derive(Debug, Clone)]
struct Message {
    start: String,
    headers: Vec<&'static str>,
    body: Body,
}

impl Message {
    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for header in &self.headers {
            out.push_str(header);
        }
        out.extend(self.body.header());
        out.push_str("\r\n");
        out.push_str(&self.body.bytes());
        out.into_bytes()
    }
}

const HEADERS: &[&str] = &[
    "Server: nginx/1.22.1\r\n",
    "Date: Mon, 03 Nov 2025 10:00:00 GMT\r\n",
    "Content-Type: text/plain\r\n",
    "Connection: close\r\n",
    "Connection: keep-alive\r\n",
    "Sunset: Sat, 01 Nov 2025 00:00:00 GMT\r\n",
    "sunset: Sat, 01 Nov 2025 00:00:00 GMT\r\n",
    "Deprecation: @1700000000\r\n",
    "Deprecation: true\r\n",
    "Warning: 299 - \"API v1 is deprecated\"\r\n",
    "Warning:299 api \"upgrade\"\r\n",
    "Warning: 199 - \"just so you know\"\r\n",
    "Link: </v2>; rel=\"successor-version\"\r\n",
    "X-Empty:\r\n",
];

fn body_text() -> impl Strategy<Value = String> {
    "[a-z0-9 \r\n]{0,30}"
}

fn chunked() -> impl Strategy<Value = Body> {
    (
        prop::collection::vec(body_text(), 0..4),
        prop::collection::vec(
            prop::sample::select(vec!["X-Checksum: 1\r\n", "Expires: 0\r\n"]),
            0..2,
        ),
    )
        .prop_map(|(chunks, trailers)| Body::Chunked(chunks, trailers))
}

/// A response; `last` ones may have a body read to the close, or switch protocols.
fn response(last: bool) -> impl Strategy<Value = Message> {
    let statuses = [
        100u16, 102, 103, 101, 200, 201, 204, 206, 301, 302, 304, 401, 403, 404, 407, 410, 426,
        500, 503, 505, 599,
    ];
    let status = prop::sample::select(
        statuses
            .into_iter()
            .filter(|&s| last || s != 101)
            .collect::<Vec<_>>(),
    );
    let body = prop_oneof![
        Just(Body::None),
        body_text().prop_map(Body::Length),
        chunked(),
        body_text().prop_map(Body::Close),
    ];
    (
        status,
        prop::sample::select(vec!["OK", "", "Whatever It Says"]),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(HEADERS), 0..4),
        body,
    )
        .prop_map(move |(status, reason, old, headers, body)| {
            let bodiless = status < 200 || status == 204 || status == 304;
            let body = match (body, bodiless, last) {
                (_, true, _) => Body::None,
                // Only the last response may run to the close.
                (Body::None | Body::Close(_), false, false) => Body::Length(String::new()),
                // A response with no length and no chunking runs to the close.
                (Body::None, false, true) => Body::Close(String::new()),
                (body, ..) => body,
            };
            Message {
                start: format!("HTTP/1.{} {status} {reason}", u8::from(!old)),
                headers,
                body,
            }
        })
}

fn responses() -> impl Strategy<Value = Vec<Message>> {
    (prop::collection::vec(response(false), 0..4), response(true)).prop_map(|(mut all, last)| {
        all.push(last);
        all
    })
}

fn requests() -> impl Strategy<Value = Vec<Message>> {
    let request = (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
        prop::sample::select(vec![
            "/",
            "/api/v1/status",
            "/a?b=c&d=%20",
            "*",
            "http://a/b",
        ]),
        any::<bool>(),
        prop::collection::vec(
            prop::sample::select(vec![
                "Host: api.example\r\n",
                "User-Agent: curl/7.64.0\r\n",
                "Accept: */*\r\n",
                "Expect: 100-continue\r\n",
                "X-App-Version: 2.9.1\r\n",
            ]),
            0..4,
        ),
        prop_oneof![
            Just(Body::None),
            body_text().prop_map(Body::Length),
            chunked()
        ],
    )
        .prop_map(|(method, target, old, headers, body)| Message {
            start: format!("{method} {target} HTTP/1.{}", u8::from(!old)),
            headers,
            body,
        });
    prop::collection::vec(request, 1..5)
}

/// Frames the messages' bytes whole and in `cuts`, and checks that both give the messages
/// back (after a switch of protocols, the raw bytes in whatever pieces).
fn check_messages_frame_alike(
    messages: &[Message],
    tunnel: &[u8],
    from: Direction,
    cuts: &[Index],
    bytewise: bool,
) -> Result<(), TestCaseError> {
    let each: Vec<Vec<u8>> = messages.iter().map(Message::bytes).collect();
    let switched = messages.last().is_some_and(|m| m.start.contains(" 101 "));
    let stream = [
        each.concat(),
        if switched {
            tunnel.to_vec()
        } else {
            Vec::new()
        },
    ]
    .concat();
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut splits: Vec<usize> = std::iter::once(0)
        .chain(points.iter().copied())
        .zip(points.iter().copied().chain(std::iter::once(stream.len())))
        .map(|(a, b)| b - a)
        .filter(|&n| n > 0)
        .collect();
    if bytewise {
        splits = vec![1];
    }
    for splits in [vec![stream.len().max(1)], splits] {
        let framed = frame(&stream, &splits, from, &[])?;
        prop_assert!(!framed.failed, "a framing error in split {splits:?}");
        let (http, raw) = framed
            .messages
            .split_at(each.len().min(framed.messages.len()));
        prop_assert_eq!(http.len(), each.len(), "split {:?}", splits);
        for (got, want) in http.iter().zip(&each) {
            prop_assert_eq!(
                String::from_utf8_lossy(got),
                String::from_utf8_lossy(want),
                "split {:?}",
                splits
            );
        }
        let want_raw: &[u8] = if switched { tunnel } else { &[] };
        prop_assert_eq!(raw.concat(), want_raw.to_vec(), "split {:?}", splits);
    }
    Ok(())
}

#[test]
fn well_formed_messages_frame_alike_in_any_split() {
    let strategy = (
        prop_oneof![
            responses().prop_map(|m| (m, Direction::Server)),
            requests().prop_map(|m| (m, Direction::Client)),
        ],
        prop::collection::vec(any::<u8>(), 0..16),
        prop::collection::vec(any::<Index>(), 0..12),
        prop::bool::weighted(0.1),
    );
    check(
        "well_formed_messages_frame_alike_in_any_split",
        file!(),
        strategy,
        |((messages, from), tunnel, cuts, bytewise)| {
            check_messages_frame_alike(&messages, &tunnel, from, &cuts, bytewise)
        },
    );
}

/// A head padded to `head_len` bytes (a long header field), then `body_len` body bytes
/// delimited as `kind` says (0: Content-Length, 1: chunked, 2: to the close).
fn big_message(head_len: usize, kind: u8, body_len: usize) -> (Vec<u8>, usize) {
    let (framing, body) = match kind {
        0 => (
            format!("Content-Length: {body_len}\r\n"),
            vec![b'x'; body_len],
        ),
        1 => {
            let mut body = Vec::new();
            let mut left = body_len;
            while left > 0 {
                let n = left.min(10_000);
                body.extend(format!("{n:x}\r\n").bytes());
                body.extend(std::iter::repeat_n(b'x', n));
                body.extend(b"\r\n");
                left -= n;
            }
            body.extend(b"0\r\n\r\n");
            ("Transfer-Encoding: chunked\r\n".into(), body)
        }
        _ => (String::new(), vec![b'x'; body_len]),
    };
    let start = format!("HTTP/1.1 200 OK\r\n{framing}X-Padding: ");
    let padding = head_len.saturating_sub(start.len() + 4).max(1);
    let head = [start.as_bytes(), &vec![b'p'; padding], b"\r\n\r\n"].concat();
    let len = head.len();
    ([head, body].concat(), len)
}

/// The longest read the big-message property makes.
const MAX_READ: usize = 20_000;

/// The heap a framer may grow by, whatever the body's size: its head and kept body, its read
/// buffer (a head's worth and one read), and the head parsed into fields, each with room to
/// double. A framer that kept a body of up to 1 MB would pass it.
const FRAMER_HEAP_BOUND: usize =
    2 * (MAX_HEAD + KEPT_BODY) + 2 * (MAX_HEAD + MAX_READ) + 2 * MAX_HEAD;

#[test]
fn a_big_message_is_held_to_its_head_and_kept_body_in_any_split() {
    let strategy = (
        prop_oneof![0usize..200, (MAX_HEAD - 300)..(MAX_HEAD + 300),],
        0u8..3,
        prop_oneof![0usize..100, 60_000usize..1_000_000],
        prop::collection::vec(1..MAX_READ, 1..4),
    );
    check(
        "a_big_message_is_held_to_its_head_and_kept_body_in_any_split",
        file!(),
        strategy,
        |(head_len, kind, body_len, splits)| {
            // Held while the big input exists, so that it does not count in another test's
            // measure of the whole heap.
            let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
            let (bytes, head_len) = big_message(head_len, kind, body_len);
            let mut framed = None;
            let peak = peak_heap_on_this_thread_during(|| {
                framed = Some(frame(&bytes, &splits, Direction::Server, &[]));
            });
            let framed = framed.unwrap()?;
            prop_assert!(peak <= FRAMER_HEAP_BOUND, "the heap grew by {peak} bytes");
            if head_len > MAX_HEAD {
                prop_assert!(framed.failed, "a {head_len}-byte head was framed");
                return Ok(());
            }
            let kept = bytes.len().min(head_len + KEPT_BODY);
            prop_assert!(!framed.failed);
            prop_assert_eq!(framed.messages.len(), 1);
            prop_assert!(
                framed.messages[0] == bytes[..kept],
                "not the head and kept body"
            );
            Ok(())
        },
    );
}

/// A suite's settings, and the statuses they admit and lock out.
pub struct PolicyCase {
    settings: &'static str,
    admits: fn(u16) -> bool,
    locks_out: fn(u16) -> bool,
}

const POLICIES: &[PolicyCase] = &[
    PolicyCase {
        settings: "",
        admits: |s| matches!(s, 200..=399 | 101 | 401 | 407),
        locks_out: |s| matches!(s, 400..=499 | 505) && s != 401 && s != 407,
    },
    PolicyCase {
        settings: "admitted_statuses = [\"200\"]",
        admits: |s| s == 200,
        locks_out: |s| matches!(s, 400..=499 | 505),
    },
    PolicyCase {
        settings: "admitted_statuses = [\"2xx\", \"403\"]",
        admits: |s| matches!(s, 200..=299 | 403),
        locks_out: |s| matches!(s, 400..=499 | 505) && s != 403,
    },
    PolicyCase {
        settings: "locked_out_statuses = [\"4xx\", \"5xx\"]\nerror_statuses = []",
        admits: |s| matches!(s, 200..=399 | 101 | 401 | 407),
        locks_out: |s| matches!(s, 400..=599) && s != 401 && s != 407,
    },
    PolicyCase {
        settings: "warning_body = [\"upgrade\"]",
        admits: |s| matches!(s, 200..=399 | 101 | 401 | 407),
        locks_out: |s| matches!(s, 400..=499 | 505) && s != 401 && s != 407,
    },
];

fn settings(text: &str) -> Settings {
    let table: BTreeMap<String, toml::Value> = toml::from_str(text).unwrap();
    Http.settings(&table).unwrap()
}

/// The status a verdict's deciding message names (`HTTP/1.1 200 OK (Sunset: ...)`).
fn status_of(decided_by: &str) -> Option<u16> {
    decided_by.split(' ').nth(1)?.parse().ok()
}

/// Whether a response carries what the default warning rules name.
fn carries_warning(head: &head::Head) -> bool {
    head.header("sunset").is_some()
        || head.header("deprecation").is_some()
        || head.headers_named("warning").any(|v| {
            v.starts_with("299") && !v[3..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        })
}

/// Checks one verdict against the policy and what the server sent.
fn check_verdict(
    verdict: &Verdict,
    policy: &PolicyCase,
    warned: bool,
    ended: Option<Ending>,
) -> Result<(), TestCaseError> {
    let status = verdict.decided_by.as_deref().and_then(status_of);
    if matches!(verdict.kind, VerdictKind::Admitted | VerdictKind::Warned) {
        let status = status.ok_or_else(|| TestCaseError::fail(format!("{verdict:?}")))?;
        prop_assert!((policy.admits)(status), "admitted on {status}: {verdict:?}");
        prop_assert!(
            !(warned && verdict.kind == VerdictKind::Admitted),
            "plainly admitted after a warning: {verdict:?}"
        );
    } else if verdict.kind == VerdictKind::LockedOut {
        match status {
            Some(status) => {
                prop_assert!(
                    (policy.locks_out)(status),
                    "locked out on {status}: {verdict:?}"
                );
            }
            None => prop_assert!(
                matches!(ended, Some(Ending::Closed | Ending::Reset)),
                "locked out with no response: {verdict:?}"
            ),
        }
    }
    Ok(())
}

/// A conversation that sent its requests, fed server messages one at a time and checked
/// at every step.
struct Judge<'p> {
    conversation: Box<dyn harness::dialect::Conversation>,
    policy: &'p PolicyCase,
    /// An admitting final response carried a warning.
    warned: bool,
    received: usize,
}

impl Judge<'_> {
    /// Takes one message; `true` once the conversation has decided.
    fn receive(&mut self, message: Bytes) -> Result<bool, TestCaseError> {
        if let Ok(Some(head)) = head::parse(&message, false)
            && let Some(status) = head.status()
            && (status >= 200 || status == 101)
            && (self.policy.admits)(status)
            && carries_warning(&head)
        {
            self.warned = true;
        }
        self.received += 1;
        let _ = self.conversation.stage();
        let answer = self.conversation.receive(message);
        if let Some(verdict) = &answer.verdict {
            check_verdict(verdict, self.policy, self.warned, None)?;
            return Ok(true);
        }
        if let Some(held) = self.conversation.pending() {
            prop_assert!(matches!(
                held.kind,
                VerdictKind::Admitted | VerdictKind::Warned
            ));
            check_verdict(&held, self.policy, self.warned, None)?;
        }
        Ok(false)
    }

    fn ended(&mut self, how: Ending) -> Result<(), TestCaseError> {
        let verdict = self.conversation.ended(how);
        check_verdict(&verdict, self.policy, self.warned, Some(how))?;
        if self.received == 0 && how == Ending::ScriptEnded {
            prop_assert_eq!(verdict.kind, VerdictKind::Error);
        }
        Ok(())
    }
}

/// Sends `methods` as requests, then feeds `server` bytes read in `splits` through the
/// server's framer to the classifier, as the runner does, until it decides or the stream ends
/// as `how` says.
pub fn check_classifier(
    server: &[u8],
    splits: &[usize],
    methods: &[&str],
    policy: &PolicyCase,
    how: Ending,
) -> Result<(), TestCaseError> {
    let mut judge = Judge {
        conversation: Http.conversation(None, &settings(policy.settings)),
        policy,
        warned: false,
        received: 0,
    };
    let mut framer = framer(&Http, Direction::Server);
    let values = BTreeMap::from([("host".to_string(), "127.0.0.1".to_string())]);
    for method in methods {
        let expect = if *method == "POST" {
            "Expect: 100-continue\nContent-Length: 2\n"
        } else {
            ""
        };
        let text = format!("{method} /api/v1/status HTTP/1.1\nHost: {{host}}\n{expect}");
        let step = text_step(&Http, &text).unwrap();
        let sent = judge.conversation.send(step.as_ref(), &values).unwrap();
        framer.client_sent(&sent);
    }
    let mut buf = BytesMut::new();
    for read in reads(server, splits) {
        buf.extend_from_slice(read);
        loop {
            match framer.next(&mut buf) {
                Ok(Some(message)) => {
                    if judge.receive(message)? {
                        return Ok(());
                    }
                }
                Ok(None) => break,
                // The runner's verdict: an unparseable reply, an error.
                Err(_) => return Ok(()),
            }
        }
    }
    // The runner takes what the framer holds when the server closes or resets.
    if how != Ending::ScriptEnded
        && let Some(message) = framer.finish(&mut buf)
        && judge.receive(message)?
    {
        return Ok(());
    }
    judge.ended(how)
}

#[test]
fn classifier_admits_only_what_the_policy_admits_and_never_drops_a_warning() {
    let strategy = (
        prop::collection::vec(response(false), 0..4),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec((any::<Index>(), any::<u8>()), 1..4),
        ],
        prop::collection::vec(1usize..200, 1..4),
        prop::collection::vec(prop::sample::select(vec!["GET", "HEAD", "POST"]), 1..3),
        0..POLICIES.len(),
        prop::sample::select(vec![Ending::Closed, Ending::Reset, Ending::ScriptEnded]),
    );
    check(
        "classifier_admits_only_what_the_policy_admits_and_never_drops_a_warning",
        file!(),
        strategy,
        |(responses, flips, splits, methods, policy, how)| {
            let mut bytes: Vec<u8> = responses.iter().flat_map(Message::bytes).collect();
            for (at, value) in flips {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
            }
            check_classifier(&bytes, &splits, &methods, &POLICIES[policy], how)
        },
    );
}

#[test]
fn classifier_never_panics_on_any_message() {
    let strategy = (
        prop::collection::vec(http_soup(), 0..4),
        0..POLICIES.len(),
        prop::sample::select(vec![Ending::Closed, Ending::Reset, Ending::ScriptEnded]),
    );
    check(
        "classifier_never_panics_on_any_message",
        file!(),
        strategy,
        |(messages, policy, how)| {
            let mut judge = Judge {
                conversation: Http.conversation(None, &settings(POLICIES[policy].settings)),
                policy: &POLICIES[policy],
                warned: false,
                received: 0,
            };
            let step = text_step(&Http, "GET / HTTP/1.1\nHost: a\n").unwrap();
            judge
                .conversation
                .send(step.as_ref(), &BTreeMap::new())
                .unwrap();
            for message in messages {
                if judge.receive(message.0.into())? {
                    return Ok(());
                }
            }
            judge.ended(how)
        },
    );
}

/// Case-file text that is nearly a request: request lines and header fields, right and wrong.
fn step_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        prop::sample::select(vec![
            "GET / HTTP/1.1",
            "POST /api/v1/status HTTP/1.0",
            "GET /{path} HTTP/1.1",
            "get http://{host}/ HTTP/9.9",
            "GET  / HTTP/1.1",
            "GET / HTTP/1.1 extra",
            "Host: {host}",
            "Host: {undefined}",
            "User-Agent: ExampleApp/2.9.1",
            "Content-Length: 0",
            "Content-Length: 5",
            "Content-Length: abc",
            "Content-Length: 5, 6",
            "Transfer-Encoding: chunked",
            "Transfer-Encoding: gzip",
            "Expect: 100-continue",
            "X-Empty:",
            "Bad Name: x",
            " folded",
            "",
        ])
        .prop_map(str::to_string),
        ("[A-Za-z-]{1,8}", prop::collection::vec(any::<char>(), 0..6))
            .prop_map(|(name, value)| format!("{name}: {}", String::from_iter(value))),
        "\\PC{0,20}",
        "[ -~]{0,20}",
        prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter),
    ];
    prop::collection::vec(line, 1..6).prop_map(|lines| lines.join("\n"))
}

/// A request as a case file writes one when it means no harm: it must go out whole.
fn good_step_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "GET / HTTP/1.1",
            "POST /api/v1/status HTTP/1.0",
            "PUT /{path}?a=b HTTP/1.1",
            "OPTIONS * HTTP/1.1",
        ]),
        prop::collection::vec(
            prop::sample::select(vec![
                "Host: {host}",
                "User-Agent: ExampleApp/2.9.1 (Android 9; \u{e9})",
                "Accept: */*",
                "X-App-Version: {path}",
                "X-Empty:",
                "Cookie: a=b; c=\"d\"",
            ]),
            0..5,
        ),
    )
        .prop_map(|(line, fields)| [vec![line], fields].concat().join("\n") + "\n")
}

/// Compiles `text` as a step (with `body`), sends it, and checks that what goes out frames as
/// exactly one request. A step may be refused when it is sent (a Content-Length not its
/// body's), but not when it is `good`.
pub fn check_step(
    text: &str,
    body: Option<&str>,
    host: &str,
    good: bool,
) -> Result<(), TestCaseError> {
    let (Ok(send), Ok(body)) = (Template::parse(text), body.map(Template::parse).transpose())
    else {
        prop_assert!(!good, "{text:?} is not a template");
        return Ok(());
    };
    let step = match Http.step(&Payload::Text { send, body }, text) {
        Ok(step) => step,
        Err(e) => {
            prop_assert!(!good, "{text:?} does not compile: {}", e.message);
            return Ok(());
        }
    };
    let mut conversation = Http.conversation(None, &Settings::none());
    let values = BTreeMap::from([
        ("host".to_string(), host.to_string()),
        ("path".to_string(), "api/v2".to_string()),
    ]);
    let bytes = match conversation.send(step.as_ref(), &values) {
        Ok(bytes) => bytes,
        Err(SendError::Unset(_)) if !good => return Ok(()),
        Err(SendError::Malformed(_)) if !good => return Ok(()),
        Err(e) => return Err(TestCaseError::fail(format!("{text:?} was not sent: {e:?}"))),
    };
    // A version other than HTTP/1.x is sent as written, to see a server refuse it (505); it
    // is not HTTP/1.x to frame.
    let version = bytes.split(|&b| b == b'\r').next().unwrap_or_default();
    if !(version.ends_with(b" HTTP/1.0") || version.ends_with(b" HTTP/1.1")) {
        return Ok(());
    }
    let framed = frame(&bytes, &[bytes.len()], Direction::Client, &[])?;
    prop_assert!(
        !framed.failed,
        "{:?} does not frame",
        String::from_utf8_lossy(&bytes)
    );
    prop_assert_eq!(framed.messages, vec![bytes.clone()]);
    let head = head::parse(&bytes, true).unwrap().unwrap();
    prop_assert!(head.method().is_some(), "not a request");
    if good {
        // Whole: not waiting on a body that never comes.
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert_eq!(
            framer(&Http, Direction::Client)
                .next(&mut buf)
                .ok()
                .flatten(),
            Some(bytes)
        );
    }
    Ok(())
}

#[test]
fn a_request_step_compiled_from_any_text_goes_out_as_one_request() {
    let strategy = (
        prop_oneof![
            step_text().prop_map(|t| (t, false)),
            good_step_text().prop_map(|t| (t, true)),
        ],
        prop::option::of("[ -z|~\n]{0,20}"),
        prop::sample::select(vec!["127.0.0.1", "::1", "api.example", "localhost"]),
    );
    check(
        "a_request_step_compiled_from_any_text_goes_out_as_one_request",
        file!(),
        strategy,
        |((text, good), body, host)| check_step(&text, body.as_deref(), host, good),
    );
}
