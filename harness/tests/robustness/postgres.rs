//! The PostgreSQL framer, classifier and step compiler. The framer, fed any bytes in any split
//! from either side (after any startup packet the client sent), never panics, never holds more
//! than a message, and frames what it emitted the same way again; startup packets of any
//! version, an SSLRequest and its one-byte answer, and typed messages frame the same whatever
//! the split. The classifier, fed any backend messages after a scripted opening, with or
//! without a password to log in with, never panics and admits only on an authentication
//! request or ReadyForQuery. No text compiles or sends
//! into a panic.

use crate::campaign::check;
use crate::feed::feed;
use bytes::Bytes;
use harness::dialect::postgres::Postgres;
use harness::dialect::postgres::framing::{GSSENC_REQUEST, MAX_MESSAGE};
use harness::dialect::{Dialect, Ending, Framer, Wire, text_step};
use harness::direction::Direction;
use harness::verdict::VerdictKind;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// The most a framer may hold while it waits for more: a whole typed message less one byte.
const MOST_BUFFERED: usize = 1 + MAX_MESSAGE;

const SSL: [u8; 8] = [0, 0, 0, 8, 4, 210, 22, 47];

fn direction(client: bool) -> Direction {
    if client {
        Direction::Client
    } else {
        Direction::Server
    }
}

/// What the client sent before the server's bytes: nothing, an SSLRequest, a GSSENCRequest
/// or a protocol 2 startup (after which errors have no length).
fn client_opening() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let v2_startup = [&[0u8, 0, 1, 40, 0, 2, 0, 0][..], &[0; 288]].concat();
    let gss = [&[0u8, 0, 0, 8][..], &GSSENC_REQUEST.to_be_bytes()].concat();
    prop::collection::vec(
        prop::sample::select(vec![SSL.to_vec(), gss, v2_startup]),
        0..3,
    )
}

/// Frames `chunks` as a connection does, up to the first framing error: the messages.
fn frame_chunks(
    from: Direction,
    sent: &[Vec<u8>],
    chunks: impl IntoIterator<Item = impl AsRef<[u8]>>,
) -> Result<Vec<Bytes>, TestCaseError> {
    let mut framer: Box<dyn Framer> = Postgres.own_framer(from).expect("its own framer");
    for message in sent {
        framer.client_sent(message);
    }
    let mut out = Vec::new();
    feed(
        chunks,
        MOST_BUFFERED,
        |buf| framer.next(buf),
        |message| {
            prop_assert!(!message.is_empty(), "an empty message");
            out.push(message);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Messages as they compare across splits: once encrypted (TLS bytes, or after a `G`), the
/// bytes pass as they come, so however they were split, they are one stream.
fn normalized(messages: &[Bytes]) -> Vec<Vec<u8>> {
    let opaque_from = messages
        .iter()
        .enumerate()
        .position(|(i, m)| m.starts_with(&[0x16, 0x03]) || (i > 0 && &messages[i - 1][..] == b"G"));
    match opaque_from {
        Some(i) => {
            let mut out: Vec<Vec<u8>> = messages[..i].iter().map(|m| m.to_vec()).collect();
            out.push(messages[i..].concat());
            out
        }
        None => messages.iter().map(|m| m.to_vec()).collect(),
    }
}

#[test]
fn postgres_framer_never_panics_never_holds_past_a_message_and_reframes_itself() {
    let strategy = (
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..40),
        any::<bool>(),
        client_opening(),
    );
    check(
        "postgres_framer_never_panics_never_holds_past_a_message_and_reframes_itself",
        file!(),
        strategy,
        |(chunks, client, sent)| {
            let from = direction(client);
            let messages = frame_chunks(from, &sent, &chunks)?;
            for message in &messages {
                let _ = harness::dialect::postgres::describe(from, message);
                let _ = Postgres.frame(from, &mut bytes::BytesMut::from(&message[..]));
            }
            let again = frame_chunks(from, &sent, [messages.concat()])?;
            prop_assert_eq!(normalized(&messages), normalized(&again));
            Ok(())
        },
    );
}

/// A typed message.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn typed_message() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(b"RSKZNEvpQXdcfDBCHI".to_vec()),
        prop::collection::vec(any::<u8>(), 0..120),
    )
        .prop_map(|(kind, body)| message(kind, &body))
}

/// A startup packet of any version, with parameters.
fn startup() -> impl Strategy<Value = Vec<u8>> {
    (
        // 1234 is no version: it marks SSLRequest, GSSENCRequest and CancelRequest.
        prop::sample::select(vec![2u16, 3, 4, 1233]),
        any::<u16>(),
        prop::collection::vec(("[a-z_]{1,12}", "[ -~]{0,20}"), 0..5),
    )
        .prop_map(|(major, minor, params)| {
            let mut out = vec![0, 0, 0, 0];
            out.extend_from_slice(&major.to_be_bytes());
            out.extend_from_slice(&minor.to_be_bytes());
            for (name, value) in params {
                out.extend_from_slice(name.as_bytes());
                out.push(0);
                out.extend_from_slice(value.as_bytes());
                out.push(0);
            }
            out.push(0);
            let length = (out.len() as u32).to_be_bytes();
            out[..4].copy_from_slice(&length);
            out
        })
}

/// The client's SSLRequests, everything the client sends, everything the server sends.
type Streams = (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<Vec<u8>>);

/// What the client sends (SSLRequests, then a startup, then typed messages) and what the
/// server answers (one byte to each SSLRequest, `N` but the last, then typed messages; or an
/// `S` and TLS bytes).
fn conversation_streams() -> impl Strategy<Value = Streams> {
    (
        0usize..3,
        startup(),
        prop::collection::vec(typed_message(), 0..5),
        prop::collection::vec(typed_message(), 0..6),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..100)),
    )
        .prop_map(|(ssl_requests, startup, client_typed, server_typed, tls)| {
            let mut client: Vec<Vec<u8>> = vec![SSL.to_vec(); ssl_requests];
            let mut server: Vec<Vec<u8>> = vec![b"N".to_vec(); ssl_requests];
            match tls.filter(|_| ssl_requests > 0) {
                Some(tls) => {
                    // The last SSLRequest accepted: TLS from then on, both ways.
                    *server.last_mut().unwrap() = b"S".to_vec();
                    server.push([&[0x16, 0x03, 0x03][..], &tls].concat());
                    client.push([&[0x16, 0x03, 0x01][..], &tls].concat());
                }
                None => {
                    client.push(startup);
                    client.extend(client_typed);
                    server.extend(server_typed);
                }
            }
            (client[..ssl_requests].to_vec(), client, server)
        })
}

fn split<'a>(bytes: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.extend([0, bytes.len()]);
    at.sort_unstable();
    at.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

#[test]
fn postgres_streams_frame_the_same_whatever_the_split() {
    let strategy = (
        conversation_streams(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    );
    check(
        "postgres_streams_frame_the_same_whatever_the_split",
        file!(),
        strategy,
        |((requests, client, server), cuts)| {
            for (from, sent, messages) in [
                (Direction::Client, &Vec::new(), &client),
                (Direction::Server, &requests, &server),
            ] {
                let bytes = messages.concat();
                let framed = frame_chunks(from, sent, split(&bytes, &cuts))?;
                let framed: Vec<Bytes> = framed;
                let expected: Vec<Bytes> = messages.iter().cloned().map(Bytes::from).collect();
                prop_assert_eq!(normalized(&framed), normalized(&expected), "{:?}", from);
            }
            Ok(())
        },
    );
}

/// What a backend may send before authentication: one-byte answers, authentication requests
/// of every code (SASL with mechanisms), errors and notices with fields, parameter statuses,
/// NegotiateProtocolVersion, ReadyForQuery, other types, and bytes.
fn backend_message() -> impl Strategy<Value = Vec<u8>> {
    let code = prop::sample::select(vec![0u32, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 99, u32::MAX]);
    let fields = prop::collection::vec(
        (prop::sample::select(b"SVCMDHP".to_vec()), "[ -~]{0,30}"),
        0..4,
    )
    .prop_map(|fields| {
        let mut out = Vec::new();
        for (code, value) in fields {
            out.push(code);
            out.extend_from_slice(value.as_bytes());
            out.push(0);
        }
        out.push(0);
        out
    });
    prop_oneof![
        prop::sample::select(vec![b"S".to_vec(), b"N".to_vec(), b"G".to_vec()]),
        (
            code,
            prop::collection::vec("SCRAM-SHA-256(-PLUS)?|[A-Z]{1,8}", 0..3)
        )
            .prop_map(|(code, mechanisms)| {
                let mut body = code.to_be_bytes().to_vec();
                for m in mechanisms {
                    body.extend_from_slice(m.as_bytes());
                    body.push(0);
                }
                message(b'R', &body)
            }),
        (prop::sample::select(b"ENv".to_vec()), fields).prop_map(|(k, f)| message(k, &f)),
        Just(message(b'Z', b"I")),
        Just(message(b'S', b"server_version\x0017\x00")),
        typed_message(),
        prop::collection::vec(any::<u8>(), 1..20),
    ]
}

/// The steps of the two scripted clients: a plain startup, and TLS first then a startup.
fn scripted(with_tls: bool) -> Vec<&'static str> {
    if with_tls {
        vec!["ssl", "startup user=u database=d"]
    } else {
        vec!["startup user=u database=d"]
    }
}

/// Feeds `server` bytes, `step` at a time, to a conversation that sent a scripted opening,
/// as the runner does: the next step goes out when the last is answered.
fn check_backend(
    server: &[u8],
    step: usize,
    with_tls: bool,
    variables: &BTreeMap<String, String>,
    how: Ending,
) -> Result<(), TestCaseError> {
    let settings = Postgres.settings(&BTreeMap::new()).unwrap();
    let mut conversation = Postgres.conversation(None, &settings);
    let mut framer = Postgres.own_framer(Direction::Server).unwrap();
    let mut steps = scripted(with_tls).into_iter();
    let mut send_next = |conversation: &mut Box<dyn harness::dialect::Conversation>,
                         framer: &mut Box<dyn Framer>| {
        if let Some(text) = steps.next() {
            let step = text_step(&Postgres, text).unwrap();
            if let Ok(sent) = conversation.send(step.as_ref(), variables) {
                framer.client_sent(&sent);
            }
        }
    };
    send_next(&mut conversation, &mut framer);
    let decided = std::cell::Cell::new(false);
    feed(
        server.chunks(step.max(1)),
        MOST_BUFFERED,
        |buf| {
            if decided.get() {
                buf.clear(); // the runner reads no further
                return Ok(None);
            }
            let Some(raw) = framer.next(buf)? else {
                return Ok(None);
            };
            let received = conversation.receive(raw.clone());
            // With a password, the login's answers go out as the runner sends them.
            if let Some(answer) = conversation.respond() {
                framer.client_sent(&answer);
            }
            let _ = conversation.stage();
            let _ = conversation.pending();
            if received.verdict.is_none() && received.answers_request {
                send_next(&mut conversation, &mut framer);
            }
            Ok::<_, harness::dialect::FrameError>(Some((raw, received)))
        },
        |(raw, received)| {
            let Some(verdict) = received.verdict else {
                return Ok(());
            };
            decided.set(true);
            if matches!(verdict.kind, VerdictKind::Admitted | VerdictKind::Warned) {
                let length = raw
                    .get(1..5)
                    .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]));
                prop_assert!(
                    matches!(raw[0], b'R' | b'Z') && length == Some(raw.len() as u32 - 1),
                    "admitted on {:?} ({})",
                    raw,
                    received.text
                );
            }
            Ok(())
        },
    )?;
    let ended = conversation.ended(how);
    if !decided.get() {
        prop_assert!(
            !matches!(ended.kind, VerdictKind::Admitted | VerdictKind::Warned),
            "admitted by an ending: {:?}",
            ended
        );
    }
    Ok(())
}

#[test]
fn postgres_classifier_admits_only_on_authentication_or_ready() {
    let strategy = (
        prop::collection::vec(backend_message(), 0..8),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        1usize..64,
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            "md5",
            "scram-sha-256",
            "password,md5",
            "",
        ])),
        prop::option::of(prop::sample::select(vec![
            "disable",
            "prefer",
            "require",
            "verify-full",
        ])),
        prop::sample::select(vec![Ending::Closed, Ending::Reset, Ending::ScriptEnded]),
        any::<bool>(),
    );
    check(
        "postgres_classifier_admits_only_on_authentication_or_ready",
        file!(),
        strategy,
        |(messages, flips, step, with_tls, methods, sslmode, how, password)| {
            let mut bytes = messages.concat();
            for (at, value) in flips {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
            }
            let mut variables = BTreeMap::new();
            if let Some(methods) = methods {
                variables.insert("client_methods".to_string(), methods.to_string());
            }
            if let Some(sslmode) = sslmode {
                variables.insert("sslmode".to_string(), sslmode.to_string());
            }
            if password {
                variables.insert("password".to_string(), "harness".to_string());
            }
            check_backend(&bytes, step, with_tls, &variables, how)
        },
    );
}

#[test]
fn postgres_steps_of_any_text_compile_and_send_without_panic() {
    let strategy = prop_oneof![
        any::<String>(),
        "(startup|ssl|gssenc|cancel|terminate|startp)( [a-z_]{0,10}=[0-9a-z.{}]{0,12}){0,5}",
    ];
    check(
        "postgres_steps_of_any_text_compile_and_send_without_panic",
        file!(),
        strategy,
        |text| {
            if let Ok(step) = text_step(&Postgres, &text) {
                let mut conversation =
                    Postgres.conversation(None, &harness::dialect::Settings::none());
                let _ = conversation.send(step.as_ref(), &BTreeMap::new());
            }
            Ok(())
        },
    );
}
