//! A catalogue of misbehaving servers. Each must yield the right verdict or an error within the
//! step timeout, with bounded memory: never a panic, never a hang, never a false lockout.

use harness::case::{Case, parse_case};
use harness::dialect;
use harness::runner::{CaseRun, Settings, Target, drive};
use harness::verdict::VerdictKind;
use rstest::rstest;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const STEP_TIMEOUT: Duration = Duration::from_millis(600);
const TRANSCRIPT_LIMIT: usize = 4096;

fn msn_messenger_6() -> Case {
    let text = r#"
[[step]]
send = "VER {trid} MSNP9 MSNP8 CVR0"
[[step]]
send = "CVR {trid} 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS {email}"
[[step]]
send = "USR {trid} TWN I {email}"
"#;
    parse_case(
        Path::new("msn-messenger-6.0.toml"),
        text,
        &BTreeSet::from(["email".to_string()]),
        dialect::by_name("msnp").unwrap(),
    )
    .unwrap()
}

/// Serves every connection with `behaviour` on an ephemeral loopback port.
async fn fake_server<F, Fut>(behaviour: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behaviour(stream));
        }
    });
    addr
}

async fn read_some(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    let _ = stream.read(&mut buf).await;
}

async fn run_against(addr: SocketAddr) -> (CaseRun, Duration) {
    let settings = Settings {
        step_timeout: STEP_TIMEOUT,
        transcript_limit: TRANSCRIPT_LIMIT,
        ..Settings::default()
    };
    let variables = BTreeMap::from([("email".to_string(), "a@hotmail.com".to_string())]);
    let started = Instant::now();
    let run = drive(
        &Target::plain(addr.to_string()),
        &msn_messenger_6(),
        &variables,
        &settings,
    )
    .await;
    (run, started.elapsed())
}

#[derive(Debug, Clone, Copy)]
enum Hostile {
    CloseAtOnce,
    ResetAtOnce,
    Silence,
    SlowDrip,
    EndlessLine,
    EndlessPayload,
    TwoGigabytePayloadLength,
    Garbage,
    ResetMidReply,
    ResetAfterVer,
    HalfCloseAfterVer,
    /// Whole messages that answer nothing (presence lines), as fast as the socket takes them.
    FloodOfOtherMessages,
    /// The same, one every 50 ms: bytes keep flowing, none of them a reply.
    SlowStreamOfOtherMessages,
}

async fn behave(hostile: Hostile, mut stream: TcpStream) {
    match hostile {
        Hostile::CloseAtOnce => drop(stream),
        Hostile::ResetAtOnce => {
            stream.set_zero_linger().unwrap();
            drop(stream);
        }
        Hostile::Silence => {
            read_some(&mut stream).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Hostile::SlowDrip => {
            read_some(&mut stream).await;
            for byte in b"VER 1 MSNP8 CVR0\r\n" {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Hostile::EndlessLine => {
            read_some(&mut stream).await;
            let chunk = [b'A'; 8192];
            while stream.write_all(&chunk).await.is_ok() {}
        }
        Hostile::EndlessPayload => {
            read_some(&mut stream).await;
            let _ = stream.write_all(b"MSG Hotmail Hotmail 1000000\r\n").await;
            let chunk = [b'x'; 1024];
            while stream.write_all(&chunk).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Hostile::TwoGigabytePayloadLength => {
            read_some(&mut stream).await;
            let _ = stream.write_all(b"GCF 0 2147483648\r\n").await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Hostile::Garbage => {
            read_some(&mut stream).await;
            let _ = stream.write_all(b"\x15\x03\x01\x00\x02\x02\x46\r\n").await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Hostile::ResetMidReply => {
            read_some(&mut stream).await;
            let _ = stream.write_all(b"VER 1 MSN").await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            stream.set_zero_linger().unwrap();
            drop(stream);
        }
        Hostile::ResetAfterVer => {
            read_some(&mut stream).await;
            let _ = stream.write_all(b"VER 1 MSNP9 CVR0\r\n").await;
            read_some(&mut stream).await;
            stream.set_zero_linger().unwrap();
            drop(stream);
        }
        Hostile::FloodOfOtherMessages => {
            read_some(&mut stream).await;
            let lines = b"NLN NLN bob@hotmail.com Bob 0\r\n".repeat(256);
            while stream.write_all(&lines).await.is_ok() {}
        }
        Hostile::SlowStreamOfOtherMessages => {
            read_some(&mut stream).await;
            while stream
                .write_all(b"NLN NLN bob@hotmail.com Bob 0\r\n")
                .await
                .is_ok()
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Hostile::HalfCloseAfterVer => {
            read_some(&mut stream).await;
            let _ = stream.write_all(b"VER 1 MSNP9 CVR0\r\n").await;
            let _ = stream.shutdown().await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    }
}

#[rstest]
#[case::close_at_once(Hostile::CloseAtOnce, VerdictKind::Error, "without a single reply")]
#[case::reset_at_once(Hostile::ResetAtOnce, VerdictKind::Error, "without a single reply")]
#[case::silence(
    Hostile::Silence,
    VerdictKind::Error,
    "no reply to `VER 1 MSNP9 MSNP8 CVR0` within 600ms"
)]
#[case::slow_drip(Hostile::SlowDrip, VerdictKind::Error, "no reply")]
#[case::endless_line(Hostile::EndlessLine, VerdictKind::Error, "longer than 16384 bytes")]
#[case::endless_payload(Hostile::EndlessPayload, VerdictKind::Error, "no reply")]
#[case::two_gigabyte_payload_length(
    Hostile::TwoGigabytePayloadLength,
    VerdictKind::Error,
    "2147483648-byte body"
)]
#[case::garbage(Hostile::Garbage, VerdictKind::Error, "unparseable reply")]
#[case::reset_mid_reply(Hostile::ResetMidReply, VerdictKind::Error, "without a single reply")]
#[case::reset_after_ver(
    Hostile::ResetAfterVer,
    VerdictKind::LockedOut,
    "server reset the connection instead of answering `CVR 2 "
)]
#[case::half_close_after_ver(
    Hostile::HalfCloseAfterVer,
    VerdictKind::LockedOut,
    "server closed the connection instead of answering `CVR 2 "
)]
#[case::flood_of_other_messages(
    Hostile::FloodOfOtherMessages,
    VerdictKind::Error,
    "the server kept sending other messages"
)]
#[case::slow_stream_of_other_messages(
    Hostile::SlowStreamOfOtherMessages,
    VerdictKind::Error,
    "no reply to `VER 1 MSNP9 MSNP8 CVR0` within 600ms: the server kept sending other messages"
)]
#[tokio::test]
async fn hostile_server_gets_a_verdict_in_time(
    #[case] hostile: Hostile,
    #[case] kind: VerdictKind,
    #[case] reason: &str,
) {
    let addr = fake_server(move |stream| behave(hostile, stream)).await;
    // A harness that ignores its deadline would hang here: bound the test itself too.
    let (run, elapsed) = tokio::time::timeout(STEP_TIMEOUT * 10, run_against(addr))
        .await
        .expect("the step timeout is a deadline");
    assert_eq!(run.verdict.kind, kind, "{:?}", run.verdict);
    assert!(run.verdict.reason.contains(reason), "{:?}", run.verdict);
    assert!(
        elapsed < STEP_TIMEOUT + Duration::from_millis(500),
        "took {elapsed:?}"
    );
    let kept: usize = run
        .transcript
        .entries
        .iter()
        .map(|e| e.data.byte_len())
        .sum();
    assert!(kept <= TRANSCRIPT_LIMIT, "transcript kept {kept} bytes");
}

#[tokio::test]
async fn refused_connection_is_an_error_not_a_lockout() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let (run, _) = run_against(addr).await;
    assert_eq!(run.verdict.kind, VerdictKind::Error);
    assert_eq!(run.verdict.stage, "connect");
    assert!(
        run.verdict.reason.contains("cannot connect"),
        "{}",
        run.verdict.reason
    );
}

#[tokio::test]
async fn garbage_is_kept_in_the_transcript_as_hex() {
    let addr = fake_server(|stream| behave(Hostile::Garbage, stream)).await;
    let (run, _) = run_against(addr).await;
    let last = run.transcript.entries.last().unwrap();
    assert_eq!(
        last.data,
        harness::runner::Data::Hex("150301000202460d0a".into())
    );
}
