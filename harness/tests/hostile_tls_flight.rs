//! A catalogue of hostile or merely odd TLS servers after their ServerHello, each run live over
//! loopback against a scripted hello: silence, closes and resets partway through the flight,
//! endless messages that bring no verdict closer, absurd lengths, garbage where certificates
//! and key exchanges belong, weak parameters against a client's constraints, and TLS 1.3
//! servers whose encrypted flight the harness opens with its own key share (the fake server
//! does X25519 or P-256 with ring against the share it finds in the ClientHello, and seals
//! its records with the handshake key it derives). Each must end in the verdict the flight
//! gives within the step deadline, with bounded memory: never a panic, never a hang.

#[path = "common/heap.rs"]
mod heap;
#[path = "common/hostile.rs"]
mod hostile;

use harness::case::{Case, parse_case};
use harness::dialect;
use harness::dialect::tls::handshake::{
    CERTIFICATE, CERTIFICATE_REQUEST, CERTIFICATE_STATUS, CERTIFICATE_VERIFY, ENCRYPTED_EXTENSIONS,
    FINISHED, SERVER_HELLO_DONE, SERVER_KEY_EXCHANGE,
};
use harness::dialect::tls::hello;
use harness::dialect::tls::record::{ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE};
use harness::verdict::VerdictKind;
use hostile::{Bounds, Outcome, measure};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::digest;
use ring::hkdf::{self, KeyType, Prk};
use ring::rand::SystemRandom;
use rstest::rstest;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The harness holds at most one record (18 KiB) and one handshake message (128 KiB) of what
/// the server sends.
const BOUNDS: Bounds = Bounds {
    step_timeout: Duration::from_secs(1),
    margin: Duration::from_millis(700),
    transcript_limit: 4096,
    heap_limit: 1 << 20,
    hang: Duration::from_secs(4),
};
/// The most a fake server streams, however long the harness goes on reading: 100 MiB.
const STREAM_CAP: usize = 100 << 20;

const DHE_RSA: u16 = 0x009E; // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
const ECDHE_RSA: u16 = 0xC02F; // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
const AES_128_GCM: u16 = 0x1301; // TLS_AES_128_GCM_SHA256
const X25519: u16 = 0x001D;
const SECP256R1: u16 = 0x0017;
const SECP384R1: u16 = 0x0018;
const SECP521R1: u16 = 0x0019;
const X448: u16 = 0x001E;
const FFDHE2048: u16 = 0x0100;

const TLS12_HELLO: &str = "hello versions=TLSv1.2 ciphers=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 groups=x25519,secp256r1 sni={host}";
/// Its key share is x25519 alone (the first group with one); the other groups are offered.
const TLS13_HELLO: &str = "hello versions=TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256 groups=x25519,secp256r1,secp384r1,ffdhe2048 sni={host}";
/// A key share on secp256r1 alone.
const TLS13_P256_HELLO: &str =
    "hello versions=TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256 groups=secp256r1 sni={host}";

/// The client a case plays: its hello and its constraints.
#[derive(Debug, Clone, Copy)]
enum Client {
    Tls12,
    /// Refuses DH groups under 2048 bits, like today's browsers.
    Tls12MinDh2048,
    Tls12MinRsa4096,
    Tls12RequiresSha2,
    Tls13,
    Tls13MinRsa4096,
    Tls13P256,
    /// A recorded hello with shares on ffdhe2048 and x25519.
    Tls13Ffdhe,
    Tls13FfdheMinDh3072,
}

impl Client {
    fn case(self) -> Case {
        let ffdhe = ffdhe_hello_step();
        let (hello, variables): (&str, &[(&str, &str)]) = match self {
            Client::Tls12 => (TLS12_HELLO, &[]),
            Client::Tls12MinDh2048 => (TLS12_HELLO, &[("min_dh_bits", "2048")]),
            Client::Tls12MinRsa4096 => (TLS12_HELLO, &[("min_rsa_bits", "4096")]),
            Client::Tls12RequiresSha2 => (TLS12_HELLO, &[("requires_sha2", "true")]),
            Client::Tls13 => (TLS13_HELLO, &[]),
            Client::Tls13MinRsa4096 => (TLS13_HELLO, &[("min_rsa_bits", "4096")]),
            Client::Tls13P256 => (TLS13_P256_HELLO, &[]),
            Client::Tls13Ffdhe => (&ffdhe, &[]),
            Client::Tls13FfdheMinDh3072 => (&ffdhe, &[("min_dh_bits", "3072")]),
        };
        case(hello, variables)
    }
}

/// A recorded TLS 1.3 ClientHello (`replay HEX`) with key shares on ffdhe2048 and x25519:
/// the harness replaces the x25519 one with its own and sends the ffdhe2048 one as it is.
fn ffdhe_hello_step() -> String {
    let ciphers = vec16(&AES_128_GCM.to_be_bytes());
    let groups = vec16(&[FFDHE2048.to_be_bytes(), X25519.to_be_bytes()].concat());
    let mut x25519 = vec![0u8; 32];
    x25519[0] = 9;
    let shares = [
        FFDHE2048.to_be_bytes().to_vec(),
        vec16(&[0x02; 256]),
        X25519.to_be_bytes().to_vec(),
        vec16(&x25519),
    ]
    .concat();
    let extensions = [
        extension(10, &groups),
        extension(13, &vec16(&[0x08, 0x04, 0x04, 0x03])),
        extension(43, &[2, 3, 4]),
        extension(51, &vec16(&shares)),
    ]
    .concat();
    let body = [
        vec![3, 3],
        vec![0x5a; 32],
        vec8(&[0xa5; 32]),
        ciphers,
        vec8(&[0]),
        vec16(&extensions),
    ]
    .concat();
    let hello = handshake(1, &body);
    format!(
        "replay {}",
        hex::encode([vec![22, 3, 1], vec16(&hello)].concat())
    )
}

fn case(hello: &str, variables: &[(&str, &str)]) -> Case {
    let mut text = format!("[[step]]\nsend = \"{hello}\"\n");
    if !variables.is_empty() {
        text.push_str("\n[variables]\n");
        for (name, value) in variables {
            text.push_str(&format!("{name} = \"{value}\"\n"));
        }
    }
    parse_case(
        Path::new("hostile-flight.toml"),
        &text,
        &BTreeSet::new(),
        dialect::by_name("tls").unwrap(),
    )
    .unwrap()
}

// Wire format.

fn u24(n: usize) -> [u8; 3] {
    let b = (n as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

fn vec8(data: &[u8]) -> Vec<u8> {
    [&[data.len() as u8][..], data].concat()
}

fn vec16(data: &[u8]) -> Vec<u8> {
    [&(data.len() as u16).to_be_bytes()[..], data].concat()
}

fn vec24(data: &[u8]) -> Vec<u8> {
    [&u24(data.len())[..], data].concat()
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    [&[kind][..], &vec24(body)].concat()
}

/// One record; its fragment may be any length, the harness's limit included.
fn record(content_type: u8, fragment: &[u8]) -> Vec<u8> {
    [&[content_type, 3, 3][..], &vec16(fragment)].concat()
}

/// `bytes` of `content_type` as records of at most `size` bytes each.
fn records(content_type: u8, bytes: &[u8], size: usize) -> Vec<u8> {
    bytes
        .chunks(size)
        .flat_map(|fragment| record(content_type, fragment))
        .collect()
}

/// Handshake messages in records of at most 16 KiB, as servers send them.
fn clear(messages: &[Vec<u8>]) -> Vec<u8> {
    records(HANDSHAKE, &messages.concat(), 1 << 14)
}

fn extension(kind: u16, data: &[u8]) -> Vec<u8> {
    [&kind.to_be_bytes()[..], &vec16(data)].concat()
}

fn server_hello(legacy: u16, session_id: &[u8], cipher: u16, extensions: &[u8]) -> Vec<u8> {
    let mut body = legacy.to_be_bytes().to_vec();
    body.extend([0x42; 32]);
    body.extend(vec8(session_id));
    body.extend(cipher.to_be_bytes());
    body.push(0);
    body.extend(vec16(extensions));
    handshake(2, &body)
}

/// A TLS 1.2 ServerHello choosing `cipher`, with renegotiation_info as OpenSSL sends it.
fn tls12_hello(cipher: u16) -> Vec<u8> {
    server_hello(0x0303, &[], cipher, &extension(0xff01, &[0]))
}

fn alert(level: u8, description: u8) -> Vec<u8> {
    record(ALERT, &[level, description])
}

/// The tls-cutoff suite's test certificate: RSA 2048, sha256WithRSAEncryption.
fn test_cert() -> &'static [u8] {
    static CERT: OnceLock<Vec<u8>> = OnceLock::new();
    CERT.get_or_init(|| {
        CertificateDer::from_pem_file(servers_dir().join("test-cert.pem"))
            .unwrap()
            .to_vec()
    })
}

/// A small self-signed ECDSA P-256 certificate (a few hundred bytes).
fn tiny_cert() -> &'static [u8] {
    static CERT: OnceLock<Vec<u8>> = OnceLock::new();
    CERT.get_or_init(|| {
        rcgen::generate_simple_self_signed(vec!["a".to_string()])
            .unwrap()
            .cert
            .der()
            .to_vec()
    })
}

/// The test certificate relabelled as issued by another CA (`CN=localhosT`: a self-signed
/// certificate's own signature vouches for nothing and goes unchecked) and as signed with
/// sha1WithRSAEncryption, in its signed part and its outer signature algorithm alike (its
/// signature no longer verifies, which the harness does not check).
fn sha1_cert() -> &'static [u8] {
    static CERT: OnceLock<Vec<u8>> = OnceLock::new();
    CERT.get_or_init(|| {
        let sha256_with_rsa = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
        ];
        let mut der = test_cert().to_vec();
        let mut patched = 0;
        for at in 0..der.len() - sha256_with_rsa.len() {
            if der[at..at + sha256_with_rsa.len()] == sha256_with_rsa {
                der[at + sha256_with_rsa.len() - 1] = 0x05; // sha1WithRSAEncryption
                patched += 1;
            }
        }
        assert_eq!(patched, 2, "the signature algorithm appears twice");
        // The issuer comes before the subject: its common name is the first `localhost`.
        let issuer = der.windows(9).position(|w| w == b"localhost").unwrap();
        der[issuer + 8] = b'T';
        der
    })
}

/// A Certificate of `count` tiny certificates and the rest of an ECDHE flight, in records, built
/// once and before the heap is measured: the fake server's own copy is not the harness's.
fn tiny_chain(count: usize) -> &'static [u8] {
    static CHAINS: OnceLock<Vec<(usize, Vec<u8>)>> = OnceLock::new();
    let chains = CHAINS.get_or_init(|| {
        CHAIN_SIZES
            .iter()
            .map(|&n| (n, clear(&ecdhe_rest(certificate12(&vec![tiny_cert(); n])))))
            .collect()
    });
    &chains.iter().find(|(n, _)| *n == count).unwrap().1
}

const CHAIN_SIZES: &[usize] = &[100, 240, 1000];

fn servers_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites/tls-cutoff/servers")
}

/// A TLS 1.2 Certificate message.
fn certificate12(ders: &[&[u8]]) -> Vec<u8> {
    let list: Vec<u8> = ders.iter().flat_map(|der| vec24(der)).collect();
    handshake(CERTIFICATE, &vec24(&list))
}

/// A TLS 1.3 Certificate message: an empty request context, no per-certificate extensions.
fn certificate13(ders: &[&[u8]]) -> Vec<u8> {
    let list: Vec<u8> = ders
        .iter()
        .flat_map(|der| [vec24(der), vec![0, 0]].concat())
        .collect();
    handshake(CERTIFICATE, &[vec![0], vec24(&list)].concat())
}

/// A DHE ServerKeyExchange with a prime of `prime_bytes`, signed rsa_pkcs1_sha256 (not
/// really).
fn ske_dh(prime_bytes: usize) -> Vec<u8> {
    let mut p = vec![0xff; prime_bytes];
    p[0] = 0xC9;
    let body = [
        vec16(&p),
        vec16(&[2]),
        vec16(&vec![7; prime_bytes]),
        vec![0x04, 0x01],
        vec16(&[1; 256]),
    ]
    .concat();
    handshake(SERVER_KEY_EXCHANGE, &body)
}

/// An ECDHE ServerKeyExchange on the named `group`, signed rsa_pkcs1_sha256 (not really).
fn ske_ecdh(group: u16) -> Vec<u8> {
    let point = if group == X25519 { 32 } else { 65 };
    let body = [
        vec![3],
        group.to_be_bytes().to_vec(),
        vec8(&vec![9; point]),
        vec![0x04, 0x01],
        vec16(&[1; 256]),
    ]
    .concat();
    handshake(SERVER_KEY_EXCHANGE, &body)
}

/// A CertificateRequest with `padding` bytes of certificate authorities.
fn certificate_request(padding: usize) -> Vec<u8> {
    let authorities = if padding == 0 {
        Vec::new()
    } else {
        vec16(&vec![0x30; padding])
    };
    let body = [vec8(&[1]), vec16(&[4, 1]), vec16(&authorities)].concat();
    handshake(CERTIFICATE_REQUEST, &body)
}

fn hello_done() -> Vec<u8> {
    handshake(SERVER_HELLO_DONE, &[])
}

/// `certificate` and the rest of an ECDHE flight after it: an x25519 ServerKeyExchange and
/// ServerHelloDone.
fn ecdhe_rest(certificate: Vec<u8>) -> [Vec<u8>; 3] {
    [certificate, ske_ecdh(X25519), hello_done()]
}

// TLS 1.3, the server's side.

/// An output length for HKDF-Expand.
struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label (RFC 8446 7.1).
fn expand_label(prk: &Prk, label: &str, context: &[u8], len: usize) -> Vec<u8> {
    let full = format!("tls13 {label}");
    let length = (len as u16).to_be_bytes();
    let label_len = [full.len() as u8];
    let context_len = [context.len() as u8];
    let info: [&[u8]; 5] = [&length, &label_len, full.as_bytes(), &context_len, context];
    let mut out = vec![0u8; len];
    prk.expand(&info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .unwrap();
    out
}

/// Seals the server's handshake records (TLS_AES_128_GCM_SHA256).
struct Sealer {
    key: LessSafeKey,
    iv: [u8; 12],
    sequence: u64,
}

impl Sealer {
    /// The server handshake traffic key (RFC 8446 7.1) from the shared secret and the
    /// ClientHello and ServerHello messages.
    fn new(shared: &[u8], transcript: &[u8]) -> Sealer {
        let zeros = [0u8; 32];
        let early = hkdf::Salt::new(hkdf::HKDF_SHA256, &zeros).extract(&zeros);
        let empty = digest::digest(&digest::SHA256, &[]);
        let derived = expand_label(&early, "derived", empty.as_ref(), 32);
        let secret = hkdf::Salt::new(hkdf::HKDF_SHA256, &derived).extract(shared);
        let hello_hash = digest::digest(&digest::SHA256, transcript);
        let traffic = expand_label(&secret, "s hs traffic", hello_hash.as_ref(), 32);
        let traffic = Prk::new_less_safe(hkdf::HKDF_SHA256, &traffic);
        let key = expand_label(&traffic, "key", &[], 16);
        let iv = expand_label(&traffic, "iv", &[], 12);
        Sealer {
            key: LessSafeKey::new(UnboundKey::new(&aead::AES_128_GCM, &key).unwrap()),
            iv: iv.try_into().unwrap(),
            sequence: 0,
        }
    }

    /// One application_data record holding `plain` of the inner `content_type`.
    fn seal(&mut self, content_type: u8, plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        buf.push(content_type);
        let len = buf.len() + aead::AES_128_GCM.tag_len();
        let header = [APPLICATION_DATA, 3, 3, (len >> 8) as u8, len as u8];
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.sequence.to_be_bytes()) {
            *n ^= s;
        }
        self.sequence += 1;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(header),
                &mut buf,
            )
            .unwrap();
        [&header[..], &buf].concat()
    }

    /// Handshake messages, one record each.
    fn messages(&mut self, messages: &[Vec<u8>]) -> Vec<u8> {
        messages
            .iter()
            .flat_map(|m| self.seal(HANDSHAKE, m))
            .collect()
    }
}

/// The TLS 1.3 ServerHello record answering the ClientHello `client` (a whole record) with
/// TLS_AES_128_GCM_SHA256, and the sealer for the flight after it. With `share` `None` the
/// server agrees a key with the client's first x25519 or secp256r1 share; else it sends
/// `share` as it is and holds no key.
fn tls13_answer(client: &[u8], share: Option<(u16, Vec<u8>)>) -> (Vec<u8>, Option<Sealer>) {
    let session_id = &client[44..44 + usize::from(client[43])];
    let (group, public, shared) = match share {
        Some((group, public)) => (group, public, None),
        None => {
            let (group, range) = hello::key_shares(client)
                .into_iter()
                .find(|(g, _)| [X25519, SECP256R1].contains(g))
                .expect("the hello has an x25519 or secp256r1 share");
            let alg = if group == X25519 {
                &agreement::X25519
            } else {
                &agreement::ECDH_P256
            };
            let private = EphemeralPrivateKey::generate(alg, &SystemRandom::new()).unwrap();
            let public = private.compute_public_key().unwrap().as_ref().to_vec();
            let shared = agreement::agree_ephemeral(
                private,
                &UnparsedPublicKey::new(alg, &client[range]),
                |s| s.to_vec(),
            )
            .expect("the harness's share is a valid key");
            (group, public, Some(shared))
        }
    };
    let key_share = [group.to_be_bytes().to_vec(), vec16(&public)].concat();
    let extensions = [extension(43, &[3, 4]), extension(51, &key_share)].concat();
    let message = server_hello(0x0303, session_id, AES_128_GCM, &extensions);
    let sealer = shared.map(|s| Sealer::new(&s, &[&client[5..], &message].concat()));
    (record(HANDSHAKE, &message), sealer)
}

/// A TLS 1.3 ServerHello with a key share the harness can use, and its sealer.
fn tls13_agreed(client: &[u8]) -> (Vec<u8>, Sealer) {
    let (hello, sealer) = tls13_answer(client, None);
    (hello, sealer.unwrap())
}

/// EncryptedExtensions, the test certificate and a CertificateVerify (rsa_pss_rsae_sha256,
/// its signature not checked by the harness).
fn tls13_flight() -> Vec<Vec<u8>> {
    vec![
        handshake(ENCRYPTED_EXTENSIONS, &vec16(&[])),
        certificate13(&[test_cert()]),
        handshake(
            CERTIFICATE_VERIFY,
            &[vec![0x08, 0x04], vec16(&[5; 256])].concat(),
        ),
    ]
}

// The fake servers.

#[derive(Debug, Clone, Copy)]
enum Hostile {
    // TLS 1.2: how the flight never ends.
    /// A ServerHello, then nothing.
    SilenceAfterHello,
    /// A ServerHello, then the connection closed.
    CloseAfterHello,
    /// A ServerHello, then the connection reset once the harness has read it.
    ResetAfterHello,
    /// A ServerHello, then the connection reset at once.
    ResetRightAfterHello,
    /// Half a Certificate message, then the connection closed.
    CloseMidCertificate,
    /// A ServerHello and a Certificate, then nothing.
    SilenceAfterCertificate,
    /// The Certificate one byte every 50 ms: bytes keep coming, the flight never ends.
    SlowDripCertificate,

    // TLS 1.2: messages and records that bring nothing closer, forever.
    /// CertificateRequests, one record each.
    EndlessCertificateRequests,
    /// CertificateRequests of 60 KB each (four records a message): megabytes read.
    EndlessBigCertificateRequests,
    /// CertificateStatus messages with a 120 KB OCSP response each (eight records a message).
    EndlessBigCertificateStatus,
    /// Small CertificateRequests packed into full 16 KiB records.
    PackedCertificateRequests,
    EndlessEmptyHandshakeRecords,
    EndlessWarningAlerts,
    EndlessHelloRequests,
    /// Whole, valid Certificate messages, again and again: none is idle, none decides.
    EndlessCertificates,

    // TLS 1.2: lengths and garbage.
    /// A Certificate announcing 2^24-1 bytes, then garbage streamed forever.
    HugeCertificate,
    /// A Certificate whose one certificate is not X.509.
    CertificateNotX509,
    /// A Certificate whose list says more than the message holds.
    CertificateListOverrun,
    /// A Certificate with no certificate in it, then the rest of an ECDHE flight.
    EmptyCertificate,
    /// 1000 small certificates in one Certificate (about 400 KB).
    ThousandTinyCertificates,
    /// 240 small certificates (about 80 KB: more than any ServerHello, less than OpenSSL's
    /// 100 KiB max_cert_list), then the rest of an ECDHE flight.
    CertificateOf80Kilobytes,
    /// 100 small certificates (about 35 KB), then the rest of an ECDHE flight.
    HundredTinyCertificates,
    /// The Certificate one byte a record, then the rest of an ECDHE flight.
    CertificateInOneByteRecords,
    /// A certificate signed with SHA-1, then the rest of an ECDHE flight.
    Sha1Certificate,
    /// A certificate signed with SHA-1, a second Certificate message with a SHA-256 one,
    /// then the rest of an ECDHE flight.
    Sha1CertificateThenAnother,
    /// A ServerKeyExchange holding only its DH prime.
    TruncatedDhKeyExchange,
    /// An ECDHE ServerKeyExchange with explicit curve parameters (type 1).
    ExplicitCurveKeyExchange,
    /// A record announcing 18433 bytes, over the 2^14 + 2048 limit.
    OversizedRecord,
    /// Text after the ServerHello.
    NotTls,
    /// Application data in the clear in the flight.
    ApplicationDataInTheClear,

    // TLS 1.2: parameters.
    /// DHE: the certificate, a 512-bit group, ServerHelloDone.
    Dh512,
    /// DHE: the certificate, a 512-bit group, then nothing.
    Dh512ThenSilence,
    /// DHE: the certificate and ServerHelloDone, no ServerKeyExchange at all.
    DheWithoutKeyExchange,
    /// An ECDHE ServerKeyExchange on secp521r1, which the client never offered.
    EcdheOnUnofferedCurve,
    /// ServerHelloDone straight after the ServerHello: no certificate, no key exchange.
    HelloDoneOnly,
    /// An ECDHE ServerKeyExchange and ServerHelloDone, no Certificate.
    KeyExchangeWithoutCertificate,
    /// Certificate, ServerKeyExchange (x25519), CertificateStatus, CertificateRequest and
    /// ServerHelloDone, all in one record.
    WholeFlightInOneRecord,
    /// A second ServerHello amid a whole ECDHE flight.
    SecondServerHello,

    // TLS 1.2: endings.
    FatalAlert,
    CloseNotify,
    /// An alert record of three bytes.
    MalformedAlert,
    /// ChangeCipherSpec after the ServerHello: an abbreviated handshake, though the client
    /// offered no session to resume.
    ChangeCipherSpec,

    // TLS 1.3.
    /// A key share on secp384r1, which the client offers but holds no key for.
    UnheldGroup,
    /// A key share on x448, which the client never offered.
    UnofferedGroup,
    /// A key share on ffdhe2048.
    Ffdhe2048,
    /// An x25519 share of all zeros (a low-order point).
    ZeroX25519,
    /// An x25519 share of 31 bytes.
    ShortX25519,
    /// A good ServerHello, then 100 MiB of application_data records that do not open.
    EncryptedGarbage,
    /// A good ServerHello, then ChangeCipherSpec records forever.
    EndlessChangeCipherSpec,
    /// A good ServerHello, a ChangeCipherSpec, EncryptedExtensions, Certificate and
    /// CertificateVerify, as a server sends them.
    Tls13Flight,
    /// EncryptedExtensions, then Finished: no certificate (as after a PSK).
    Tls13FinishedWithoutCertificate,
    /// EncryptedExtensions, Certificate, CertificateVerify and Finished in one record, as
    /// OpenSSL sends them.
    Tls13FlightInOneRecord,
    /// The flight's messages split into encrypted records of 100 bytes.
    Tls13FlightInSmallRecords,
    /// A good ServerHello, then nothing.
    Tls13Silence,
    /// EncryptedExtensions, then the connection closed.
    Tls13CloseAfterEncryptedExtensions,
    /// Encrypted EncryptedExtensions forever.
    EndlessEncryptedExtensions,
    /// Encrypted, valid Certificate messages forever.
    EndlessEncryptedCertificates,
    /// An encrypted Certificate announcing 2^24-1 bytes, then more records of it forever.
    HugeEncryptedCertificate,
    /// An encrypted record whose inner type is application_data.
    InnerApplicationData,
    /// An encrypted close_notify at warning level.
    EncryptedCloseNotify,
    /// An encrypted record of zeros only: no inner content type.
    NoInnerContentType,
    /// The first encrypted record sealed with sequence number 1.
    WrongSequence,
    /// The Certificate in the clear after a TLS 1.3 ServerHello.
    Tls13CertificateInTheClear,
}

/// Serves every connection with `hostile`, once it has the client's hello.
async fn fake_server(hostile: Hostile) -> SocketAddr {
    hostile::serve(move |mut stream| async move {
        if let Some(client) = read_client_hello(&mut stream).await {
            behave(hostile, stream, client).await;
        }
    })
    .await
}

/// The client's hello record, whole.
async fn read_client_hello(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).await.ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    stream.read_exact(&mut body).await.ok()?;
    Some([&header[..], &body].concat())
}

async fn then_wait(s: &mut TcpStream, bytes: &[u8]) {
    let _ = s.write_all(bytes).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
}

async fn then_close(s: &mut TcpStream, bytes: &[u8]) {
    let _ = s.write_all(bytes).await;
    let _ = s.shutdown().await;
}

/// Writes `head`, then what `next` makes again and again (pausing `pause` between) until the
/// client goes away or [`STREAM_CAP`] bytes have gone; then holds the connection open.
async fn endless(
    s: &mut TcpStream,
    head: &[u8],
    mut next: impl FnMut() -> Vec<u8>,
    pause: Option<Duration>,
) {
    if s.write_all(head).await.is_err() {
        return;
    }
    while hostile::STREAMED.load(Ordering::Relaxed) < STREAM_CAP {
        let chunk = next();
        if s.write_all(&chunk).await.is_err() {
            return;
        }
        hostile::STREAMED.fetch_add(chunk.len(), Ordering::Relaxed);
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
}

/// `chunk` again and again.
fn again(chunk: Vec<u8>) -> impl FnMut() -> Vec<u8> {
    move || chunk.clone()
}

async fn behave(hostile: Hostile, mut stream: TcpStream, client: Vec<u8>) {
    let s = &mut stream;
    let fast = None;
    let ecdhe = clear(&[tls12_hello(ECDHE_RSA)]);
    let dhe = clear(&[tls12_hello(DHE_RSA)]);
    let cert = certificate12(&[test_cert()]);
    match hostile {
        Hostile::SilenceAfterHello => then_wait(s, &ecdhe).await,
        Hostile::CloseAfterHello => then_close(s, &ecdhe).await,
        Hostile::ResetAfterHello => {
            let _ = s.write_all(&ecdhe).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            s.set_zero_linger().unwrap();
        }
        Hostile::ResetRightAfterHello => {
            let _ = s.write_all(&ecdhe).await;
            s.set_zero_linger().unwrap();
        }
        Hostile::CloseMidCertificate => {
            then_close(
                s,
                &[ecdhe, clear(&[cert[..cert.len() / 2].to_vec()])].concat(),
            )
            .await;
        }
        Hostile::SilenceAfterCertificate => then_wait(s, &[ecdhe, clear(&[cert])].concat()).await,
        Hostile::SlowDripCertificate => {
            let mut bytes = records(HANDSHAKE, &cert, 1).into_iter();
            let mut next = move || bytes.by_ref().take(6).collect::<Vec<u8>>();
            endless(s, &ecdhe, &mut next, Some(Duration::from_millis(50))).await;
        }
        Hostile::EndlessCertificateRequests => {
            endless(s, &ecdhe, again(clear(&[certificate_request(0)])), fast).await;
        }
        Hostile::EndlessBigCertificateRequests => {
            endless(
                s,
                &ecdhe,
                again(clear(&[certificate_request(60_000)])),
                fast,
            )
            .await;
        }
        Hostile::EndlessBigCertificateStatus => {
            let status = handshake(
                CERTIFICATE_STATUS,
                &[vec![1], vec24(&vec![0x30; 120_000])].concat(),
            );
            endless(s, &ecdhe, again(clear(&[status])), fast).await;
        }
        Hostile::PackedCertificateRequests => {
            let packed = certificate_request(0).repeat(4 * 1366);
            endless(s, &ecdhe, again(records(HANDSHAKE, &packed, 1 << 14)), fast).await;
        }
        Hostile::EndlessEmptyHandshakeRecords => {
            endless(s, &ecdhe, again(record(HANDSHAKE, &[]).repeat(64)), fast).await;
        }
        Hostile::EndlessWarningAlerts => {
            // unrecognized_name, as a server unsure of its name warns.
            endless(s, &ecdhe, again(alert(1, 112).repeat(64)), fast).await;
        }
        Hostile::EndlessHelloRequests => {
            let hello_request = record(HANDSHAKE, &handshake(0, &[]));
            endless(s, &ecdhe, again(hello_request.repeat(64)), fast).await;
        }
        Hostile::EndlessCertificates => {
            endless(s, &ecdhe, again(clear(&vec![cert; 16])), fast).await;
        }
        Hostile::HugeCertificate => {
            let head = [ecdhe, record(HANDSHAKE, &[CERTIFICATE, 0xff, 0xff, 0xff])].concat();
            endless(s, &head, again(record(HANDSHAKE, &[0x5a; 1 << 14])), fast).await;
        }
        Hostile::CertificateNotX509 => {
            let garbage: &[u8] = b"-----BEGIN CERTIFICATE----- this is not DER";
            then_wait(s, &[ecdhe, clear(&[certificate12(&[garbage])])].concat()).await;
        }
        Hostile::CertificateListOverrun => {
            let overrun = handshake(CERTIFICATE, &[&u24(5000)[..], &vec24(test_cert())].concat());
            then_wait(s, &[ecdhe, clear(&[overrun])].concat()).await;
        }
        Hostile::EmptyCertificate => {
            then_wait(s, &[ecdhe, clear(&ecdhe_rest(certificate12(&[])))].concat()).await;
        }
        Hostile::ThousandTinyCertificates => {
            let _ = s.write_all(&ecdhe).await;
            then_wait(s, tiny_chain(1000)).await;
        }
        Hostile::CertificateOf80Kilobytes => {
            let _ = s.write_all(&ecdhe).await;
            then_wait(s, tiny_chain(240)).await;
        }
        Hostile::HundredTinyCertificates => {
            let _ = s.write_all(&ecdhe).await;
            then_wait(s, tiny_chain(100)).await;
        }
        Hostile::CertificateInOneByteRecords => {
            let flight = [
                records(HANDSHAKE, &cert, 1),
                clear(&[ske_ecdh(X25519), hello_done()]),
            ]
            .concat();
            then_wait(s, &[ecdhe, flight].concat()).await;
        }
        Hostile::Sha1Certificate => {
            let flight = clear(&ecdhe_rest(certificate12(&[sha1_cert()])));
            then_wait(s, &[ecdhe, flight].concat()).await;
        }
        Hostile::Sha1CertificateThenAnother => {
            let flight = clear(&[
                certificate12(&[sha1_cert()]),
                cert,
                ske_ecdh(X25519),
                hello_done(),
            ]);
            then_wait(s, &[ecdhe, flight].concat()).await;
        }
        Hostile::TruncatedDhKeyExchange => {
            let full = ske_dh(256);
            let cut = handshake(SERVER_KEY_EXCHANGE, &full[4..4 + 2 + 256]);
            then_wait(s, &[dhe, clear(&[cert, cut])].concat()).await;
        }
        Hostile::ExplicitCurveKeyExchange => {
            let explicit = handshake(SERVER_KEY_EXCHANGE, &[1, 0x17, 0, 1, 2, 3]);
            then_wait(s, &[ecdhe, clear(&[cert, explicit])].concat()).await;
        }
        Hostile::OversizedRecord => {
            then_wait(
                s,
                &[ecdhe, record(HANDSHAKE, &[0; (1 << 14) + 2049])].concat(),
            )
            .await;
        }
        Hostile::NotTls => {
            then_wait(
                s,
                &[&ecdhe[..], b"HTTP/1.1 400 Bad Request\r\n\r\n"].concat(),
            )
            .await;
        }
        Hostile::ApplicationDataInTheClear => {
            then_wait(s, &[ecdhe, record(APPLICATION_DATA, b"hello")].concat()).await;
        }
        Hostile::Dh512 => {
            then_wait(s, &[dhe, clear(&[cert, ske_dh(64), hello_done()])].concat()).await;
        }
        Hostile::Dh512ThenSilence => {
            then_wait(s, &[dhe, clear(&[cert, ske_dh(64)])].concat()).await;
        }
        Hostile::DheWithoutKeyExchange => {
            then_wait(s, &[dhe, clear(&[cert, hello_done()])].concat()).await;
        }
        Hostile::EcdheOnUnofferedCurve => {
            let flight = clear(&[cert, ske_ecdh(SECP521R1), hello_done()]);
            then_wait(s, &[ecdhe, flight].concat()).await;
        }
        Hostile::HelloDoneOnly => then_wait(s, &[ecdhe, clear(&[hello_done()])].concat()).await,
        Hostile::KeyExchangeWithoutCertificate => {
            let flight = clear(&[ske_ecdh(X25519), hello_done()]);
            then_wait(s, &[ecdhe, flight].concat()).await;
        }
        Hostile::WholeFlightInOneRecord => {
            let flight = [
                tls12_hello(ECDHE_RSA),
                cert,
                ske_ecdh(X25519),
                handshake(CERTIFICATE_STATUS, &[1, 0, 0, 0]),
                certificate_request(0),
                hello_done(),
            ]
            .concat();
            then_wait(s, &record(HANDSHAKE, &flight)).await;
        }
        Hostile::SecondServerHello => {
            let second = clear(&[cert, tls12_hello(DHE_RSA), ske_ecdh(X25519), hello_done()]);
            then_wait(s, &[ecdhe, second].concat()).await;
        }
        Hostile::FatalAlert => then_wait(s, &[ecdhe, alert(2, 40)].concat()).await,
        Hostile::CloseNotify => then_wait(s, &[ecdhe, alert(1, 0)].concat()).await,
        Hostile::MalformedAlert => {
            then_wait(s, &[ecdhe, record(ALERT, &[2, 40, 0])].concat()).await
        }
        Hostile::ChangeCipherSpec => {
            then_wait(s, &[ecdhe, record(CHANGE_CIPHER_SPEC, &[1])].concat()).await;
        }

        Hostile::UnheldGroup => {
            let share = [vec![4], vec![0x33; 96]].concat();
            then_wait(s, &tls13_answer(&client, Some((SECP384R1, share))).0).await;
        }
        Hostile::UnofferedGroup => {
            then_wait(s, &tls13_answer(&client, Some((X448, vec![0x33; 56]))).0).await;
        }
        Hostile::Ffdhe2048 => {
            then_wait(
                s,
                &tls13_answer(&client, Some((FFDHE2048, vec![0x33; 256]))).0,
            )
            .await;
        }
        Hostile::ZeroX25519 => {
            then_wait(s, &tls13_answer(&client, Some((X25519, vec![0; 32]))).0).await;
        }
        Hostile::ShortX25519 => {
            then_wait(s, &tls13_answer(&client, Some((X25519, vec![9; 31]))).0).await;
        }
        Hostile::EncryptedGarbage => {
            let (hello, _) = tls13_agreed(&client);
            let garbage = record(APPLICATION_DATA, &[0x5a; (1 << 14) + 256]);
            endless(s, &hello, again(garbage), fast).await;
        }
        Hostile::EndlessChangeCipherSpec => {
            let (hello, _) = tls13_agreed(&client);
            let ccs = record(CHANGE_CIPHER_SPEC, &[1]).repeat(64);
            endless(s, &hello, again(ccs), fast).await;
        }
        Hostile::Tls13Flight => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let ccs = record(CHANGE_CIPHER_SPEC, &[1]);
            then_wait(s, &[hello, ccs, sealer.messages(&tls13_flight())].concat()).await;
        }
        Hostile::Tls13FinishedWithoutCertificate => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let flight = sealer.messages(&[
                handshake(ENCRYPTED_EXTENSIONS, &vec16(&[])),
                handshake(FINISHED, &[7; 32]),
            ]);
            then_wait(s, &[hello, flight].concat()).await;
        }
        Hostile::Tls13FlightInOneRecord => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let mut flight = tls13_flight();
            flight.push(handshake(FINISHED, &[7; 32]));
            let one = sealer.seal(HANDSHAKE, &flight.concat());
            then_wait(s, &[hello, one].concat()).await;
        }
        Hostile::Tls13FlightInSmallRecords => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let flight: Vec<u8> = tls13_flight()
                .concat()
                .chunks(100)
                .flat_map(|piece| sealer.seal(HANDSHAKE, piece))
                .collect();
            then_wait(s, &[hello, flight].concat()).await;
        }
        Hostile::Tls13Silence => then_wait(s, &tls13_agreed(&client).0).await,
        Hostile::Tls13CloseAfterEncryptedExtensions => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let ee = sealer.messages(&[handshake(ENCRYPTED_EXTENSIONS, &vec16(&[]))]);
            then_close(s, &[hello, ee].concat()).await;
        }
        Hostile::EndlessEncryptedExtensions => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let ee = handshake(ENCRYPTED_EXTENSIONS, &vec16(&[]));
            endless(
                s,
                &hello,
                move || sealer.messages(&vec![ee.clone(); 16]),
                fast,
            )
            .await;
        }
        Hostile::EndlessEncryptedCertificates => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let ee = sealer.messages(&[handshake(ENCRYPTED_EXTENSIONS, &vec16(&[]))]);
            let chain = certificate13(&[test_cert()]);
            let next = move || sealer.messages(&vec![chain.clone(); 16]);
            endless(s, &[hello, ee].concat(), next, fast).await;
        }
        Hostile::HugeEncryptedCertificate => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let head = [
                hello,
                sealer.seal(HANDSHAKE, &[CERTIFICATE, 0xff, 0xff, 0xff]),
            ]
            .concat();
            let next = move || sealer.seal(HANDSHAKE, &[0x5a; 1 << 14]);
            endless(s, &head, next, fast).await;
        }
        Hostile::InnerApplicationData => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let data = sealer.seal(APPLICATION_DATA, b"GET / HTTP/1.1\r\n");
            then_wait(s, &[hello, data].concat()).await;
        }
        Hostile::EncryptedCloseNotify => {
            let (hello, mut sealer) = tls13_agreed(&client);
            let ee = sealer.messages(&[handshake(ENCRYPTED_EXTENSIONS, &vec16(&[]))]);
            then_wait(s, &[hello, ee, sealer.seal(ALERT, &[1, 0])].concat()).await;
        }
        Hostile::NoInnerContentType => {
            let (hello, mut sealer) = tls13_agreed(&client);
            // A record of zeros: the "content type" sealed is 0, which is padding.
            then_wait(s, &[hello, sealer.seal(0, &[0; 16])].concat()).await;
        }
        Hostile::WrongSequence => {
            let (hello, mut sealer) = tls13_agreed(&client);
            sealer.sequence = 1;
            then_wait(s, &[hello, sealer.messages(&tls13_flight())].concat()).await;
        }
        Hostile::Tls13CertificateInTheClear => {
            let (hello, _) = tls13_agreed(&client);
            then_wait(
                s,
                &[hello, clear(&[certificate13(&[test_cert()])])].concat(),
            )
            .await;
        }
    }
}

/// Runs `client`'s case against a fake server behaving as `hostile`, alone.
fn run(client: Client, hostile: Hostile) -> Outcome {
    let prepare = || {
        let case = client.case();
        // Made once, before measuring: what the fake servers send is not the harness's growth.
        for &count in CHAIN_SIZES {
            tiny_chain(count);
        }
        sha1_cert();
        case
    };
    let outcome = measure(&BOUNDS, prepare, || fake_server(hostile));
    println!(
        "{hostile:?} against {client:?}: {} at {} in {:.0?}; the server streamed {} KiB, the heap grew by at most {} KiB; {}",
        outcome.run.verdict.kind,
        outcome.run.verdict.stage,
        outcome.elapsed,
        outcome.streamed / 1024,
        outcome.peak / 1024,
        outcome.run.verdict.reason
    );
    outcome
}

/// No verdict waits for the deadline: the harness decides as soon as the bytes are in.
const AT_ONCE: bool = false;
/// The verdict comes at the deadline: the flight never ended.
const AT_DEADLINE: bool = true;

#[rstest]
// 1, 2: the flight never ends. Silence is an error at the deadline (the harness cannot tell
// what the client would have seen); a close or reset is what a client sees as a lockout.
#[case::silence_after_hello(
    Client::Tls12,
    Hostile::SilenceAfterHello,
    VerdictKind::Error,
    "ServerHello",
    AT_DEADLINE,
    "within 1s"
)]
#[case::close_after_hello(
    Client::Tls12,
    Hostile::CloseAfterHello,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server closed the connection after its ServerHello, before its flight ended"
)]
#[case::reset_after_hello(
    Client::Tls12,
    Hostile::ResetAfterHello,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server reset the connection after its ServerHello, before its flight ended"
)]
#[case::reset_right_after_hello(
    Client::Tls12,
    Hostile::ResetRightAfterHello,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server reset the connection after its ServerHello, before its flight ended"
)]
#[case::close_mid_certificate(
    Client::Tls12,
    Hostile::CloseMidCertificate,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server closed the connection after its ServerHello, before its flight ended"
)]
#[case::silence_after_certificate(
    Client::Tls12,
    Hostile::SilenceAfterCertificate,
    VerdictKind::Error,
    "ServerHello",
    AT_DEADLINE,
    "within 1s"
)]
// Bytes keep coming, one record every 50 ms; the flight never ends.
#[case::slow_drip_certificate(
    Client::Tls12,
    Hostile::SlowDripCertificate,
    VerdictKind::Error,
    "ServerHello",
    AT_DEADLINE,
    "within 1s"
)]
// 3: more than 32 records (or messages) that bring nothing closer.
#[case::endless_certificate_requests(
    Client::Tls12,
    Hostile::EndlessCertificateRequests,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 34 records without a decision: 33 records or messages in them brought none closer"
)]
#[case::endless_big_certificate_requests(
    Client::Tls12,
    Hostile::EndlessBigCertificateRequests,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 133 records without a decision: 33 records or messages in them brought none closer"
)]
#[case::packed_certificate_requests(
    Client::Tls12,
    Hostile::PackedCertificateRequests,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 2 records without a decision: 1365 records or messages in them brought none closer"
)]
#[case::endless_empty_handshake_records(
    Client::Tls12,
    Hostile::EndlessEmptyHandshakeRecords,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 34 records without a decision: 33 records or messages in them brought none closer"
)]
#[case::endless_warning_alerts(
    Client::Tls12,
    Hostile::EndlessWarningAlerts,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 34 records without a decision: 33 records or messages in them brought none closer"
)]
#[case::endless_hello_requests(
    Client::Tls12,
    Hostile::EndlessHelloRequests,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 34 records without a decision: 33 records or messages in them brought none closer"
)]
#[case::endless_big_certificate_status(
    Client::Tls12,
    Hostile::EndlessBigCertificateStatus,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 265 records without a decision: 33 records or messages in them brought none closer"
)]
// A second Certificate tells a client nothing more: idle, like the rest.
#[case::endless_certificates(
    Client::Tls12,
    Hostile::EndlessCertificates,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "records without a decision"
)]
// 4, 5: lengths and garbage.
#[case::huge_certificate(
    Client::Tls12,
    Hostile::HugeCertificate,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "a handshake message of type 11 announces 16777215 bytes, over the 131072-byte limit"
)]
#[case::certificate_not_x509(
    Client::Tls12,
    Hostile::CertificateNotX509,
    VerdictKind::Error,
    "Certificate",
    AT_ONCE,
    "the server's Certificate cannot be read: certificate 1: not X.509"
)]
#[case::certificate_list_overrun(
    Client::Tls12,
    Hostile::CertificateListOverrun,
    VerdictKind::Error,
    "Certificate",
    AT_ONCE,
    "the server's Certificate cannot be read: the certificate list overruns the message"
)]
#[case::empty_certificate(
    Client::Tls12,
    Hostile::EmptyCertificate,
    VerdictKind::LockedOut,
    "ServerHelloDone",
    AT_ONCE,
    "the server's flight has no Certificate, which TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 needs"
)]
#[case::thousand_tiny_certificates(
    Client::Tls12,
    Hostile::ThousandTinyCertificates,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "bytes, over the 131072-byte limit"
)]
// Not hostile: a long chain. OpenSSL clients take up to 100 KiB (max_cert_list).
#[case::certificate_of_80_kilobytes(
    Client::Tls12,
    Hostile::CertificateOf80Kilobytes,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.2 with TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ECDSA secp256r1 certificate (ecdsa-with-SHA256, chain of 240), ECDHE x25519, signed rsa_pkcs1_sha256"
)]
#[case::certificate_in_one_byte_records(
    Client::Tls12,
    Hostile::CertificateInOneByteRecords,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.2 with TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pkcs1_sha256"
)]
#[case::sha1_certificate(
    Client::Tls12,
    Hostile::Sha1Certificate,
    VerdictKind::Warned,
    "ServerHello",
    AT_ONCE,
    "RSA 2048-bit certificate (sha1WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pkcs1_sha256: a certificate is signed with sha1WithRSAEncryption"
)]
#[case::sha1_certificate_against_requires_sha2(
    Client::Tls12RequiresSha2,
    Hostile::Sha1Certificate,
    VerdictKind::LockedOut,
    "Certificate",
    AT_ONCE,
    "a certificate of the server's is signed with sha1WithRSAEncryption, and the client requires SHA-2"
)]
// A second Certificate is passed over: the first one, signed with SHA-1, is what is judged.
#[case::sha1_certificate_then_another(
    Client::Tls12,
    Hostile::Sha1CertificateThenAnother,
    VerdictKind::Warned,
    "ServerHello",
    AT_ONCE,
    "RSA 2048-bit certificate (sha1WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pkcs1_sha256: a certificate is signed with sha1WithRSAEncryption"
)]
#[case::hundred_tiny_certificates(
    Client::Tls12,
    Hostile::HundredTinyCertificates,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "ECDSA secp256r1 certificate (ecdsa-with-SHA256, chain of 100), ECDHE x25519, signed rsa_pkcs1_sha256"
)]
#[case::truncated_dh_key_exchange(
    Client::Tls12,
    Hostile::TruncatedDhKeyExchange,
    VerdictKind::Error,
    "ServerKeyExchange",
    AT_ONCE,
    "the server's ServerKeyExchange cannot be read: the DH generator is cut short"
)]
#[case::explicit_curve_key_exchange(
    Client::Tls12,
    Hostile::ExplicitCurveKeyExchange,
    VerdictKind::Error,
    "ServerKeyExchange",
    AT_ONCE,
    "ECDH parameters of curve type 1, not a named curve"
)]
#[case::oversized_record(
    Client::Tls12,
    Hostile::OversizedRecord,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "unparseable reply: TLS record announces 18433 bytes, over the 18432-byte limit"
)]
#[case::not_tls(
    Client::Tls12,
    Hostile::NotTls,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "unparseable reply: not a TLS record: 48545450"
)]
#[case::application_data_in_the_clear(
    Client::Tls12,
    Hostile::ApplicationDataInTheClear,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "unexpected record from the server"
)]
// 6: the DH group against the client's minimum and the suite's policy.
#[case::dh512_against_min_dh_2048(
    Client::Tls12MinDh2048,
    Hostile::Dh512,
    VerdictKind::LockedOut,
    "ServerKeyExchange",
    AT_ONCE,
    "the server's DH group has 512 bits, under the client's minimum of 2048"
)]
#[case::dh512_unconstrained(
    Client::Tls12,
    Hostile::Dh512,
    VerdictKind::Warned,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.2 with TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), DHE 512-bit group, signed rsa_pkcs1_sha256: the DH group has 512 bits, under 2048"
)]
#[case::dh512_then_silence_against_min_dh_2048(
    Client::Tls12MinDh2048,
    Hostile::Dh512ThenSilence,
    VerdictKind::LockedOut,
    "ServerKeyExchange",
    AT_ONCE,
    "the server's DH group has 512 bits, under the client's minimum of 2048"
)]
#[case::dh512_then_silence(
    Client::Tls12,
    Hostile::Dh512ThenSilence,
    VerdictKind::Error,
    "ServerHello",
    AT_DEADLINE,
    "within 1s"
)]
// A client aborts on a flight without a message its suite needs (unexpected_message).
#[case::dhe_without_key_exchange(
    Client::Tls12MinDh2048,
    Hostile::DheWithoutKeyExchange,
    VerdictKind::LockedOut,
    "ServerHelloDone",
    AT_ONCE,
    "the server's flight has no ServerKeyExchange, which TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 needs"
)]
// 10: other parameters.
#[case::ecdhe_on_unoffered_curve(
    Client::Tls12,
    Hostile::EcdheOnUnofferedCurve,
    VerdictKind::LockedOut,
    "ServerKeyExchange",
    AT_ONCE,
    "the server chose curve secp521r1, which the client never offered"
)]
#[case::hello_done_only(
    Client::Tls12,
    Hostile::HelloDoneOnly,
    VerdictKind::LockedOut,
    "ServerHelloDone",
    AT_ONCE,
    "the server's flight has no ServerKeyExchange, which TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 needs"
)]
#[case::key_exchange_without_certificate(
    Client::Tls12,
    Hostile::KeyExchangeWithoutCertificate,
    VerdictKind::LockedOut,
    "ServerHelloDone",
    AT_ONCE,
    "the server's flight has no Certificate, which TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 needs"
)]
#[case::whole_flight_in_one_record(
    Client::Tls12,
    Hostile::WholeFlightInOneRecord,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.2 with TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pkcs1_sha256"
)]
#[case::rsa_key_under_min_rsa_4096(
    Client::Tls12MinRsa4096,
    Hostile::WholeFlightInOneRecord,
    VerdictKind::LockedOut,
    "Certificate",
    AT_ONCE,
    "the server's RSA key has 2048 bits, under the client's minimum of 4096"
)]
#[case::second_server_hello(
    Client::Tls12,
    Hostile::SecondServerHello,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.2 with TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pkcs1_sha256"
)]
// 7, 8: alerts, and ChangeCipherSpec as in an abbreviated handshake.
#[case::fatal_alert(
    Client::Tls12,
    Hostile::FatalAlert,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "alert handshake_failure (fatal) after the ServerHello, before its flight ended"
)]
#[case::close_notify(
    Client::Tls12,
    Hostile::CloseNotify,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server closed the session (close_notify) after the ServerHello, before its flight ended"
)]
#[case::malformed_alert(
    Client::Tls12,
    Hostile::MalformedAlert,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "malformed alert record from the server"
)]
#[case::change_cipher_spec(
    Client::Tls12,
    Hostile::ChangeCipherSpec,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server went to ChangeCipherSpec as if resuming a session, but the client offered none to resume"
)]
// 9: TLS 1.3.
#[case::unheld_group(
    Client::Tls13,
    Hostile::UnheldGroup,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server's key share is on secp384r1, for which the client sent no share"
)]
#[case::unoffered_group(
    Client::Tls13,
    Hostile::UnofferedGroup,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server's key share is on x448, for which the client sent no share"
)]
#[case::ffdhe2048_without_a_share(
    Client::Tls13,
    Hostile::Ffdhe2048,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server's key share is on ffdhe2048, for which the client sent no share"
)]
#[case::ffdhe2048(
    Client::Tls13Ffdhe,
    Hostile::Ffdhe2048,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.3 with TLS_AES_128_GCM_SHA256, DHE 2048-bit group (the certificate is encrypted and the harness holds no ffdhe2048 key: decided at the ServerHello)"
)]
#[case::ffdhe2048_against_min_dh_3072(
    Client::Tls13FfdheMinDh3072,
    Hostile::Ffdhe2048,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server's DH group has 2048 bits, under the client's minimum of 3072"
)]
#[case::zero_x25519(
    Client::Tls13,
    Hostile::ZeroX25519,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server's x25519 key share is not a valid public key"
)]
#[case::short_x25519(
    Client::Tls13,
    Hostile::ShortX25519,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server's x25519 key share is not a valid public key"
)]
#[case::encrypted_garbage(
    Client::Tls13,
    Hostile::EncryptedGarbage,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server's flight cannot be read: encrypted record 1 does not open with the handshake key"
)]
#[case::endless_change_cipher_spec(
    Client::Tls13,
    Hostile::EndlessChangeCipherSpec,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 34 records without a decision: 33 records or messages in them brought none closer"
)]
#[case::tls13_flight(
    Client::Tls13,
    Hostile::Tls13Flight,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.3 with TLS_AES_128_GCM_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pss_rsae_sha256"
)]
#[case::tls13_flight_on_secp256r1(
    Client::Tls13P256,
    Hostile::Tls13Flight,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.3 with TLS_AES_128_GCM_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE secp256r1, signed rsa_pss_rsae_sha256"
)]
#[case::tls13_rsa_key_under_min_rsa_4096(
    Client::Tls13MinRsa4096,
    Hostile::Tls13Flight,
    VerdictKind::LockedOut,
    "Certificate",
    AT_ONCE,
    "the server's RSA key has 2048 bits, under the client's minimum of 4096"
)]
#[case::tls13_finished_without_certificate(
    Client::Tls13,
    Hostile::Tls13FinishedWithoutCertificate,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.3 with TLS_AES_128_GCM_SHA256, ECDHE x25519"
)]
#[case::tls13_flight_in_one_record(
    Client::Tls13,
    Hostile::Tls13FlightInOneRecord,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.3 with TLS_AES_128_GCM_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pss_rsae_sha256"
)]
#[case::tls13_flight_in_small_records(
    Client::Tls13,
    Hostile::Tls13FlightInSmallRecords,
    VerdictKind::Admitted,
    "ServerHello",
    AT_ONCE,
    "negotiated TLSv1.3 with TLS_AES_128_GCM_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pss_rsae_sha256"
)]
#[case::tls13_silence(
    Client::Tls13,
    Hostile::Tls13Silence,
    VerdictKind::Error,
    "ServerHello",
    AT_DEADLINE,
    "within 1s"
)]
#[case::tls13_close_after_encrypted_extensions(
    Client::Tls13,
    Hostile::Tls13CloseAfterEncryptedExtensions,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server closed the connection after its ServerHello, before its flight ended"
)]
#[case::endless_encrypted_extensions(
    Client::Tls13,
    Hostile::EndlessEncryptedExtensions,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server sent 34 records without a decision: 33 records or messages in them brought none closer"
)]
#[case::endless_encrypted_certificates(
    Client::Tls13,
    Hostile::EndlessEncryptedCertificates,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "records without a decision"
)]
#[case::huge_encrypted_certificate(
    Client::Tls13,
    Hostile::HugeEncryptedCertificate,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "a handshake message of type 11 announces 16777215 bytes, over the 131072-byte limit"
)]
#[case::inner_application_data(
    Client::Tls13,
    Hostile::InnerApplicationData,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "an encrypted record of type 23 in the server's flight"
)]
#[case::encrypted_close_notify(
    Client::Tls13,
    Hostile::EncryptedCloseNotify,
    VerdictKind::LockedOut,
    "ServerHello",
    AT_ONCE,
    "the server closed the session (close_notify) after the ServerHello, before its flight ended"
)]
#[case::no_inner_content_type(
    Client::Tls13,
    Hostile::NoInnerContentType,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server's flight cannot be read: an encrypted record with no content type"
)]
#[case::wrong_sequence(
    Client::Tls13,
    Hostile::WrongSequence,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "the server's flight cannot be read: encrypted record 1 does not open with the handshake key"
)]
#[case::tls13_certificate_in_the_clear(
    Client::Tls13,
    Hostile::Tls13CertificateInTheClear,
    VerdictKind::Error,
    "ServerHello",
    AT_ONCE,
    "a handshake record in the clear after a TLS 1.3 ServerHello"
)]
fn hostile_flight_gets_a_verdict_in_time_with_bounded_memory(
    #[case] client: Client,
    #[case] hostile: Hostile,
    #[case] kind: VerdictKind,
    #[case] stage: &str,
    #[case] at_deadline: bool,
    #[case] reason: &str,
) {
    let outcome = run(client, hostile);
    let verdict = &outcome.run.verdict;
    assert_eq!(verdict.kind, kind, "{verdict:?}");
    assert!(verdict.reason.contains(reason), "{verdict:?}");
    assert_eq!(verdict.stage, stage, "{verdict:?}");
    outcome.assert_bounded(&BOUNDS, at_deadline);
    // Where the server streams on, it outran what the harness may keep, so the bound above
    // means something.
    if matches!(
        hostile,
        Hostile::EndlessBigCertificateRequests | Hostile::EndlessBigCertificateStatus
    ) {
        outcome.assert_streamed_over(BOUNDS.heap_limit);
    }
}

/// A real TLS 1.3 server (rustls) answering the harness's hello: its whole flight is read,
/// through the CertificateVerify, with the harness's own x25519 share.
#[test]
fn a_rustls_servers_flight_is_read_to_its_certificate_verify() {
    let prepare = || {
        case(
            "hello versions=TLSv1.2,TLSv1.3 ciphers=TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 groups=x25519,secp256r1 sni=localhost",
            &[],
        )
    };
    let run = measure(&BOUNDS, prepare, || {
        hostile::serve(|mut stream| async move {
            let Some(hello) = read_client_hello(&mut stream).await else {
                return;
            };
            let certs = vec![CertificateDer::from(test_cert().to_vec())];
            let key = PrivateKeyDer::from_pem_file(servers_dir().join("test-key.pem")).unwrap();
            let config = rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
            let mut server = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            server.read_tls(&mut &hello[..]).unwrap();
            server.process_new_packets().unwrap();
            let mut out = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut out).unwrap();
            }
            then_wait(&mut stream, &out).await;
        })
    })
    .run;
    let verdict = run.verdict;
    assert_eq!(verdict.kind, VerdictKind::Admitted, "{verdict:?}");
    // rustls picks its own preferred PSS scheme among those the hello offers.
    assert!(
        verdict.reason.starts_with(
            "negotiated TLSv1.3 with TLS_AES_256_GCM_SHA384, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), ECDHE x25519, signed rsa_pss_rsae_sha"
        ),
        "{verdict:?}"
    );
    assert!(
        run.duration < BOUNDS.step_timeout,
        "took {:?}",
        run.duration
    );
}
