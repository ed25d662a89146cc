//! What TLS servers answer a ClientHello, legal and not, as the `tls` dialect reads it through
//! the interface the runner uses: cipher suites and groups by their IANA names whatever the
//! code (#5), warning alerts passed over (#6a), a ServerHello reassembled from any split into
//! records (#6b), a choice the client never offered locked out (#6c), a HelloRetryRequest
//! reported with its version, suite and group (#7), and old clients' hellos with the versions
//! they offer (#8). Also: a server that streams handshake bytes forever ends as an error.

mod common;

use common::tls_messages::rest_of_flight;

use bytes::{Bytes, BytesMut};
use harness::case::parse_case;
use harness::dialect::{self, Conversation, Dialect, Received, text_step};
use harness::direction::Direction;
use harness::runner::{Settings, Target, drive};
use harness::verdict::{Verdict, VerdictKind};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const MODERN: &str = "hello versions=TLSv1.2,TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 groups=x25519,secp256r1 sni=localhost";

fn tls() -> &'static dyn Dialect {
    dialect::by_name("tls").unwrap()
}

/// A conversation (with tls-cutoff's deprecations, the defaults) that has sent `hello`, and
/// the bytes it sent.
fn sending(hello: &str) -> (Box<dyn Conversation>, Bytes) {
    let mut conversation = tls().conversation(None, &dialect::Settings::none());
    let step = text_step(tls(), hello).unwrap_or_else(|e| panic!("{hello}: {}", e.message));
    let bytes = conversation.send(step.as_ref(), &BTreeMap::new()).unwrap();
    (conversation, bytes)
}

fn sent(hello: &str) -> Box<dyn Conversation> {
    sending(hello).0
}

/// The server's bytes framed and handed over as the runner does, record by record, until one
/// decides: every message received, and the verdict if one came.
fn answer(conversation: &mut dyn Conversation, server: &[u8]) -> (Vec<Received>, Option<Verdict>) {
    let mut buf = BytesMut::from(server);
    let mut received = Vec::new();
    while let Some(raw) = tls().frame(Direction::Server, &mut buf).unwrap() {
        let r = conversation.receive(raw);
        let verdict = r.verdict.clone();
        received.push(r);
        if verdict.is_some() {
            return (received, verdict);
        }
    }
    (received, None)
}

/// The cipher suite of the ServerHello in `server` (handshake records and others).
fn negotiated_cipher(server: &[u8]) -> Option<u16> {
    let mut handshake = Vec::new();
    let mut rest = server;
    while let [kind, _, _, a, b, tail @ ..] = rest {
        let length = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        if *kind == 22 {
            handshake.extend(&tail[..length]);
        }
        rest = &tail[length..];
    }
    let at = handshake.iter().position(|b| *b == 2)?;
    let sid = usize::from(*handshake.get(at + 4 + 34)?);
    let cipher = handshake.get(at + 4 + 35 + sid..at + 4 + 37 + sid)?;
    Some(u16::from_be_bytes([cipher[0], cipher[1]]))
}

/// The server's bytes, then (if they decided nothing) the rest of a TLS 1.2 flight for the
/// suite its ServerHello chose.
fn decided(hello: &str, server: &[u8]) -> Verdict {
    let mut conversation = sent(hello);
    let (mut received, verdict) = answer(conversation.as_mut(), server);
    let verdict = verdict.or_else(|| {
        let flight = rest_of_flight(negotiated_cipher(server)?);
        let (more, verdict) = answer(conversation.as_mut(), &flight);
        received.extend(more);
        verdict
    });
    verdict.unwrap_or_else(|| panic!("no verdict after {received:?}"))
}

/// A ServerHello handshake message (a HelloRetryRequest with `retry`).
fn server_hello(
    legacy: u16,
    cipher: u16,
    supported: Option<u16>,
    key_share: Option<u16>,
    retry: bool,
) -> Vec<u8> {
    common::tls_messages::server_hello_message(legacy, cipher, supported, key_share, retry)
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut message = vec![kind];
    message.extend(&(body.len() as u32).to_be_bytes()[1..]);
    message.extend(body);
    message
}

/// Bytes of `content_type` as records of at most `size` bytes each.
fn records(content_type: u8, bytes: &[u8], size: usize) -> Vec<u8> {
    bytes
        .chunks(size)
        .flat_map(|fragment| {
            let mut record = vec![content_type, 3, 3];
            record.extend((fragment.len() as u16).to_be_bytes());
            record.extend(fragment);
            record
        })
        .collect()
}

fn alert(level: u8, description: u8) -> Vec<u8> {
    records(21, &[level, description], 2)
}

fn tls13_hello() -> Vec<u8> {
    server_hello(0x0303, 0x1301, Some(0x0304), Some(0x001D), false)
}

// #5

#[test]
fn a_suite_outside_the_old_name_table_is_named_and_warned() {
    let hello = "hello versions=TLSv1.2 ciphers=TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,0xCCAA groups=ffdhe2048 sni=localhost";
    let chosen = server_hello(0x0303, 0x006B, None, None, false);
    let verdict = decided(hello, &records(22, &chosen, 1000));
    assert_eq!(verdict.kind, VerdictKind::Warned, "{}", verdict.reason);
    assert_eq!(
        verdict.decided_by.as_deref(),
        Some("ServerHello TLSv1.2 TLS_DHE_RSA_WITH_AES_256_CBC_SHA256")
    );
    assert_eq!(
        verdict.reason,
        "negotiated TLSv1.2 with TLS_DHE_RSA_WITH_AES_256_CBC_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), DHE 2048-bit group, signed rsa_pss_rsae_sha256: TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 is deprecated (_CBC_)"
    );
    assert_eq!(
        tls().describe(Direction::Client, &sending(hello).1),
        "ClientHello versions=TLSv1.2 ciphers=TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 groups=ffdhe2048 sni=localhost ja4=t12d020500_fdee2023a79b_ea356d0be867"
    );
}

/// Java's recorded hello offers suites and groups the old table lacked: all are named now.
#[test]
fn a_real_clients_hello_reads_with_iana_names_only() {
    let capture: toml::Value = toml::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../captures/tls/java.toml"),
        )
        .unwrap(),
    )
    .unwrap();
    let hello = hex::decode(capture["message"][0]["hex"].as_str().unwrap()).unwrap();
    let described = tls().describe(Direction::Client, &hello);
    assert!(!described.contains("0x"), "{described}");
    for name in [
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        "groups=x25519,secp256r1,secp384r1,secp521r1,x448,ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192",
    ] {
        assert!(described.contains(name), "{name} in {described}");
    }
}

// #6a

#[test]
fn a_warning_alert_before_the_server_hello_is_passed_over() {
    let unrecognized_name = alert(1, 112);
    let server = [unrecognized_name.clone(), records(22, &tls13_hello(), 1000)].concat();
    let (received, verdict) = answer(sent(MODERN).as_mut(), &server);
    assert_eq!(received[0].text, "Alert warning unrecognized_name");
    assert_eq!(received[0].verdict, None, "a warning is not the answer");
    let verdict = verdict.unwrap();
    assert_eq!(verdict.kind, VerdictKind::Admitted, "{}", verdict.reason);
    assert_eq!(
        verdict.reason,
        "negotiated TLSv1.3 with TLS_AES_128_GCM_SHA256 (no key share: decided at the ServerHello)"
    );

    // A fatal alert, or the server closing its side, still ends it.
    let fatal = decided(MODERN, &alert(2, 40));
    assert_eq!(fatal.kind, VerdictKind::LockedOut);
    assert_eq!(
        fatal.reason,
        "alert handshake_failure (fatal) before the ServerHello"
    );
    let closing = decided(MODERN, &[unrecognized_name, alert(1, 0)].concat());
    assert_eq!(closing.kind, VerdictKind::LockedOut, "{}", closing.reason);
    // A warning and then the connection closed: what a client sees as a lockout.
    let mut conversation = sent(MODERN);
    assert_eq!(answer(conversation.as_mut(), &alert(1, 112)).1, None);
    let ended = conversation.ended(dialect::Ending::Closed);
    assert_eq!(
        (ended.kind, ended.reason.as_str()),
        (
            VerdictKind::LockedOut,
            "the server closed the connection without a ServerHello"
        )
    );
}

// #6b

#[test]
fn a_server_hello_split_across_records_is_reassembled() {
    let hello = server_hello(0x0303, 0xC02F, None, None, false);
    for size in 1..=hello.len() {
        let mut conversation = sent(MODERN);
        let (received, verdict) = answer(conversation.as_mut(), &records(22, &hello, size));
        assert!(
            verdict.is_none(),
            "records of {size}: decided before the flight ended"
        );
        let verdict = answer(conversation.as_mut(), &rest_of_flight(0xC02F))
            .1
            .unwrap_or_else(|| panic!("records of {size}: no verdict"));
        assert_eq!(verdict.kind, VerdictKind::Admitted, "records of {size}");
        assert_eq!(
            verdict.decided_by.as_deref(),
            Some("ServerHello TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            "records of {size}"
        );
        assert_eq!(received.len(), hello.len().div_ceil(size));
    }
    // One record holding a HelloRequest, the ServerHello and the messages after it.
    let many = [
        handshake(0, &[]),
        hello.clone(),
        rest_of_flight(0xC02F)[5..].to_vec(),
    ]
    .concat();
    let verdict = decided(MODERN, &records(22, &many, many.len()));
    assert_eq!(verdict.kind, VerdictKind::Admitted, "{}", verdict.reason);
    // Closed partway through it: the client never got its answer.
    let mut conversation = sent(MODERN);
    answer(conversation.as_mut(), &records(22, &hello[..30], 30));
    assert_eq!(
        conversation.ended(dialect::Ending::Closed).kind,
        VerdictKind::LockedOut
    );
}

#[test]
fn handshake_bytes_that_never_make_a_server_hello_end_as_an_error() {
    // A ServerHello announcing 16 MiB: refused at its header, nothing of it kept.
    let mut endless = vec![2, 0xFF, 0xFF, 0xFF];
    endless.extend([0; 16_000]);
    let verdict = decided(MODERN, &records(22, &endless, 16_000));
    assert_eq!(verdict.kind, VerdictKind::Error);
    assert!(verdict.reason.contains("over the"), "{}", verdict.reason);
    // HelloRequests, empty handshake records or warnings forever.
    for idle in [
        records(22, &handshake(0, &[]), 4),
        vec![22, 3, 3, 0, 0],
        alert(1, 112),
    ] {
        let stream = idle.repeat(1000);
        let (received, verdict) = answer(sent(MODERN).as_mut(), &stream);
        assert_eq!(verdict.map(|v| v.kind), Some(VerdictKind::Error));
        assert!(received.len() < 100, "{} records read", received.len());
    }
}

/// Served to every connection on a loopback port: reads the hello, then writes `server`.
async fn serve(server: impl Fn() -> Vec<u8> + Send + Sync + 'static, forever: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::sync::Arc::new(server);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let server = server.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                loop {
                    if stream.write_all(&server()).await.is_err() || !forever {
                        break;
                    }
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

async fn run(addr: SocketAddr, step_timeout: Duration) -> (Verdict, Duration) {
    let case = parse_case(
        Path::new("modern.toml"),
        &format!("[[step]]\nsend = \"{MODERN}\"\n"),
        &BTreeSet::new(),
        tls(),
    )
    .unwrap();
    let settings = Settings {
        step_timeout,
        ..Settings::default()
    };
    let started = Instant::now();
    let run = drive(
        &Target::plain(addr.to_string()),
        &case,
        &BTreeMap::new(),
        &settings,
    )
    .await;
    (run.verdict, started.elapsed())
}

#[tokio::test]
async fn through_the_runner_a_split_hello_after_a_warning_admits_and_an_endless_one_errs() {
    let legal = serve(
        || {
            [
                alert(1, 112),
                records(22, &server_hello(0x0303, 0xC02F, None, None, false), 7),
                rest_of_flight(0xC02F),
            ]
            .concat()
        },
        false,
    )
    .await;
    let (verdict, _) = run(legal, Duration::from_secs(5)).await;
    assert_eq!(verdict.kind, VerdictKind::Admitted, "{}", verdict.reason);

    // Handshake bytes streamed as fast as the socket takes them, never a whole message.
    let hostile = serve(|| records(22, &[2, 0xFF, 0xFF, 0xFF], 4).repeat(4000), true).await;
    let step_timeout = Duration::from_millis(800);
    let (verdict, took) = run(hostile, step_timeout).await;
    assert_eq!(verdict.kind, VerdictKind::Error, "{}", verdict.reason);
    assert!(took < step_timeout * 2, "took {took:?}");
    // Empty handshake records streamed forever.
    let idle = serve(|| [22, 3, 3, 0, 0].repeat(4000), true).await;
    let (verdict, took) = run(idle, step_timeout).await;
    assert_eq!(verdict.kind, VerdictKind::Error, "{}", verdict.reason);
    assert!(took < step_timeout * 2, "took {took:?}");
}

// #6c

#[test]
fn a_server_choosing_what_the_client_never_offered_locks_out() {
    let rc4 = server_hello(0x0303, 0x0005, None, None, false);
    let verdict = decided(MODERN, &records(22, &rc4, 1000));
    assert_eq!(verdict.kind, VerdictKind::LockedOut);
    assert_eq!(verdict.stage, "ServerHello");
    assert_eq!(
        verdict.reason,
        "the server chose TLS_RSA_WITH_RC4_128_SHA, which the client never offered"
    );

    let tls12_only = "hello versions=TLSv1.2 ciphers=TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    let verdict = decided(tls12_only, &records(22, &tls13_hello(), 1000));
    assert_eq!(verdict.kind, VerdictKind::LockedOut);
    assert_eq!(
        verdict.reason,
        "the server chose TLSv1.3, which the client never offered"
    );
    // Below what a client without supported_versions offers is its to accept.
    let tls11 = server_hello(0x0302, 0xC02F, None, None, false);
    let verdict = decided(tls12_only, &records(22, &tls11, 1000));
    assert_eq!(verdict.kind, VerdictKind::Warned, "{}", verdict.reason);
}

// #7

#[test]
fn a_hello_retry_request_names_its_version_suite_and_group() {
    let hello = "hello versions=TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384 groups=x25519,secp384r1";
    let retry = server_hello(0x0303, 0x1302, Some(0x0304), Some(0x0018), true);
    let verdict = decided(hello, &records(22, &retry, 1000));
    assert_eq!(verdict.kind, VerdictKind::Admitted);
    assert_eq!(verdict.stage, "HelloRetryRequest");
    assert_eq!(
        verdict.decided_by.as_deref(),
        Some("HelloRetryRequest TLSv1.3 TLS_AES_256_GCM_SHA384 secp384r1")
    );
    assert_eq!(
        verdict.reason,
        "the server asked for a retry with TLSv1.3, TLS_AES_256_GCM_SHA384 and a key share on secp384r1, which the client offers: its retry would proceed"
    );
    let unoffered = server_hello(0x0303, 0x1302, Some(0x0304), Some(0x0019), true);
    let verdict = decided(hello, &records(22, &unoffered, 1000));
    assert_eq!(verdict.kind, VerdictKind::LockedOut);
    assert!(verdict.reason.contains("TLSv1.3, TLS_AES_256_GCM_SHA384 and a key share on secp521r1, which the client does not offer"), "{}", verdict.reason);
}

// #8

/// A TLS 1.0 client's SSLv2-compatible hello.
fn sslv2_hello() -> Vec<u8> {
    let mut body = vec![1, 3, 1, 0, 6, 0, 0, 0, 16];
    body.extend([0, 0, 0x2F, 0x01, 0x00, 0x80]);
    body.extend([0xAB; 16]);
    let mut record = (0x8000 | body.len() as u16).to_be_bytes().to_vec();
    record.extend(body);
    record
}

/// A hello that ends after its compression methods, as SSLv3 and early TLS clients sent.
fn hello_without_extensions(version: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend([0x17; 32]);
    body.push(0);
    body.extend([0, 4, 0, 0x2F, 0, 0x0A]);
    body.extend([1, 0]);
    let mut record = vec![22, 3, (version & 0xFF) as u8];
    let message = handshake(1, &body);
    record.extend((message.len() as u16).to_be_bytes());
    record.extend(message);
    record
}

#[test]
fn old_hellos_show_the_versions_they_offer() {
    for (hello, versions, described) in [
        (
            sslv2_hello(),
            "TLSv1",
            "SSLv2-compatible ClientHello versions=TLSv1 ciphers=TLS_RSA_WITH_AES_128_CBC_SHA",
        ),
        (
            hello_without_extensions(0x0300),
            "SSLv3",
            "ClientHello versions=SSLv3 ciphers=TLS_RSA_WITH_AES_128_CBC_SHA,TLS_RSA_WITH_3DES_EDE_CBC_SHA groups=",
        ),
        (
            hello_without_extensions(0x0301),
            "TLSv1",
            "ClientHello versions=TLSv1 ciphers=TLS_RSA_WITH_AES_128_CBC_SHA,TLS_RSA_WITH_3DES_EDE_CBC_SHA groups=",
        ),
    ] {
        let identity = tls().recorded_identity(&[&hello]);
        assert_eq!(identity.versions.as_deref(), Some(versions), "{described}");
        let shown = tls().describe(Direction::Client, &hello);
        assert!(
            shown.starts_with(described) && shown.contains(" ja4=t"),
            "{shown}"
        );
    }
}

/// `harness import` names an old client's case after the version it offers.
#[test]
fn an_imported_old_client_is_named_after_its_version() {
    use harness::capture::pcapng::{Link, PcapWriter, TcpSession};
    let dir = tempfile::tempdir().unwrap();
    let mut packets = Vec::new();
    for (i, hello) in [hello_without_extensions(0x0300), sslv2_hello()]
        .into_iter()
        .enumerate()
    {
        let mut session = TcpSession::new(
            format!("10.0.0.1:{}", 40_000 + i).parse().unwrap(),
            "10.0.0.2:443".parse().unwrap(),
            1_000,
            9_000,
        );
        packets.extend(session.whole(&[
            (Direction::Client, &hello[..]),
            (Direction::Server, &alert(2, 70)[..]),
        ]));
    }
    let mut pcap = PcapWriter::new(Vec::new(), Link::Ethernet.linktype(), false).unwrap();
    for (i, p) in packets.iter().enumerate() {
        pcap.packet(1_000_000_000 * i as u64, &Link::Ethernet.frame(p))
            .unwrap();
    }
    let path = dir.path().join("old-clients.pcap");
    std::fs::write(&path, pcap.into_inner()).unwrap();
    let mut names = Vec::new();
    harness::capture::import(&path, Some(443), tls(), |id, case| {
        names.push(case.file_name(id));
        Ok(())
    })
    .unwrap();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with("-SSLv3.toml"), "{names:?}");
    assert!(names[1].ends_with("-TLSv1.toml"), "{names:?}");
}
