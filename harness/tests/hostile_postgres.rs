//! A catalogue of misbehaving PostgreSQL backends against scripted clients (a plain startup,
//! and an SSLRequest then a startup with `sslmode=prefer`): absurd message lengths, endless
//! notices and parameter statuses, garbage, silence, an `S` followed by anything but TLS, an
//! `N` followed by garbage, empty errors, unknown authentication codes and resets. Each must
//! end in the verdict PostgreSQL's rules give (locked-out only on an ErrorResponse or a close
//! before authentication; an error wherever the harness cannot judge) within the step
//! deadline, with bounded memory: never a panic, never a hang, never a false lockout.

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

/// The framer holds at most one 1 MiB message, and none of these servers sends one whole; the
/// heap bound counts the server and the TLS client too.
const BOUNDS: Bounds = Bounds {
    step_timeout: Duration::from_millis(600),
    margin: Duration::from_millis(500),
    transcript_limit: 4096,
    heap_limit: 1 << 20,
    hang: Duration::from_millis(6000),
};

/// A client that starts up in the clear.
fn plain_client() -> Case {
    case(
        "plain-client.toml",
        "[[step]]\nsend = \"startup user=u database=d\"\n",
    )
}

/// A client that asks for TLS first and goes on in the clear if refused (libpq's
/// sslmode=prefer).
fn tls_preferring_client() -> Case {
    case(
        "tls-preferring-client.toml",
        "[variables]\nsslmode = \"prefer\"\n[[step]]\nsend = \"ssl\"\n[[step]]\nsend = \"startup user=u database=d\"\n",
    )
}

fn case(name: &str, text: &str) -> Case {
    parse_case(
        Path::new(name),
        text,
        &BTreeSet::new(),
        dialect::by_name("postgres").unwrap(),
    )
    .unwrap()
}

/// A typed backend message.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn binary_garbage() -> Vec<u8> {
    (0..2048u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

const HTTP_RESPONSE: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request";

#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// An AuthenticationRequest whose length is 2^31.
    MessageLength2To31,
    /// The same, 2^32-1.
    MessageLength4Gigabytes,
    /// The same, 0: less than the length field itself.
    MessageLength0,
    /// The same, 3.
    MessageLength3,
    /// NoticeResponses forever, as fast as the socket takes them.
    EndlessNotices,
    /// The same, one every 50 ms.
    SlowNotices,
    /// ParameterStatus messages forever.
    EndlessParameterStatus,
    /// Text that is not PostgreSQL.
    TextGarbage,
    /// Bytes that are not text.
    BinaryGarbage,
    /// Reads the startup, then says nothing.
    Silence,
    /// `S` to the SSLRequest, then random bytes instead of a TLS handshake.
    AcceptTlsThenRandomBytes,
    /// The same, the bytes in the same write as the `S`.
    AcceptTlsWithRandomBytesAttached,
    /// `S`, then an HTTP response.
    AcceptTlsThenHttpResponse,
    /// `S`, then nothing.
    AcceptTlsThenSilence,
    /// `S`, then the close.
    AcceptTlsThenClose,
    /// `N` to the SSLRequest, then garbage in answer to the startup.
    DeclineTlsThenGarbage,
    /// An ErrorResponse with no fields at all.
    ErrorWithNoFields,
    /// An authentication request with a code no PostgreSQL has.
    UnknownAuthenticationCode,
    /// Reads the startup, then resets the connection.
    ResetAfterStartup,
}

impl Hostile {
    fn case(self) -> Case {
        match self {
            Hostile::AcceptTlsThenRandomBytes
            | Hostile::AcceptTlsWithRandomBytesAttached
            | Hostile::AcceptTlsThenHttpResponse
            | Hostile::AcceptTlsThenSilence
            | Hostile::AcceptTlsThenClose
            | Hostile::DeclineTlsThenGarbage => tls_preferring_client(),
            _ => plain_client(),
        }
    }
}

/// Reads one startup packet or SSLRequest (a length, then that many bytes in all).
async fn read_packet(stream: &mut TcpStream) {
    let mut length = [0u8; 4];
    if stream.read_exact(&mut length).await.is_err() {
        return;
    }
    let rest = (u32::from_be_bytes(length) as usize)
        .saturating_sub(4)
        .min(10_000);
    let mut body = vec![0u8; rest];
    let _ = stream.read_exact(&mut body).await;
}

/// Writes `forever` again and again (pausing `pause` between) until the client goes away.
async fn endless(stream: &mut TcpStream, forever: &[u8], pause: Option<Duration>) {
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

/// Says `S` to the SSLRequest, then (after the client's ClientHello) `then`.
async fn accept_tls_then(stream: &mut TcpStream, then: &[u8]) {
    let _ = stream.write_all(b"S").await;
    let mut hello = [0u8; 4096];
    let _ = stream.read(&mut hello).await;
    answer_then_wait(stream, then).await;
}

async fn behave(hostile: Hostile, mut stream: TcpStream) {
    let s = &mut stream;
    read_packet(s).await;
    let fast = None;
    let slow = Some(Duration::from_millis(50));
    // 16 KiB of notice: 65 of them (the most the classifier waits through) are more than
    // the heap may grow by.
    let long_notice = [&b"SNOTICE\0C00000\0M"[..], &[b'.'; 16 * 1024], b"\0\0"].concat();
    match hostile {
        Hostile::MessageLength2To31 => answer_then_wait(s, b"R\x80\x00\x00\x00").await,
        Hostile::MessageLength4Gigabytes => answer_then_wait(s, b"R\xff\xff\xff\xff").await,
        Hostile::MessageLength0 => answer_then_wait(s, b"R\x00\x00\x00\x00\x00").await,
        Hostile::MessageLength3 => answer_then_wait(s, b"R\x00\x00\x00\x03\x00").await,
        Hostile::EndlessNotices => endless(s, &message(b'N', &long_notice), fast).await,
        Hostile::SlowNotices => endless(s, &message(b'N', &long_notice), slow).await,
        Hostile::EndlessParameterStatus => {
            endless(s, &message(b'S', b"client_encoding\0UTF8\0"), fast).await;
        }
        Hostile::TextGarbage => answer_then_wait(s, b"Hello, this is not PostgreSQL\r\n").await,
        Hostile::BinaryGarbage => answer_then_wait(s, &binary_garbage()).await,
        Hostile::Silence => answer_then_wait(s, b"").await,
        Hostile::AcceptTlsThenRandomBytes => accept_tls_then(s, &binary_garbage()).await,
        Hostile::AcceptTlsWithRandomBytesAttached => {
            answer_then_wait(s, &[&b"S"[..], &binary_garbage()].concat()).await;
        }
        Hostile::AcceptTlsThenHttpResponse => accept_tls_then(s, HTTP_RESPONSE).await,
        Hostile::AcceptTlsThenSilence => accept_tls_then(s, b"").await,
        Hostile::AcceptTlsThenClose => {
            let _ = s.write_all(b"S").await;
            let mut hello = [0u8; 4096];
            let _ = s.read(&mut hello).await;
        }
        Hostile::DeclineTlsThenGarbage => {
            let _ = s.write_all(b"N").await;
            read_packet(s).await;
            answer_then_wait(s, &binary_garbage()).await;
        }
        Hostile::ErrorWithNoFields => answer_then_wait(s, &message(b'E', b"\0")).await,
        Hostile::UnknownAuthenticationCode => {
            answer_then_wait(s, &message(b'R', &99u32.to_be_bytes())).await;
        }
        Hostile::ResetAfterStartup => s.set_zero_linger().unwrap(),
    }
}

/// No verdict waits for the deadline: the harness sees what is wrong as soon as it arrives.
const AT_ONCE: bool = false;
/// The verdict comes at the deadline: nothing the server sent was wrong yet, only too slow.
const AT_DEADLINE: bool = true;

#[rstest]
#[case::message_length_2_to_31(
    Hostile::MessageLength2To31,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: a 'R' message of 2147483648 bytes (at most 1048576)"
)]
#[case::message_length_4_gigabytes(
    Hostile::MessageLength4Gigabytes,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: a 'R' message of 4294967295 bytes (at most 1048576)"
)]
#[case::message_length_0(
    Hostile::MessageLength0,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: a 'R' message of 0 bytes"
)]
#[case::message_length_3(
    Hostile::MessageLength3,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: a 'R' message of 3 bytes"
)]
#[case::endless_notices(
    Hostile::EndlessNotices,
    VerdictKind::Error,
    AT_ONCE,
    "the server sent 65 messages before any authentication"
)]
#[case::slow_notices(
    Hostile::SlowNotices,
    VerdictKind::Error,
    AT_DEADLINE,
    "no reply to `StartupMessage"
)]
#[case::endless_parameter_status(
    Hostile::EndlessParameterStatus,
    VerdictKind::Error,
    AT_ONCE,
    "the server sent 65 messages before any authentication"
)]
#[case::text_garbage(
    Hostile::TextGarbage,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: a 'H' message of"
)]
#[case::binary_garbage(
    Hostile::BinaryGarbage,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: not a PostgreSQL message"
)]
#[case::silence(
    Hostile::Silence,
    VerdictKind::Error,
    AT_DEADLINE,
    "no reply to `StartupMessage"
)]
#[case::accept_tls_then_random_bytes(
    Hostile::AcceptTlsThenRandomBytes,
    VerdictKind::Error,
    AT_ONCE,
    "the TLS handshake after `SSLRequest` failed"
)]
#[case::accept_tls_with_random_bytes_attached(
    Hostile::AcceptTlsWithRandomBytesAttached,
    VerdictKind::Error,
    AT_ONCE,
    "the server sent 2048 bytes in the clear after agreeing to TLS"
)]
#[case::accept_tls_then_http_response(
    Hostile::AcceptTlsThenHttpResponse,
    VerdictKind::Error,
    AT_ONCE,
    "the TLS handshake after `SSLRequest` failed"
)]
#[case::accept_tls_then_silence(
    Hostile::AcceptTlsThenSilence,
    VerdictKind::Error,
    AT_DEADLINE,
    "no TLS handshake after `SSLRequest` within 600ms"
)]
#[case::accept_tls_then_close(
    Hostile::AcceptTlsThenClose,
    VerdictKind::Error,
    AT_ONCE,
    "the TLS handshake after `SSLRequest` failed"
)]
#[case::decline_tls_then_garbage(
    Hostile::DeclineTlsThenGarbage,
    VerdictKind::Error,
    AT_ONCE,
    "unparseable reply: not a PostgreSQL message"
)]
// An ErrorResponse before authentication locks out, however little it says.
#[case::error_with_no_fields(
    Hostile::ErrorWithNoFields,
    VerdictKind::LockedOut,
    AT_ONCE,
    "the server refused: ERROR ?????: "
)]
#[case::unknown_authentication_code(
    Hostile::UnknownAuthenticationCode,
    VerdictKind::Error,
    AT_ONCE,
    "an authentication message out of turn"
)]
#[case::reset_after_startup(
    Hostile::ResetAfterStartup,
    VerdictKind::LockedOut,
    AT_ONCE,
    "connection after the client's protocol 3.0 startup, before authentication"
)]
fn hostile_postgres_backend_gets_a_verdict_in_time_with_bounded_memory(
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
    if matches!(hostile, Hostile::EndlessNotices) {
        // The flood outran what the framer and classifier keep, so the bound above means
        // something.
        outcome.assert_streamed_over(BOUNDS.heap_limit);
    }
}
