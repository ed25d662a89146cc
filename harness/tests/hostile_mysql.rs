//! A catalogue of misbehaving MySQL servers against scripted clients (a handshake in the
//! clear, with a password; an SSLRequest first): a greeting of 16 MiB packets continued past
//! the limit, garbage, silence before and after the greeting, an old protocol 9 greeting,
//! endless AuthMoreData and AuthSwitchRequests, an ERR with nothing in it, TLS refused with
//! garbage, and a reset. Each must end in the verdict the rules give (locked out only on an
//! ERR or a close after the handshake; an error wherever the harness cannot judge) within the
//! step deadline and bounded memory: never a panic, never a hang, never a false lockout.

#[path = "common/heap.rs"]
mod heap;
#[path = "common/hostile.rs"]
mod hostile;

use harness::case::{Case, parse_case};
use harness::dialect;
use harness::verdict::VerdictKind;
use hostile::{Bounds, measure};
use rstest::rstest;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The framer refuses a packet past 1 MiB at its header, so nothing here holds much.
const BOUNDS: Bounds = Bounds {
    step_timeout: Duration::from_millis(800),
    margin: Duration::from_millis(700),
    transcript_limit: 4096,
    heap_limit: 2 << 20,
    hang: Duration::from_millis(8000),
};

fn case(name: &str, text: &str) -> Case {
    parse_case(
        Path::new(name),
        text,
        &BTreeSet::new(),
        dialect::by_name("mysql").unwrap(),
    )
    .unwrap()
}

fn plain_client() -> Case {
    case(
        "plain-client.toml",
        "[variables]\npassword = \"pw\"\n[[step]]\nsend = \"handshake user=u plugin=mysql_native_password\"\n",
    )
}

fn tls_client() -> Case {
    case(
        "tls-client.toml",
        "[variables]\npassword = \"pw\"\nssl_mode = \"required\"\n[[step]]\nsend = \"ssl\"\n[[step]]\nsend = \"handshake user=u\"\n",
    )
}

fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_le_bytes()[..3].to_vec();
    out.push(seq);
    out.extend_from_slice(payload);
    out
}

fn greeting() -> Vec<u8> {
    let flags: u32 = (1 << 9) | (1 << 11) | (1 << 15) | (1 << 19);
    let mut g = vec![10];
    g.extend_from_slice(b"8.4.3\0\x01\x00\x00\x00abcdefgh\0");
    g.extend_from_slice(&(flags as u16).to_le_bytes());
    g.extend_from_slice(&[255, 2, 0]);
    g.extend_from_slice(&((flags >> 16) as u16).to_le_bytes());
    g.push(21);
    g.extend_from_slice(&[0; 10]);
    g.extend_from_slice(b"ijklmnopqrst\0mysql_native_password\0");
    packet(0, &g)
}

fn binary_garbage() -> Vec<u8> {
    (0..2048u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// Packets of 16 MiB − 1 bytes, each continued by the next, forever.
    EndlessContinuedPackets,
    /// Text that is not MySQL instead of a greeting.
    TextGarbage,
    /// Says nothing at all.
    SilentBeforeGreeting,
    /// Greets, then says nothing to the handshake.
    SilentAfterGreeting,
    /// A protocol 9 greeting (MySQL 3.x).
    Protocol9Greeting,
    /// Greets, then AuthMoreData 03 (fast authentication succeeded) forever, never OK.
    EndlessFastAuthOk,
    /// Greets, then asks for another plugin switch after every answer.
    EndlessAuthSwitches,
    /// Greets, then an ERR packet of one byte.
    EmptyErr,
    /// Greets, reads the SSLRequest, then answers the ClientHello with garbage.
    TlsAnsweredWithGarbage,
    /// Greets, reads the handshake, then resets the connection.
    ResetAfterHandshake,
}

impl Hostile {
    fn case(self) -> Case {
        match self {
            Hostile::TlsAnsweredWithGarbage => tls_client(),
            _ => plain_client(),
        }
    }
}

async fn read_packet(stream: &mut TcpStream) -> bool {
    let mut header = [0u8; 4];
    if stream.read_exact(&mut header).await.is_err() {
        return false;
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let mut body = vec![0u8; len.min(1 << 16)];
    stream.read_exact(&mut body).await.is_ok()
}

async fn answer_then_wait(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
}

async fn behave(hostile: Hostile, mut stream: TcpStream) {
    let s = &mut stream;
    match hostile {
        Hostile::EndlessContinuedPackets => {
            let chunk = vec![b'x'; 1 << 20];
            let mut seq = 0u8;
            loop {
                let header = [0xff, 0xff, 0xff, seq];
                if s.write_all(&header).await.is_err() {
                    return;
                }
                // 16 MiB − 1 bytes: fifteen whole chunks and one a byte short.
                for n in 0..16 {
                    let part = if n == 15 { &chunk[1..] } else { &chunk[..] };
                    if s.write_all(part).await.is_err() {
                        return;
                    }
                    hostile::STREAMED.fetch_add(part.len(), Ordering::Relaxed);
                }
                seq = seq.wrapping_add(1);
            }
        }
        Hostile::TextGarbage => answer_then_wait(s, b"Hello, this is not MySQL\r\n").await,
        Hostile::SilentBeforeGreeting => answer_then_wait(s, b"").await,
        Hostile::SilentAfterGreeting => answer_then_wait(s, &greeting()).await,
        Hostile::Protocol9Greeting => {
            answer_then_wait(s, &packet(0, b"\x093.23.58\0\x01\x00\x00\x00abcdefgh\0")).await;
        }
        Hostile::EndlessFastAuthOk | Hostile::EndlessAuthSwitches | Hostile::EmptyErr => {
            let _ = s.write_all(&greeting()).await;
            read_packet(s).await;
            let mut seq = 2u8;
            loop {
                let reply = match hostile {
                    Hostile::EndlessFastAuthOk => packet(seq, b"\x01\x03"),
                    Hostile::EmptyErr => packet(seq, b"\xff"),
                    _ => packet(seq, b"\xfemysql_native_password\0abcdefghijklmnopqrst\0"),
                };
                if s.write_all(&reply).await.is_err() {
                    return;
                }
                hostile::STREAMED.fetch_add(reply.len(), Ordering::Relaxed);
                seq = seq.wrapping_add(1);
                if matches!(hostile, Hostile::EmptyErr) {
                    return answer_then_wait(s, b"").await;
                }
                if matches!(hostile, Hostile::EndlessAuthSwitches) && !read_packet(s).await {
                    return;
                }
                seq = seq.wrapping_add(1);
            }
        }
        Hostile::TlsAnsweredWithGarbage => {
            let _ = s.write_all(&greeting()).await;
            read_packet(s).await;
            let mut hello = [0u8; 4096];
            let _ = s.read(&mut hello).await;
            answer_then_wait(s, &binary_garbage()).await;
        }
        Hostile::ResetAfterHandshake => {
            let _ = s.write_all(&greeting()).await;
            read_packet(s).await;
            s.set_zero_linger().unwrap();
        }
    }
}

const AT_ONCE: bool = false;
const AT_DEADLINE: bool = true;

#[rstest]
#[case::endless_continued_packets(
    Hostile::EndlessContinuedPackets,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: a packet of 16777215 bytes, past the 1048576 bytes a message may hold"
)]
// `Hel` read as a packet's length: 7 MiB, refused at its header.
#[case::text_garbage(
    Hostile::TextGarbage,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: a packet of 7103816 bytes"
)]
#[case::silent_before_greeting(Hostile::SilentBeforeGreeting, VerdictKind::Error, AT_DEADLINE, "")]
#[case::silent_after_greeting(
    Hostile::SilentAfterGreeting,
    VerdictKind::Error,
    AT_DEADLINE,
    "HandshakeResponse41 user=u"
)]
#[case::protocol_9_greeting(
    Hostile::Protocol9Greeting,
    VerdictKind::Error,
    AT_ONCE,
    "not a Handshake v10 greeting"
)]
#[case::endless_fast_auth_ok(
    Hostile::EndlessFastAuthOk,
    VerdictKind::Error,
    AT_ONCE,
    "authentication requests without deciding"
)]
#[case::endless_auth_switches(
    Hostile::EndlessAuthSwitches,
    VerdictKind::Error,
    AT_ONCE,
    "authentication requests without deciding"
)]
#[case::empty_err(Hostile::EmptyErr, VerdictKind::Error, AT_ONCE, "a packet out of turn")]
#[case::tls_answered_with_garbage(
    Hostile::TlsAnsweredWithGarbage,
    VerdictKind::Error,
    AT_ONCE,
    "the TLS handshake after `SSLRequest` failed"
)]
#[case::reset_after_handshake(
    Hostile::ResetAfterHandshake,
    VerdictKind::LockedOut,
    AT_ONCE,
    "reset the connection after the client's handshake, without OK or ERR"
)]
fn hostile_mysql_server_gets_a_verdict_in_time_with_bounded_memory(
    #[case] hostile: Hostile,
    #[case] kind: VerdictKind,
    #[case] at_deadline: bool,
    #[case] reason: &str,
) {
    let outcome = measure(
        &BOUNDS,
        || hostile.case(),
        || hostile::serve(move |stream| behave(hostile, stream)),
    );
    outcome.assert_verdict(&hostile, kind, reason);
    outcome.assert_bounded(&BOUNDS, at_deadline);
    if matches!(hostile, Hostile::EndlessContinuedPackets) {
        // The server had sent past what the framer may hold, so the bound above means
        // something.
        outcome.assert_streamed_over(BOUNDS.heap_limit);
    }
}
