//! A catalogue of misbehaving HTTP servers: endless heads, absurd lengths, endless bodies and
//! informational responses, garbage, silence, resets and cuts. Each must end in the verdict
//! HTTP's rules give (an error wherever the harness cannot judge) within the step deadline,
//! with bounded memory: never a panic, never a hang, never a false lockout.

#[path = "common/heap.rs"]
mod heap;
#[path = "common/hostile.rs"]
mod hostile;

use harness::case::{Case, parse_case};
use harness::dialect;
use harness::verdict::VerdictKind;
use hostile::{Bounds, Outcome, measure};
use rstest::rstest;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The framer holds at most a 64 KiB head and 64 KiB of body; a harness that held what these
/// servers stream would hold hundreds of MiB.
const BOUNDS: Bounds = Bounds {
    step_timeout: Duration::from_millis(600),
    margin: Duration::from_millis(500),
    transcript_limit: 4096,
    heap_limit: 1 << 20,
    hang: Duration::from_millis(6000),
};

/// curl asking for `/`, as a case file would say it.
fn curl() -> Case {
    let text = "[[step]]\nsend = \"GET / HTTP/1.1\\nHost: {host}\\nUser-Agent: curl/8.5.0\\nAccept: */*\\n\"\n";
    parse_case(
        Path::new("curl-8.5.toml"),
        text,
        &BTreeSet::new(),
        dialect::by_name("http").unwrap(),
    )
    .unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// Reads the request, then says nothing.
    Silence,
    /// Closes as soon as it accepts, before the request arrives.
    CloseAtOnce,
    /// Reads the request, then resets the connection.
    ResetAfterRequest,
    /// A status line, then header lines forever, never the blank line.
    EndlessHeaderLines,
    /// A status line, then one header line that never ends.
    EndlessHeaderLine,
    /// `Content-Length: 9223372036854775808` (2^63).
    ContentLength2To63,
    /// `Content-Length: 18446744073709551616` (2^64, past u64).
    ContentLength2To64,
    NegativeContentLength,
    NonNumericContentLength,
    /// `Content-Length: 5` and `Content-Length: 6`.
    ConflictingContentLengths,
    /// A chunked body whose chunks never end, as fast as the socket takes them.
    EndlessChunks,
    /// The same, one chunk every 50 ms.
    SlowEndlessChunks,
    /// A chunked body whose last chunk is followed by trailer fields forever.
    EndlessTrailers,
    /// A chunk size of 2^64.
    ChunkSizeOver2To64,
    /// `100 Continue` forever, as fast as the socket takes it, to a request that did not ask.
    ContinueLoop,
    /// `103 Early Hints` every 50 ms, forever.
    EarlyHintsForever,
    /// Text that is not HTTP.
    Garbage,
    /// Bytes that are not text.
    BinaryGarbage,
    /// A TLS alert (handshake failure), as a TLS-only port answers plain HTTP.
    TlsAlert,
    /// A status line and half a header field, then the close.
    CloseMidHead,
    /// A 200 announcing 1000 bytes of body, 10 of them, then the close.
    CloseMidBody,
    /// A status line and half a header field, then a reset.
    ResetMidHead,
    /// A 200 announcing 1000 bytes of body, 10 of them, then a reset.
    ResetMidBody,
    /// A 503 whose close-delimited body never ends.
    EndlessCloseDelimitedError,
    /// The same for a 403: the status is a lockout, but the response never ends.
    EndlessCloseDelimitedForbidden,
    /// A whole 200 sent the moment the connection opens, before any request; then silence.
    ResponseBeforeRequest,
    /// A whole response, one byte every 100 ms.
    SlowLoris,
    /// A whole 403: a lockout by the rules, beside the servers that only misbehave.
    Forbidden,
}

async fn read_request(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    let _ = stream.read(&mut buf).await;
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
    if !matches!(
        hostile,
        Hostile::CloseAtOnce | Hostile::ResponseBeforeRequest
    ) {
        read_request(s).await;
    }
    let fast = None;
    let slow = Some(Duration::from_millis(50));
    let ok = b"HTTP/1.1 200 OK\r\n";
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let length = |value: &str| format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\n");
    match hostile {
        Hostile::Silence => tokio::time::sleep(Duration::from_secs(30)).await,
        Hostile::CloseAtOnce => {}
        Hostile::ResetAfterRequest => s.set_zero_linger().unwrap(),
        Hostile::EndlessHeaderLines => endless(s, ok, b"X-Padding: yes\r\n", fast).await,
        Hostile::EndlessHeaderLine => {
            endless(s, b"HTTP/1.1 200 OK\r\nX: ", &[b'a'; 4096], fast).await
        }
        Hostile::ContentLength2To63 => {
            answer_then_wait(s, length("9223372036854775808").as_bytes()).await;
        }
        Hostile::ContentLength2To64 => {
            answer_then_wait(s, length("18446744073709551616").as_bytes()).await;
        }
        Hostile::NegativeContentLength => answer_then_wait(s, length("-1").as_bytes()).await,
        Hostile::NonNumericContentLength => {
            answer_then_wait(s, length("lots").as_bytes()).await;
        }
        Hostile::ConflictingContentLengths => {
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
            answer_then_wait(s, head.as_bytes()).await;
        }
        Hostile::EndlessChunks => {
            let chunk = [&b"400\r\n"[..], &[b'x'; 0x400], b"\r\n"].concat();
            endless(s, chunked, &chunk, fast).await;
        }
        Hostile::SlowEndlessChunks => endless(s, chunked, b"5\r\nhello\r\n", slow).await,
        Hostile::EndlessTrailers => {
            let last_chunk = [&chunked[..], b"0\r\n"].concat();
            endless(s, &last_chunk, b"X-Trailer: more\r\n", fast).await;
        }
        Hostile::ChunkSizeOver2To64 => {
            answer_then_wait(s, &[&chunked[..], b"10000000000000000\r\nx"].concat()).await;
        }
        Hostile::ContinueLoop => endless(s, b"", b"HTTP/1.1 100 Continue\r\n\r\n", fast).await,
        Hostile::EarlyHintsForever => {
            let hints = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
            endless(s, b"", hints, slow).await;
        }
        Hostile::Garbage => answer_then_wait(s, b"Hello, this is not HTTP at all\r\n\r\n").await,
        Hostile::BinaryGarbage => {
            let bytes: Vec<u8> = (0..2048u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            answer_then_wait(s, &bytes).await;
        }
        Hostile::TlsAlert => answer_then_wait(s, b"\x15\x03\x01\x00\x02\x02\x28").await,
        Hostile::CloseMidHead => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Le").await;
        }
        Hostile::CloseMidBody => {
            let _ = s.write_all(length("1000").as_bytes()).await;
            let _ = s.write_all(b"0123456789").await;
        }
        Hostile::ResetMidHead => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Le").await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            s.set_zero_linger().unwrap();
        }
        Hostile::ResetMidBody => {
            let _ = s.write_all(length("1000").as_bytes()).await;
            let _ = s.write_all(b"0123456789").await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            s.set_zero_linger().unwrap();
        }
        Hostile::EndlessCloseDelimitedError => {
            let head = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n";
            endless(s, head, &[b'e'; 8192], fast).await;
        }
        Hostile::EndlessCloseDelimitedForbidden => {
            let head = b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n";
            endless(s, head, &[b'f'; 8192], fast).await;
        }
        Hostile::ResponseBeforeRequest => {
            let _ = s.write_all(length("2").as_bytes()).await;
            let _ = s.write_all(b"hi").await;
            read_request(s).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Hostile::SlowLoris => {
            for byte in length("0").bytes() {
                if s.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Hostile::Forbidden => {
            let forbidden = "HTTP/1.1 403 Forbidden\r\nContent-Length: 14\r\n\r\nold clients go";
            answer_then_wait(s, forbidden.as_bytes()).await;
        }
    }
}

/// No verdict waits for the deadline: the harness sees what is wrong as soon as it arrives.
const AT_ONCE: bool = false;
/// The verdict comes at the deadline: nothing the server sent was wrong yet, only too slow.
const AT_DEADLINE: bool = true;

#[rstest]
#[case::silence(Hostile::Silence, VerdictKind::Error, AT_DEADLINE, &["no reply to `GET / HTTP/1.1` within 600ms"])]
#[case::close_at_once(
    Hostile::CloseAtOnce,
    VerdictKind::LockedOut,
    AT_ONCE,
    &["the connection before any response to `GET /`"]
)]
#[case::reset_after_request(
    Hostile::ResetAfterRequest,
    VerdictKind::LockedOut,
    AT_ONCE,
    &["the server reset the connection before any response to `GET /`"]
)]
#[case::endless_header_lines(
    Hostile::EndlessHeaderLines,
    VerdictKind::Error,
    AT_ONCE,
    &["unparseable reply: an HTTP response head with over 128 header fields"]
)]
#[case::endless_header_line(
    Hostile::EndlessHeaderLine,
    VerdictKind::Error,
    AT_ONCE,
    &["unparseable reply: an HTTP head longer than 64 KiB"]
)]
#[case::content_length_2_to_63(
    Hostile::ContentLength2To63,
    VerdictKind::Error,
    AT_ONCE,
    &["Content-Length 9223372036854775808 is over the 1073741824-byte limit"]
)]
#[case::content_length_2_to_64(
    Hostile::ContentLength2To64,
    VerdictKind::Error,
    AT_ONCE,
    &["Content-Length `18446744073709551616` is not a length"]
)]
#[case::negative_content_length(
    Hostile::NegativeContentLength,
    VerdictKind::Error,
    AT_ONCE,
    &["Content-Length `-1` is not a length"]
)]
#[case::non_numeric_content_length(
    Hostile::NonNumericContentLength,
    VerdictKind::Error,
    AT_ONCE,
    &["Content-Length `lots` is not a length"]
)]
#[case::conflicting_content_lengths(
    Hostile::ConflictingContentLengths,
    VerdictKind::Error,
    AT_ONCE,
    &["the message has two different Content-Lengths"]
)]
// As fast as loopback goes, a body may pass the 1 GiB limit before the deadline.
// A head that decides ends the case, whatever its body does (half the step timeout after it).
#[case::endless_chunks(
    Hostile::EndlessChunks,
    VerdictKind::Admitted,
    AT_ONCE,
    &["the server answered HTTP/1.1 200 OK; judged by its head, its body still coming"]
)]
#[case::slow_endless_chunks(
    Hostile::SlowEndlessChunks,
    VerdictKind::Admitted,
    AT_ONCE,
    &["the server answered HTTP/1.1 200 OK; judged by its head, its body still coming"]
)]
#[case::endless_trailers(
    Hostile::EndlessTrailers,
    VerdictKind::Admitted,
    AT_ONCE,
    &["the server answered HTTP/1.1 200 OK; judged by its head, its body still coming"]
)]
#[case::chunk_size_over_2_to_64(
    Hostile::ChunkSizeOver2To64,
    VerdictKind::Error,
    AT_ONCE,
    &["`10000000000000000` is not a chunk size"]
)]
#[case::continue_loop(
    Hostile::ContinueLoop,
    VerdictKind::Error,
    AT_ONCE,
    &["the server sent 17 informational responses and no final one"]
)]
#[case::early_hints_forever(
    Hostile::EarlyHintsForever,
    VerdictKind::Error,
    AT_DEADLINE,
    &["no reply to `GET / HTTP/1.1` within 600ms: the server kept sending other messages"]
)]
#[case::garbage(
    Hostile::Garbage,
    VerdictKind::Error,
    AT_ONCE,
    &["unparseable reply: not an HTTP response: invalid HTTP version: \"Hello, this"]
)]
#[case::binary_garbage(
    Hostile::BinaryGarbage,
    VerdictKind::Error,
    AT_ONCE,
    &["unparseable reply: not an HTTP response"]
)]
#[case::tls_alert(
    Hostile::TlsAlert,
    VerdictKind::Error,
    AT_ONCE,
    &["unparseable reply: not an HTTP response: invalid HTTP version: 15030100020228"]
)]
#[case::close_mid_head(
    Hostile::CloseMidHead,
    VerdictKind::Error,
    AT_ONCE,
    &["a response cut short: HTTP/1.1 200 OK"]
)]
// The status and header fields are whole: the server admitted the client, then failed to
// deliver the body. What a client is told is in the head.
#[case::close_mid_body(
    Hostile::CloseMidBody,
    VerdictKind::Admitted,
    AT_ONCE,
    &["the server answered HTTP/1.1 200 OK"]
)]
#[case::reset_mid_head(
    Hostile::ResetMidHead,
    VerdictKind::Error,
    AT_ONCE,
    &["a response cut short: HTTP/1.1 200 OK"]
)]
#[case::reset_mid_body(
    Hostile::ResetMidBody,
    VerdictKind::Admitted,
    AT_ONCE,
    &["the server answered HTTP/1.1 200 OK"]
)]
#[case::endless_close_delimited_error(
    Hostile::EndlessCloseDelimitedError,
    VerdictKind::Error,
    AT_ONCE,
    &["the server answered HTTP/1.1 503 Service Unavailable: busy, not refusing the client (busy_statuses); judged by its head, its body still coming"]
)]
// A client is told 403 by the head, whether or not the body ever ends.
#[case::endless_close_delimited_forbidden(
    Hostile::EndlessCloseDelimitedForbidden,
    VerdictKind::LockedOut,
    AT_ONCE,
    &["the server answered HTTP/1.1 403 Forbidden; judged by its head, its body still coming"]
)]
// On the wire an answer sent early is an answer sent fast: the first response after the
// request answers it, for the harness as for any HTTP client.
#[case::response_before_request(
    Hostile::ResponseBeforeRequest,
    VerdictKind::Admitted,
    AT_ONCE,
    &["the server answered HTTP/1.1 200 OK"]
)]
#[case::slow_loris(Hostile::SlowLoris, VerdictKind::Error, AT_DEADLINE, &["no whole reply to `GET / HTTP/1.1` within 600ms: it began `HTTP/1"])]
#[case::forbidden(
    Hostile::Forbidden,
    VerdictKind::LockedOut,
    AT_ONCE,
    &["the server answered HTTP/1.1 403 Forbidden (\"old clients go\")"]
)]
fn hostile_http_server_gets_a_verdict_in_time_with_bounded_memory(
    #[case] hostile: Hostile,
    #[case] kind: VerdictKind,
    #[case] at_deadline: bool,
    #[case] reasons: &[&str],
) {
    let outcome = measure(&BOUNDS, curl, || {
        hostile::serve(move |stream| behave(hostile, stream))
    });
    let Outcome {
        run,
        elapsed,
        peak,
        streamed,
        ..
    } = &outcome;
    let server_entries = run
        .transcript
        .entries
        .iter()
        .filter(|e| e.direction == harness::direction::Direction::Server)
        .count();
    println!(
        "{hostile:?}: {} in {elapsed:.0?}; the server streamed {} KiB, the heap grew by at most {} KiB, {server_entries} server transcript entries; {}",
        run.verdict.kind,
        streamed / 1024,
        peak / 1024,
        run.verdict.reason
    );
    assert_eq!(run.verdict.kind, kind, "{:?}", run.verdict);
    assert!(
        reasons.iter().any(|r| run.verdict.reason.contains(r)),
        "{:?}",
        run.verdict
    );
    if !at_deadline && !matches!(hostile, Hostile::CloseAtOnce | Hostile::ResetAfterRequest) {
        // What decided is there for people to read.
        assert!(
            server_entries > 0,
            "the server's bytes are not in the transcript"
        );
    }
    outcome.assert_bounded(&BOUNDS, at_deadline);
    if matches!(
        hostile,
        Hostile::EndlessChunks
            | Hostile::EndlessCloseDelimitedError
            | Hostile::EndlessCloseDelimitedForbidden
    ) {
        // Else the bound above proves nothing.
        outcome.assert_streamed_over(8 * BOUNDS.heap_limit);
    }
}

/// The heap is counted across the process, so what a test does once its case has run is not
/// counted against the next case measured: a failing case's panic hook resolves a backtrace
/// under `RUST_BACKTRACE` (some 60 MiB of debug info, the first time), and when that ran
/// beside the next case, the next case was failed for it (a 503 case failing made the 403
/// case "grow the heap by 63389113 bytes"). Here a 32 MiB allocation stands in for the
/// backtrace, made by the first test while the second case is waiting to be measured.
#[test]
fn what_a_test_does_after_its_case_is_not_counted_against_the_next() {
    const STAND_IN: usize = 32 << 20;
    let (measured, judged) = std::sync::mpsc::channel();
    let first = std::thread::spawn(move || {
        let outcome = measure(&BOUNDS, curl, || {
            hostile::serve(|stream| behave(Hostile::Forbidden, stream))
        });
        measured.send(()).unwrap();
        // The second case has begun to be measured by now, if it is let.
        std::thread::sleep(Duration::from_millis(200));
        let backtrace = std::hint::black_box(vec![1u8; STAND_IN]);
        drop(backtrace);
        drop(outcome);
    });
    judged.recv().unwrap();
    let outcome = measure(&BOUNDS, curl, || {
        hostile::serve(|stream| behave(Hostile::Silence, stream))
    });
    first.join().unwrap();
    assert_eq!(outcome.run.verdict.kind, VerdictKind::Error);
    assert!(
        outcome.peak < STAND_IN,
        "another test's allocation counted against this case: the heap grew by {} bytes",
        outcome.peak
    );
    outcome.assert_bounded(&BOUNDS, AT_DEADLINE);
}
