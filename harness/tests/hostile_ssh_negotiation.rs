//! Fake SSH servers that get negotiation wrong, against a scripted client (identification,
//! KEXINIT, `kex`): a server with no common algorithm that answers anyway, a reply of another
//! method's shape, a reply that does not decode as its method's, a wrong guess
//! (first_kex_packet_follows) followed by the real reply, and packets that strict key exchange
//! (the Terrapin mitigation) forbids. Each must end in the verdict a real client would reach,
//! named, before the deadline.

#[path = "common/heap.rs"]
mod heap;
// These servers stream nothing endless: what the catalogue measures of floods goes unused.
#[allow(dead_code)]
#[path = "common/hostile.rs"]
mod hostile;

use harness::case::{Case, parse_case};
use harness::dialect;
use harness::dialect::ssh::framing::packet;
use harness::dialect::ssh::wire::{self, KexInit};
use harness::direction::Direction;
use harness::verdict::VerdictKind;
use hostile::{Bounds, Outcome, measure};
use rstest::rstest;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUNDS: Bounds = Bounds {
    step_timeout: Duration::from_millis(1500),
    margin: Duration::from_millis(500),
    transcript_limit: 64 * 1024,
    heap_limit: 1 << 20,
    hang: Duration::from_secs(10),
};

const STRICT_CLIENT: &str = "kex-strict-c-v00@openssh.com";
const STRICT_SERVER: &str = "kex-strict-s-v00@openssh.com";

/// A client offering curve25519 only (and strict key exchange when `strict`).
fn client(strict: bool) -> Case {
    let kex = if strict {
        format!("curve25519-sha256,{STRICT_CLIENT}")
    } else {
        "curve25519-sha256".to_string()
    };
    let text = format!(
        r#"
[[step]]
send = "SSH-2.0-Test_1.0"
[[step]]
send = "kexinit kex={kex} hostkey=ssh-ed25519 ciphers=aes128-ctr macs=hmac-sha2-256"
[[step]]
send = "kex"
"#
    );
    parse_case(
        Path::new("negotiating-client.toml"),
        &text,
        &BTreeSet::new(),
        dialect::by_name("ssh").unwrap(),
    )
    .unwrap()
}

const BANNER: &[u8] = b"SSH-2.0-Hostile_1.0\r\n";

/// A server KEXINIT listing `kex` and agreeing with the client on every other class.
fn kexinit(kex: &[&str], first_kex_follows: bool) -> Vec<u8> {
    let one = |name: &str| vec![name.to_string()];
    let payload = KexInit {
        kex: kex.iter().map(|k| k.to_string()).collect(),
        host_key: one("ssh-ed25519"),
        cipher_c2s: one("aes128-ctr"),
        cipher_s2c: one("aes128-ctr"),
        mac_c2s: one("hmac-sha2-256"),
        mac_s2c: one("hmac-sha2-256"),
        compression_c2s: one("none"),
        compression_s2c: one("none"),
        first_kex_follows,
    }
    .encode([7; 16]);
    packet(&payload)
}

fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A reply of type `kind` carrying a host key, a `value_len`-byte public value and a
/// signature (none of them real).
fn reply(kind: u8, value_len: usize) -> Vec<u8> {
    let mut reply = vec![kind];
    let mut host_key = Vec::new();
    string(&mut host_key, b"ssh-ed25519");
    string(&mut host_key, &[1; 32]);
    string(&mut reply, &host_key);
    string(&mut reply, &vec![2; value_len]);
    let mut signature = Vec::new();
    string(&mut signature, b"ssh-ed25519");
    string(&mut signature, &[3; 64]);
    string(&mut reply, &signature);
    packet(&reply)
}

fn ignore() -> Vec<u8> {
    let mut payload = vec![wire::IGNORE];
    string(&mut payload, b"padding");
    packet(&payload)
}

#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// Offers only diffie-hellman-group1-sha1, then sends a curve25519 reply all the same.
    NoCommonKexAnswersAnyway,
    /// Agrees on curve25519, then answers with a group-exchange reply (33).
    GexReplyAfterCurve25519,
    /// Agrees on curve25519, then sends a 31 whose public key is a 256-byte DH value.
    DhShapedReplyForCurve25519,
    /// Prefers ecdh-sha2-nistp256 (which the client does not offer) and says a guessed packet
    /// follows: a packet that does not decode, then the real reply.
    WrongGuessThenReply,
    /// Agrees on curve25519 with first_kex_packet_follows, its guess right: the reply.
    RightGuess,
    /// Offers strict key exchange and sends IGNORE between its KEXINIT and its reply.
    StrictIgnoreBeforeReply,
    /// Offers strict key exchange and sends IGNORE before its KEXINIT.
    StrictIgnoreBeforeKexinit,
    /// IGNORE before the reply without strict key exchange: allowed.
    IgnoreWithoutStrict,
}

/// Reads until the client's identification line and the whole packet after it are in.
async fn read_client_kexinit(stream: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = seen.iter().position(|&b| b == b'\n') {
            let rest = &seen[end + 1..];
            if rest.len() >= 4 {
                let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                if rest.len() >= 4 + length {
                    return true;
                }
            }
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

async fn behave(hostile: Hostile, mut stream: TcpStream, strict: bool) {
    let curve = "curve25519-sha256";
    let offered = |kex: &'static str| {
        if strict {
            vec![kex, STRICT_SERVER]
        } else {
            vec![kex]
        }
    };
    let (before, after): (Vec<u8>, Vec<u8>) = match hostile {
        Hostile::NoCommonKexAnswersAnyway => (
            kexinit(&["diffie-hellman-group1-sha1"], false),
            reply(wire::KEX_REPLY, 32),
        ),
        Hostile::GexReplyAfterCurve25519 => {
            (kexinit(&offered(curve), false), reply(wire::GEX_REPLY, 256))
        }
        Hostile::DhShapedReplyForCurve25519 => {
            (kexinit(&offered(curve), false), reply(wire::KEX_REPLY, 256))
        }
        Hostile::WrongGuessThenReply => (
            kexinit(&["ecdh-sha2-nistp256", curve], true),
            [packet(&[wire::KEX_REPLY, 0, 0]), reply(wire::KEX_REPLY, 32)].concat(),
        ),
        Hostile::RightGuess => (kexinit(&[curve], true), reply(wire::KEX_REPLY, 32)),
        Hostile::StrictIgnoreBeforeReply | Hostile::IgnoreWithoutStrict => (
            kexinit(&offered(curve), false),
            [ignore(), reply(wire::KEX_REPLY, 32)].concat(),
        ),
        Hostile::StrictIgnoreBeforeKexinit => (
            [ignore(), kexinit(&offered(curve), false)].concat(),
            reply(wire::KEX_REPLY, 32),
        ),
    };
    let s = &mut stream;
    if s.write_all(&[BANNER, &before].concat()).await.is_err() || !read_client_kexinit(s).await {
        return;
    }
    let _ = s.write_all(&after).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
}

#[rstest]
#[case::no_common_kex_answers_anyway(
    Hostile::NoCommonKexAnswersAnyway,
    false,
    VerdictKind::LockedOut,
    "no common key exchange method: the client offers curve25519-sha256; the server diffie-hellman-group1-sha1",
    Some("KEXINIT kex=diffie-hellman-group1-sha1")
)]
#[case::gex_reply_after_curve25519(
    Hostile::GexReplyAfterCurve25519,
    false,
    VerdictKind::Error,
    "curve25519-sha256 negotiated, so KEX_ECDH_REPLY (31) was expected; KEX_DH_GEX_REPLY (33) came instead",
    None
)]
#[case::dh_shaped_reply_for_curve25519(
    Hostile::DhShapedReplyForCurve25519,
    false,
    VerdictKind::Error,
    "KEX_ECDH_REPLY (31) for curve25519-sha256 that does not decode: its public key is 256 bytes, not the 32 bytes curve25519-sha256 has",
    None
)]
#[case::wrong_guess_then_reply(
    Hostile::WrongGuessThenReply,
    false,
    VerdictKind::Admitted,
    "the server answered the key exchange: kex curve25519-sha256",
    Some("KEX_REPLY")
)]
#[case::right_guess(
    Hostile::RightGuess,
    false,
    VerdictKind::Admitted,
    "the server answered the key exchange: kex curve25519-sha256",
    Some("KEX_REPLY")
)]
#[case::strict_ignore_before_reply(
    Hostile::StrictIgnoreBeforeReply,
    true,
    VerdictKind::LockedOut,
    "strict KEX violation: both sides offered strict key exchange (kex-strict-c-v00@openssh.com, kex-strict-s-v00@openssh.com) and it sent IGNORE (2) before NEWKEYS; OpenSSH's client disconnects here (\"strict KEX violation: unexpected packet type 2 (seqnr 1)\")",
    Some("IGNORE")
)]
#[case::strict_ignore_before_kexinit(
    Hostile::StrictIgnoreBeforeKexinit,
    true,
    VerdictKind::LockedOut,
    "its KEXINIT was not its first packet: IGNORE (2) came before it; OpenSSH's client disconnects here (\"strict KEX violation: KEXINIT was not the first packet\")",
    Some("IGNORE")
)]
#[case::ignore_without_strict(
    Hostile::IgnoreWithoutStrict,
    false,
    VerdictKind::Admitted,
    "the server answered the key exchange: kex curve25519-sha256",
    Some("KEX_REPLY")
)]
fn a_server_that_negotiates_wrongly_gets_the_verdict_a_real_client_reaches(
    #[case] hostile: Hostile,
    #[case] strict: bool,
    #[case] kind: VerdictKind,
    #[case] reason: &str,
    #[case] decided_by: Option<&str>,
) {
    let outcome = measure(
        &BOUNDS,
        || client(strict),
        || hostile::serve(move |stream| behave(hostile, stream, strict)),
    );
    let Outcome { run, .. } = &outcome;
    let verdict = &run.verdict;
    assert_eq!(verdict.kind, kind, "{hostile:?}: {verdict:?}");
    assert!(verdict.reason.contains(reason), "{hostile:?}: {verdict:?}");
    if let Some(decided_by) = decided_by {
        let by = verdict.decided_by.as_deref().unwrap_or_default();
        assert!(by.contains(decided_by), "{hostile:?}: decided by {by:?}");
    }
    // Each is decided when the message arrives, not at the deadline.
    outcome.assert_bounded(&BOUNDS, false);
    let client_sent: Vec<String> = run
        .transcript
        .entries
        .iter()
        .filter(|e| e.direction == Direction::Client)
        .map(|e| format!("{:?}", e.data))
        .collect();
    if matches!(hostile, Hostile::NoCommonKexAnswersAnyway) {
        // The client disconnects at the server's KEXINIT: no key-exchange init goes out.
        assert_eq!(client_sent.len(), 2, "{client_sent:?}");
    }
}
