//! What TLS servers answer a ClientHello, legal and not, as the `tls` dialect reads it through
//! the interface the runner uses: cipher suites and groups by their IANA names whatever the
//! code (#5), a HelloRetryRequest reported with its version, suite and group (#7), and old
//! clients' hellos with the versions they offer (#8).

use bytes::{Bytes, BytesMut};
use harness::dialect::{self, Conversation, Dialect, Received, text_step};
use harness::direction::Direction;
use harness::verdict::{Verdict, VerdictKind};
use std::collections::BTreeMap;
use std::path::Path;

const HRR_RANDOM: &str = "CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C";

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

fn decided(hello: &str, server: &[u8]) -> Verdict {
    let (received, verdict) = answer(sent(hello).as_mut(), server);
    verdict.unwrap_or_else(|| panic!("no verdict after {received:?}"))
}

/// A ServerHello handshake message: `legacy` version, the suite, and the supported_versions
/// and key_share extensions when given; a HelloRetryRequest with `retry`.
fn server_hello(
    legacy: u16,
    cipher: u16,
    supported: Option<u16>,
    key_share: Option<u16>,
    retry: bool,
) -> Vec<u8> {
    let mut extensions = Vec::new();
    if let Some(v) = supported {
        extensions.extend([0, 43, 0, 2]);
        extensions.extend(v.to_be_bytes());
    }
    if let Some(g) = key_share {
        extensions.extend([0, 51, 0, 2]);
        extensions.extend(g.to_be_bytes());
    }
    let mut body = legacy.to_be_bytes().to_vec();
    if retry {
        body.extend(hex::decode(HRR_RANDOM).unwrap());
    } else {
        body.extend([0x42; 32]);
    }
    body.push(0);
    body.extend(cipher.to_be_bytes());
    body.push(0);
    body.extend((extensions.len() as u16).to_be_bytes());
    body.extend(extensions);
    handshake(2, &body)
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
        "negotiated TLSv1.2 with TLS_DHE_RSA_WITH_AES_256_CBC_SHA256: TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 is deprecated (_CBC_)"
    );
    assert_eq!(
        tls().describe(Direction::Client, &sending(hello).1),
        "ClientHello versions=TLSv1.2 ciphers=TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 groups=ffdhe2048 sni=localhost"
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
        assert_eq!(tls().describe(Direction::Client, &hello), described);
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
