//! The TLS record framer, ClientHello reader and SNI rewrite, and the classifier of server
//! answers: no panic, no unbounded buffering, an SNI rewrite that always reads back, and no
//! admission but on a ServerHello that chose what the client offered.

use crate::campaign::check;
use crate::feed::feed;
use harness::dialect::tls::{hello, record, server_hello};
use harness::dialect::{Ending, FrameError, Settings, text_step};
use harness::direction::Direction;
use harness::verdict::VerdictKind;
use proptest::prelude::*;
use std::collections::BTreeMap;

const OFFER: &str =
    "versions=TLSv1.2,TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256 groups=x25519 sni=example.org";

#[test]
fn tls_framer_and_hello_readers_never_panic() {
    let strategy = (
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..20),
        any::<bool>(),
    );
    check(
        "tls_framer_and_hello_readers_never_panic",
        file!(),
        strategy,
        |(chunks, client)| {
            feed(
                chunks,
                5 + (1 << 14) + 2048,
                |buf| record::decode(buf, client),
                |r| {
                    let _ = hello::offer(&r.raw);
                    let _ = hello::rewrite_sni(&r.raw, "example.org");
                    let _ = server_hello::server_answer(&r.fragment);
                    let _ = harness::dialect::tls::describe(Direction::Server, &r.raw);
                    Ok(())
                },
            )
        },
    );
}

/// When `record` reads as a ClientHello with a name, rewriting the name reads back as `host`.
pub fn check_client_hello(record: &[u8], host: &str) -> Result<(), TestCaseError> {
    if let Some(rewritten) = hello::rewrite_sni(record, host)
        && hello::offer(record).is_some_and(|o| o.sni.is_some())
    {
        let read_back = hello::offer(&rewritten).and_then(|o| o.sni);
        prop_assert_eq!(read_back.as_deref(), Some(host));
    }
    Ok(())
}

#[test]
fn mutated_client_hellos_never_panic_and_rewrite_consistently() {
    let strategy = (
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        "[a-z]{1,40}",
    );
    check(
        "mutated_client_hellos_never_panic_and_rewrite_consistently",
        file!(),
        strategy,
        |(flips, host)| {
            let mut record = hello::Description::parse(OFFER).unwrap().build();
            for (at, value) in flips {
                let i = at.index(record.len());
                record[i] = value;
            }
            check_client_hello(&record, &host)
        },
    );
}

/// A ServerHello record (a HelloRetryRequest with `retry`).
fn server_hello(
    version: u16,
    cipher: u16,
    supported: Option<u16>,
    group: Option<u16>,
    retry: bool,
) -> Vec<u8> {
    let handshake =
        crate::common::tls_messages::server_hello_message(version, cipher, supported, group, retry);
    records(&handshake, handshake.len())
}

/// Handshake bytes as records of at most `size` bytes each.
fn records(handshake: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for fragment in handshake.chunks(size.max(1)) {
        out.extend([22, 3, 3]);
        out.extend((fragment.len() as u16).to_be_bytes());
        out.extend(fragment);
    }
    out
}

/// What a server may answer: a ServerHello or HelloRetryRequest at any version and cipher, in
/// one record or split across several; a HelloRequest; or an alert.
fn server_record() -> impl Strategy<Value = Vec<u8>> {
    let version = prop::sample::select(vec![0x0300u16, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f12]);
    let cipher = prop::sample::select(vec![0x1301u16, 0xC02F, 0x0005, 0x000A, 0x002F, 0xFFFF]);
    prop_oneof![
        (
            version.clone(),
            cipher,
            prop::option::of(version),
            prop::option::of(any::<u16>()),
            any::<bool>(),
            1usize..100,
        )
            .prop_map(|(v, c, s, g, retry, size)| {
                let whole = server_hello(v, c, s, g, retry);
                records(&whole[5..], size)
            }),
        Just(records(&[0, 0, 0, 0], 4)),
        (1u8..3, any::<u8>()).prop_map(|(level, description)| vec![
            21,
            3,
            3,
            0,
            2,
            level,
            description
        ]),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

/// Feeds `server` bytes, `step` at a time, to a TLS conversation that sent a modern hello, as
/// the runner does: records until one decides.
pub fn check_tls_server(server: &[u8], step: usize, how: Ending) -> Result<(), TestCaseError> {
    let dialect = harness::dialect::by_name("tls").unwrap();
    let mut conversation = dialect.conversation(None, &Settings::none());
    let hello = text_step(dialect, &format!("hello {OFFER}")).unwrap();
    conversation.send(hello.as_ref(), &BTreeMap::new()).unwrap();
    let decided = std::cell::Cell::new(false);
    feed(
        server.chunks(step.max(1)),
        5 + (1 << 14) + 2048,
        |buf| {
            if decided.get() {
                buf.clear(); // the runner reads no further
                return Ok(None);
            }
            Ok::<_, FrameError>(
                dialect
                    .frame(Direction::Server, buf)?
                    .map(|raw| conversation.receive(raw)),
            )
        },
        |received| {
            let Some(verdict) = received.verdict else {
                prop_assert!(!received.answers_request, "{}", received.text);
                return Ok(());
            };
            decided.set(true);
            if matches!(verdict.kind, VerdictKind::Admitted | VerdictKind::Warned) {
                let by = verdict.decided_by.unwrap_or_default();
                prop_assert!(
                    by == "ServerHello TLSv1.2 TLS_AES_128_GCM_SHA256"
                        || by == "ServerHello TLSv1.3 TLS_AES_128_GCM_SHA256"
                        || by == "HelloRetryRequest TLSv1.3 TLS_AES_128_GCM_SHA256"
                        || by.starts_with("HelloRetryRequest TLSv1.3 TLS_AES_128_GCM_SHA256 "),
                    "admitted on {by}, which chose what the client did not offer"
                );
            }
            Ok(())
        },
    )?;
    // After a ServerHello that admits, a flight cut short keeps that admission, noted.
    let pending = conversation.pending();
    let ended = conversation.ended(how);
    if decided.get() {
        return Ok(());
    }
    if let Some(pending) = pending {
        prop_assert_eq!(ended.kind, pending.kind);
        prop_assert!(
            ended.reason.contains("before its flight ended"),
            "{}",
            ended.reason
        );
        return Ok(());
    }
    let expected = match how {
        Ending::ScriptEnded => VerdictKind::Error,
        Ending::Closed | Ending::Reset => VerdictKind::LockedOut,
    };
    prop_assert_eq!(ended.kind, expected);
    Ok(())
}

#[test]
fn classifier_judges_any_server_answer() {
    let strategy = (
        prop::collection::vec(server_record(), 0..3),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        1usize..80,
        prop::sample::select(vec![Ending::Closed, Ending::Reset, Ending::ScriptEnded]),
    );
    check(
        "classifier_judges_any_server_answer",
        file!(),
        strategy,
        |(records, flips, step, how)| {
            let mut bytes = records.concat();
            for (at, value) in flips {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
            }
            check_tls_server(&bytes, step, how)
        },
    );
}
