//! What TLS servers answer a ClientHello, legal and not, as the `tls` dialect reads it through
//! the interface the runner uses: cipher suites and groups by their IANA names whatever the
//! code (#5).

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
