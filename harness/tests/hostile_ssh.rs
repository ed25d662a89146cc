//! A catalogue of misbehaving SSH servers against a scripted client (identification, KEXINIT,
//! `kex`): endless pre-banner lines, endless lines, absurd packet lengths, garbage, silence,
//! floods of IGNORE, resets, refusals and out-of-turn messages. Each must end in the verdict
//! SSH's rules give (locked-out only on a DISCONNECT, a close after the client's KEXINIT or a
//! refused identification; an error wherever the harness cannot judge) within the step
//! deadline, with bounded memory: never a panic, never a hang, never a false lockout.

#[path = "common/heap.rs"]
mod heap;
#[path = "common/hostile.rs"]
mod hostile;

use harness::case::{Case, parse_case};
use harness::dialect;
use harness::dialect::ssh::framing::packet;
use harness::dialect::ssh::wire::{self, KexInit};
use harness::verdict::VerdictKind;
use hostile::{Bounds, measure};
use rstest::rstest;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The framer holds at most a 1 KiB line or a 256 KiB packet; a harness that held what these
/// servers stream would hold far more.
const BOUNDS: Bounds = Bounds {
    step_timeout: Duration::from_millis(600),
    margin: Duration::from_millis(500),
    transcript_limit: 4096,
    heap_limit: 1 << 20,
    hang: Duration::from_millis(6000),
};

/// A modern client: an identification, a KEXINIT any modern server accepts, and `kex`.
fn modern_client() -> Case {
    let text = r#"
[[step]]
send = "SSH-2.0-Test_1.0"
[[step]]
send = "kexinit kex=curve25519-sha256 hostkey=ssh-ed25519 ciphers=aes128-ctr macs=hmac-sha2-256"
[[step]]
send = "kex"
"#;
    parse_case(
        Path::new("modern-client.toml"),
        text,
        &BTreeSet::new(),
        dialect::by_name("ssh").unwrap(),
    )
    .unwrap()
}

const BANNER: &[u8] = b"SSH-2.0-Hostile_1.0\r\n";

/// A server KEXINIT that agrees with the client's on every class.
fn server_kexinit_payload() -> Vec<u8> {
    let one = |name: &str| vec![name.to_string()];
    KexInit {
        kex: one("curve25519-sha256"),
        host_key: one("ssh-ed25519"),
        cipher_c2s: one("aes128-ctr"),
        cipher_s2c: one("aes128-ctr"),
        mac_c2s: one("hmac-sha2-256"),
        mac_s2c: one("hmac-sha2-256"),
        compression_c2s: one("none"),
        compression_s2c: one("none"),
        first_kex_follows: false,
    }
    .encode([7; 16])
}

fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A curve25519 key-exchange reply: host key, public value, signature (none of them real).
fn kex_reply() -> Vec<u8> {
    let mut reply = vec![wire::KEX_REPLY];
    let mut host_key = Vec::new();
    string(&mut host_key, b"ssh-ed25519");
    string(&mut host_key, &[1; 32]);
    string(&mut reply, &host_key);
    string(&mut reply, &[2; 32]);
    let mut signature = Vec::new();
    string(&mut signature, b"ssh-ed25519");
    string(&mut signature, &[3; 64]);
    string(&mut reply, &signature);
    reply
}

#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// Lines that are not an identification, forever, as fast as the socket takes them.
    EndlessPreBannerLines,
    /// The same, one line every 50 ms.
    SlowPreBannerLines,
    /// One line that never ends.
    EndlessLine,
    /// Says nothing, not even its identification.
    SilenceBeforeBanner,
    /// Its identification, then nothing.
    SilenceAfterBanner,
    /// A packet_length of 2^32-1 after a good identification.
    PacketLength4Gigabytes,
    /// A packet_length of 2^31.
    PacketLength2To31,
    /// A 12-byte packet with 255 bytes of padding.
    PaddingLongerThanPacket,
    /// Text that is not SSH after the identification.
    TextGarbageAfterBanner,
    /// Bytes that are not text after the identification.
    BinaryGarbageAfterBanner,
    /// IGNORE packets forever, as fast as the socket takes them.
    EndlessIgnore,
    /// IGNORE packets, one every 50 ms.
    SlowIgnore,
    /// Its identification and KEXINIT; a reset once the client's KEXINIT is in.
    ResetAfterClientKexinit,
    /// An SSH-1.5 identification: no SSH-2 client goes on.
    Ssh1Only,
    /// Its identification and KEXINIT; a DISCONNECT once the client's KEXINIT is in.
    DisconnectWithReason,
    /// A KEXINIT cut off in the middle of a name-list.
    TruncatedKexinit,
    /// A key-exchange reply straight after the identification, before any KEXINIT.
    KexReplyBeforeKexinit,
    /// Its identification and KEXINIT, then a channel message no key exchange has.
    UnexpectedMessage,
    /// A KEXINIT and a key-exchange reply before any identification, each padded to end in a
    /// newline (so framed as lines), then nothing.
    PacketsBeforeBanner,
}

/// Reads until the client's identification line and the whole packet after it (its KEXINIT)
/// are in; false when the client went away first.
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

/// Writes `head`, then `forever` again and again (pausing `pause` between) until the client
/// goes away.
async fn endless(stream: &mut TcpStream, head: &[u8], forever: &[u8], pause: Option<Duration>) {
    if stream.write_all(head).await.is_err() {
        return;
    }
    while stream.write_all(forever).await.is_ok() {
        hostile::STREAMED.fetch_add(forever.len(), Ordering::Relaxed);
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
    }
}

async fn answer_then_wait(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
}

async fn behave(hostile: Hostile, mut stream: TcpStream) {
    let s = &mut stream;
    let fast = None;
    let slow = Some(Duration::from_millis(50));
    let kexinit = packet(&server_kexinit_payload());
    let banner_and_kexinit = [BANNER, &kexinit].concat();
    // IGNORE with 32 KiB of data: 65 of them (the most the classifier waits through) are
    // more than the heap may grow by.
    let mut ignore = vec![wire::IGNORE];
    string(&mut ignore, &[b'.'; 32 * 1024]);
    let ignore = packet(&ignore);
    match hostile {
        Hostile::EndlessPreBannerLines => {
            endless(s, b"", b"Welcome to a very chatty server\r\n", fast).await;
        }
        Hostile::SlowPreBannerLines => {
            endless(s, b"", b"Welcome to a very slow server\r\n", slow).await;
        }
        Hostile::EndlessLine => endless(s, b"Welcome ", &[b'a'; 4096], fast).await,
        Hostile::SilenceBeforeBanner => answer_then_wait(s, b"").await,
        Hostile::SilenceAfterBanner => answer_then_wait(s, BANNER).await,
        Hostile::PacketLength4Gigabytes => {
            answer_then_wait(s, &[BANNER, &[0xff, 0xff, 0xff, 0xff, 4, 20]].concat()).await;
        }
        Hostile::PacketLength2To31 => {
            answer_then_wait(s, &[BANNER, &[0x80, 0, 0, 0, 4, 20]].concat()).await;
        }
        Hostile::PaddingLongerThanPacket => {
            let bad = [0, 0, 0, 12, 255, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            answer_then_wait(s, &[BANNER, &bad].concat()).await;
        }
        Hostile::TextGarbageAfterBanner => {
            answer_then_wait(s, &[BANNER, b"Hello, this is not SSH at all\r\n"].concat()).await;
        }
        Hostile::BinaryGarbageAfterBanner => {
            let garbage: Vec<u8> = (0..2048u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            answer_then_wait(s, &[BANNER, &garbage].concat()).await;
        }
        Hostile::EndlessIgnore => endless(s, BANNER, &ignore, fast).await,
        Hostile::SlowIgnore => endless(s, BANNER, &ignore, slow).await,
        Hostile::ResetAfterClientKexinit => {
            let _ = s.write_all(&banner_and_kexinit).await;
            read_client_kexinit(s).await;
            s.set_zero_linger().unwrap();
        }
        Hostile::Ssh1Only => answer_then_wait(s, b"SSH-1.5-OldServer_1.2.3\r\n").await,
        Hostile::DisconnectWithReason => {
            let _ = s.write_all(&banner_and_kexinit).await;
            read_client_kexinit(s).await;
            let mut disconnect = vec![wire::DISCONNECT, 0, 0, 0, 3];
            string(&mut disconnect, b"no matching key exchange method found");
            string(&mut disconnect, b"");
            answer_then_wait(s, &packet(&disconnect)).await;
        }
        Hostile::TruncatedKexinit => {
            let whole = server_kexinit_payload();
            // The type, the cookie, and half of the first name-list (its length says more).
            let cut = packet(&whole[..1 + 16 + 4 + 8]);
            answer_then_wait(s, &[BANNER, &cut].concat()).await;
        }
        Hostile::KexReplyBeforeKexinit => {
            answer_then_wait(s, &[BANNER, &packet(&kex_reply())].concat()).await;
        }
        Hostile::PacketsBeforeBanner => {
            let as_line = |payload: &[u8]| {
                let mut bytes = packet(payload);
                *bytes.last_mut().unwrap() = b'\n';
                bytes
            };
            let lines = [as_line(&server_kexinit_payload()), as_line(&kex_reply())].concat();
            answer_then_wait(s, &lines).await;
        }
        Hostile::UnexpectedMessage => {
            // SSH_MSG_CHANNEL_DATA for channel 0: no channel is open, no key exchanged.
            let channel_data = packet(&[94, 0, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']);
            answer_then_wait(s, &[&banner_and_kexinit[..], &channel_data].concat()).await;
        }
    }
}

/// No verdict waits for the deadline: the harness sees what is wrong as soon as it arrives.
const AT_ONCE: bool = false;
/// The verdict comes at the deadline: nothing the server sent was wrong yet, only too slow.
const AT_DEADLINE: bool = true;

#[rstest]
#[case::endless_pre_banner_lines(
    Hostile::EndlessPreBannerLines,
    VerdictKind::Error,
    AT_ONCE,
    "the server sent 1025 lines and no identification"
)]
#[case::slow_pre_banner_lines(
    Hostile::SlowPreBannerLines,
    VerdictKind::Error,
    AT_DEADLINE,
    "no reply to `SSH-2.0-Test_1.0` within 600ms: the server kept sending other messages"
)]
#[case::endless_line(
    Hostile::EndlessLine,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: a line of over 1024 bytes before the SSH packets"
)]
#[case::silence_before_banner(
    Hostile::SilenceBeforeBanner,
    VerdictKind::Error,
    AT_DEADLINE,
    "no reply to `SSH-2.0-Test_1.0` within 600ms"
)]
#[case::silence_after_banner(
    Hostile::SilenceAfterBanner,
    VerdictKind::Error,
    AT_DEADLINE,
    "no reply to `KEXINIT"
)]
#[case::packet_length_4_gigabytes(
    Hostile::PacketLength4Gigabytes,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: an SSH packet_length of 4294967295, over the 262144-byte limit"
)]
#[case::packet_length_2_to_31(
    Hostile::PacketLength2To31,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: an SSH packet_length of 2147483648, over the 262144-byte limit"
)]
#[case::padding_longer_than_packet(
    Hostile::PaddingLongerThanPacket,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: an SSH packet of 12 bytes with 255 bytes of padding"
)]
// A line after the identification is how sshd refuses one; but this server goes on, silent,
// and never closes: nothing was refused, and nothing answered.
#[case::text_garbage_after_banner(
    Hostile::TextGarbageAfterBanner,
    VerdictKind::Error,
    AT_DEADLINE,
    "the server kept sending other messages (1 of them, the last `"
)]
#[case::binary_garbage_after_banner(
    Hostile::BinaryGarbageAfterBanner,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply"
)]
#[case::endless_ignore(
    Hostile::EndlessIgnore,
    VerdictKind::Error,
    AT_ONCE,
    "the server sent 65 messages that bring no key exchange closer"
)]
#[case::slow_ignore(
    Hostile::SlowIgnore,
    VerdictKind::Error,
    AT_DEADLINE,
    "the server kept sending other messages"
)]
#[case::reset_after_client_kexinit(
    Hostile::ResetAfterClientKexinit,
    VerdictKind::LockedOut,
    AT_ONCE,
    "the connection after the client's KEXINIT"
)]
#[case::ssh1_only(
    Hostile::Ssh1Only,
    VerdictKind::LockedOut,
    AT_ONCE,
    "the server speaks SSH protocol 1.5 only"
)]
#[case::disconnect_with_reason(
    Hostile::DisconnectWithReason,
    VerdictKind::LockedOut,
    AT_ONCE,
    "the server disconnected: no matching key exchange method found (key exchange failed)"
)]
#[case::truncated_kexinit(
    Hostile::TruncatedKexinit,
    VerdictKind::Error,
    AT_ONCE,
    "a malformed KEXINIT"
)]
#[case::kex_reply_before_kexinit(
    Hostile::KexReplyBeforeKexinit,
    VerdictKind::Error,
    AT_ONCE,
    "a key-exchange reply before the server's KEXINIT"
)]
#[case::unexpected_message(
    Hostile::UnexpectedMessage,
    VerdictKind::Error,
    AT_ONCE,
    "unexpected message 94 before the key-exchange reply"
)]
// Before an identification every line is a line, whatever bytes it holds: no admission.
#[case::packets_before_banner(
    Hostile::PacketsBeforeBanner,
    VerdictKind::Error,
    AT_DEADLINE,
    "no reply to `SSH-2.0-Test_1.0` within 600ms: the server kept sending other messages"
)]
fn hostile_ssh_server_gets_a_verdict_in_time_with_bounded_memory(
    #[case] hostile: Hostile,
    #[case] kind: VerdictKind,
    #[case] at_deadline: bool,
    #[case] reason: &str,
) {
    let outcome = measure(&BOUNDS, modern_client, || {
        hostile::serve(move |stream| behave(hostile, stream))
    });
    outcome.assert_verdict(&hostile, kind, reason);
    // Each step has its own deadline; a server that answers the first and stalls the second
    // still ends within one deadline of its last answer.
    outcome.assert_bounded(&BOUNDS, at_deadline);
    // The floods outran what the framer and classifier keep, so the bound above means
    // something.
    if matches!(hostile, Hostile::EndlessPreBannerLines) {
        outcome.assert_streamed_over(32 * 1024);
    }
    if matches!(hostile, Hostile::EndlessIgnore) {
        outcome.assert_streamed_over(BOUNDS.heap_limit);
    }
    if !at_deadline {
        // What decided is there for people to read.
        assert!(
            outcome
                .run
                .transcript
                .entries
                .iter()
                .any(|e| e.direction == harness::direction::Direction::Server),
            "the server's bytes are not in the transcript"
        );
    }
}
