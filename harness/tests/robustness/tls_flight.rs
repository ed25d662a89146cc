//! The server's flight past its ServerHello: the Certificate, ServerKeyExchange and TLS 1.3
//! record readers never panic on any bytes, and a conversation fed an admitting ServerHello
//! and then anything decides as the flight allows (an admission on the ServerHello, a lockout
//! at the message that broke a constraint or at a close, or an error).

use crate::campaign::check;
use crate::feed::feed;
use harness::dialect::tls::tls13::ServerHandshakeKey;
use harness::dialect::tls::{certificate, key_exchange};
use harness::dialect::{Ending, Settings, text_step};
use harness::verdict::VerdictKind;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Suites of every ServerKeyExchange form: DHE, ECDHE, PSK, anonymous, export, RSA.
const CIPHERS: &[u16] = &[
    0x009E, 0xC02F, 0x00AA, 0xC037, 0x0034, 0xC018, 0x0062, 0x0003, 0x009C, 0x1301,
];

#[test]
fn flight_readers_never_panic() {
    let strategy = (
        prop::collection::vec(any::<u8>(), 0..400),
        prop::sample::select(CIPHERS.to_vec()),
        prop::sample::select(vec![0x0300u16, 0x0301, 0x0303, 0x0304]),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..64),
    );
    check(
        "flight_readers_never_panic",
        file!(),
        strategy,
        |(body, cipher, version, tls13, secret)| {
            let _ = certificate::read(&body, tls13);
            let _ = key_exchange::read(&body, cipher, version);
            if let Ok(mut key) = ServerHandshakeKey::derive(0x1301, &secret, &body) {
                let _ = key.open(&body);
            }
            Ok(())
        },
    );
}

const OFFER: &str = "versions=TLSv1.2 ciphers=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 groups=x25519,secp256r1";

/// A handshake message of `kind` with `body`.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend(body);
    m
}

/// What may follow a ServerHello: a Certificate, ServerKeyExchange, CertificateRequest,
/// ServerHelloDone or any message, with any body, as handshake records of any size; an alert;
/// a ChangeCipherSpec.
fn flight_record() -> impl Strategy<Value = Vec<u8>> {
    let kind = prop::sample::select(vec![11u8, 12, 13, 14, 22, 0, 99]);
    prop_oneof![
        4 => (kind, prop::collection::vec(any::<u8>(), 0..300), 1usize..400).prop_map(
            |(kind, body, size)| {
                let m = message(kind, if kind == 14 { &[] } else { &body });
                let mut out = Vec::new();
                for fragment in m.chunks(size) {
                    out.extend([22, 3, 3]);
                    out.extend((fragment.len() as u16).to_be_bytes());
                    out.extend(fragment);
                }
                out
            }
        ),
        1 => (1u8..3, any::<u8>()).prop_map(|(level, d)| vec![21, 3, 3, 0, 2, level, d]),
        1 => Just(vec![20, 3, 3, 0, 1, 1]),
    ]
}

#[test]
fn a_flight_decides_as_it_allows_or_locks_out_at_a_close() {
    let strategy = (
        prop::sample::select(vec![0x009Eu16, 0xC02F]),
        prop::collection::vec(flight_record(), 0..6),
        1usize..60,
        prop::option::of(prop::sample::select(vec!["512", "1024", "2048", "4096"])),
    );
    check(
        "a_flight_decides_as_it_allows_or_locks_out_at_a_close",
        file!(),
        strategy,
        |(cipher, flight, step, min_dh)| {
            let dialect = harness::dialect::by_name("tls").unwrap();
            let mut conversation = dialect.conversation(None, &Settings::none());
            let hello = text_step(dialect, &format!("hello {OFFER}")).unwrap();
            let mut values = BTreeMap::new();
            if let Some(bits) = min_dh {
                values.insert("min_dh_bits".to_string(), bits.to_string());
            }
            conversation.send(hello.as_ref(), &values).unwrap();
            let server_hello = crate::common::tls_messages::server_hello_message(
                0x0303, cipher, None, None, false,
            );
            let mut bytes = vec![22, 3, 3];
            bytes.extend((server_hello.len() as u16).to_be_bytes());
            bytes.extend(&server_hello);
            bytes.extend(flight.concat());
            let verdict = std::cell::RefCell::new(None);
            feed(
                bytes.chunks(step),
                5 + (1 << 14) + 2048,
                |buf| {
                    if verdict.borrow().is_some() {
                        buf.clear();
                        return Ok(None);
                    }
                    dialect
                        .frame(harness::direction::Direction::Server, buf)
                        .map(|raw| raw.map(|raw| conversation.receive(raw)))
                },
                |received| {
                    if received.verdict.is_some() {
                        *verdict.borrow_mut() = received.verdict;
                    }
                    Ok(())
                },
            )?;
            match verdict.into_inner() {
                Some(v) => match v.kind {
                    VerdictKind::Admitted | VerdictKind::Warned => {
                        let by = v.decided_by.unwrap_or_default();
                        prop_assert!(by.starts_with("ServerHello TLSv1.2 "), "{by}");
                    }
                    VerdictKind::LockedOut => prop_assert!(
                        [
                            "Certificate",
                            "ServerKeyExchange",
                            "ServerHello",
                            "ServerHelloDone"
                        ]
                        .contains(&v.stage.as_str()),
                        "{} {}",
                        v.stage,
                        v.reason
                    ),
                    VerdictKind::Error => prop_assert!(!v.reason.is_empty()),
                    // Undecided is judge's alone.
                    other => prop_assert!(false, "{other:?} live: {}", v.reason),
                },
                None => {
                    let closed = conversation.ended(Ending::Closed);
                    prop_assert_eq!(closed.kind, VerdictKind::LockedOut, "{}", closed.reason);
                    prop_assert!(
                        closed.reason.contains("before its flight ended"),
                        "{}",
                        closed.reason
                    );
                }
            }
            Ok(())
        },
    );
}
