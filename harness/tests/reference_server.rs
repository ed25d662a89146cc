//! The reference server under policies and abuse: blocked clients, protocol errors, the
//! connection limit, idle clients, malformed input. It answers as msnp.md says real servers
//! did, and keeps serving well-behaved clients whatever others send.

use harness::case::parse_case;
use harness::date::Date;
use harness::dialect;
use harness::dialect::msnp::Policy;
use harness::runner::{CaseRun, Settings, Target, drive};
use harness::server::{self, RunningServer, ServerConfig};
use harness::verdict::VerdictKind;
use rstest::rstest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const POLICY: &str = r#"
name = "test policy"
download_url = "http://dl.example/setup.exe"
info_url = "http://info.example"
blocked_clients = ["IMICI"]
[protocols]
supported = ["MSNP7", "MSNP8", "MSNP9"]
minimum = "MSNP8"
version_query_fallback = true
[[family]]
client = "MSNMSGR"
minimum = "5.0"
recommended = "6.0.0602"
[[phase]]
name = "lockout"
from = 2003-10-15
below_minimum = "locked-out"
"#;

async fn start(policy_text: &str, max_connections: usize, idle: Duration) -> RunningServer {
    let policy = Policy::parse(Path::new("policy.toml"), policy_text).unwrap();
    let config = ServerConfig {
        policy: Arc::new(policy),
        as_of: "2003-10-16".parse::<Date>().unwrap(),
        idle_timeout: idle,
        max_connections,
        admission_budget: server::DEFAULT_ADMISSION_BUDGET,
        log: None,
    };
    server::start("127.0.0.1:0", config).await.unwrap()
}

async fn run_lines(server: &RunningServer, lines: &[&str]) -> CaseRun {
    let mut text = String::new();
    for line in lines {
        text.push_str(&format!("[[step]]\nsend = \"{line}\"\n"));
    }
    let case = parse_case(
        Path::new("case.toml"),
        &text,
        &BTreeSet::new(),
        dialect::by_name("msnp").unwrap(),
    )
    .unwrap();
    let settings = Settings {
        step_timeout: Duration::from_secs(2),
        ..Settings::default()
    };
    drive(
        &Target::plain(server.addr.to_string()),
        &case,
        &BTreeMap::new(),
        &settings,
    )
    .await
}

/// MSN Messenger 6.0's handshake is admitted: the server is serving.
async fn assert_msn_6_is_admitted(server: &RunningServer) {
    let run = run_lines(
        server,
        &[
            "VER {trid} MSNP9 MSNP8 CVR0",
            CVR_6,
            "USR {trid} TWN I a@b.c",
        ],
    )
    .await;
    assert_eq!(run.verdict.kind, VerdictKind::Admitted, "{:?}", run.verdict);
}

const CVR_6: &str = "CVR {trid} 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS a@b.c";

#[rstest]
#[case::current_client(&["VER {trid} MSNP9 MSNP8 CVR0", CVR_6, "USR {trid} TWN I a@b.c"], VerdictKind::Admitted, "USR 3 TWN S lc=1033")]
#[case::blocked_client_name(&["VER {trid} MSNP8 CVR0", "CVR {trid} 0x0409 winnt 5.1 i386 IMICI 6.0.0602 MSMSGS a@b.c"], VerdictKind::LockedOut, "710 2")]
#[case::unknown_family_is_admitted(&["VER {trid} MSNP8 CVR0", "CVR {trid} 0x0409 winnt 5.1 i386 NEWCLIENT 2.5 X a@b.c", "USR {trid} TWN I a@b.c"], VerdictKind::Admitted, "USR 3 TWN S")]
// Unknown clients are recommended 1.0.0000 (msnp.md section 3), so one below 1.0 is asked to upgrade.
#[case::unknown_family_below_1_0_is_warned(&["VER {trid} MSNP8 CVR0", "CVR {trid} 0x0409 winnt 5.1 i386 NEWCLIENT 0.1 X a@b.c", "USR {trid} TWN I a@b.c"], VerdictKind::Warned, "CVR 2 1.0.0000 1.0.0000 0.1")]
#[case::second_ver(&["VER {trid} MSNP8 CVR0", "VER {trid} MSNP8 CVR0"], VerdictKind::LockedOut, "715 2")]
#[case::wrong_auth_method_closes_silently(&["VER {trid} MSNP8 CVR0", CVR_6, "USR {trid} MD5 I a@b.c"], VerdictKind::LockedOut, "USR 3 MD5 I a@b.c")]
#[case::no_cvr0_means_ver_0(&["VER {trid} MSNP7"], VerdictKind::LockedOut, "VER 1 0")]
#[case::cvr0_gets_the_fallback(&["VER {trid} MSNP7 CVR0", "CVQ {trid} 0x0409 winnt 5.1 i386 MSNMSGR 4.6.0082 MSMSGS"], VerdictKind::LockedOut, "VER 1 CVR0")]
#[case::below_minimum_after_cvr(&["VER {trid} MSNP8 CVR0", "CVR {trid} 0x0409 win 4.10 i386 MSNMSGR 4.9.9 MSMSGS a@b.c", "USR {trid} TWN I a@b.c"], VerdictKind::LockedOut, "USR 3 TWN I a@b.c")]
#[tokio::test]
async fn answers_like_the_real_network(
    #[case] lines: &[&str],
    #[case] kind: VerdictKind,
    #[case] decided_by: &str,
) {
    let server = start(POLICY, 16, Duration::from_secs(5)).await;
    let run = run_lines(&server, lines).await;
    assert_eq!(run.verdict.kind, kind, "{:?}", run.verdict);
    let by = run.verdict.decided_by.clone().unwrap_or_default();
    assert!(
        by.starts_with(decided_by),
        "decided by {by:?}, not {decided_by:?}"
    );
}

#[tokio::test]
async fn without_the_fallback_an_old_client_gets_ver_0() {
    let server = start(
        &POLICY.replace(
            "version_query_fallback = true",
            "version_query_fallback = false",
        ),
        16,
        Duration::from_secs(5),
    )
    .await;
    let run = run_lines(&server, &["VER {trid} MSNP7 CVR0"]).await;
    assert_eq!(run.verdict.decided_by.as_deref(), Some("VER 1 0"));
}

#[tokio::test]
async fn idle_client_is_disconnected() {
    let server = start(POLICY, 16, Duration::from_millis(300)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_full_server_refuses_newcomers_while_every_connection_is_recent() {
    let server = start(POLICY, 2, Duration::from_secs(5)).await;
    let _held = [
        TcpStream::connect(server.addr).await.unwrap(),
        TcpStream::connect(server.addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = run_lines(&server, &["VER {trid} MSNP8 CVR0"]).await;
    assert_eq!(
        refused.verdict.kind,
        VerdictKind::Error,
        "{:?}",
        refused.verdict
    );
    drop(_held);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_msn_6_is_admitted(&server).await;
}

#[tokio::test]
async fn a_full_server_closes_the_quietest_connection_to_admit_a_newcomer() {
    let server = start(POLICY, 2, Duration::from_secs(30)).await;
    let mut talking = TcpStream::connect(server.addr).await.unwrap();
    let mut quiet = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The first connection completes a message later, so the second has been quiet longest.
    talking.write_all(b"VER 1 MSNP8 CVR0\r\n").await.unwrap();
    let mut reply = [0u8; 64];
    let n = talking.read(&mut reply).await.unwrap();
    assert!(reply[..n].starts_with(b"VER 1 MSNP8"));
    tokio::time::sleep(Duration::from_millis(600)).await;

    assert_msn_6_is_admitted(&server).await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), quiet.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "the quiet connection stays open: {closed:?}"
    );
    // The one that spoke was not chosen: it still gets answers.
    talking
        .write_all(b"CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS a@b.c\r\n")
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(2), talking.read(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert!(
        reply[..n].starts_with(b"CVR 2 "),
        "{:?}",
        String::from_utf8_lossy(&reply[..n])
    );
}

#[rstest]
#[case::binary_garbage(&b"\x00\xff\xfe\x16\x03\x01\r\n"[..])]
#[case::endless_line(&[b'V'; 100_000][..])]
#[case::oversized_body(&b"QRY 1 id 99999999\r\n"[..])]
#[case::no_trid(&b"VER\r\n"[..])]
#[tokio::test]
async fn malformed_input_is_closed_and_the_server_keeps_serving(#[case] abuse: &[u8]) {
    let server = start(POLICY, 16, Duration::from_secs(5)).await;
    let mut hostile = TcpStream::connect(server.addr).await.unwrap();
    let _ = hostile.write_all(abuse).await;
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), hostile.read_to_end(&mut sink)).await;
    assert!(
        closed.is_ok(),
        "server did not close a malformed connection"
    );
    let run = run_lines(
        &server,
        &[
            "VER {trid} MSNP9 MSNP8 CVR0",
            CVR_6,
            "USR {trid} TWN I a@b.c",
        ],
    )
    .await;
    assert_eq!(run.verdict.kind, VerdictKind::Admitted);
}

/// A recording made through the harness ends with the harness's own `OUT`. Replayed against a
/// server that accepts the client, the server's close after that `OUT` is the client's doing:
/// never a lockout (emesene-2011.captured, which a 2003 server refuses, is accepted here).
#[tokio::test]
async fn a_replayed_sign_out_is_not_the_servers_lockout() {
    let server = start(
        &POLICY.replace(
            r#"supported = ["MSNP7", "MSNP8", "MSNP9"]"#,
            r#"supported = ["MSNP8", "MSNP9", "MSNP15", "MSNP16", "MSNP18"]"#,
        ),
        16,
        Duration::from_secs(5),
    )
    .await;
    let capture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../captures/msnp-loopback/emesene-2011.captured.toml");
    let case = harness::case::load_case(
        &capture,
        &BTreeSet::from(["email".to_string()]),
        dialect::by_name("msnp").unwrap(),
    )
    .unwrap();
    let run = drive(
        &Target::plain(server.addr.to_string()),
        &case,
        &BTreeMap::from([("email".to_string(), "a@b.c".to_string())]),
        &Settings {
            step_timeout: Duration::from_secs(2),
            ..Settings::default()
        },
    )
    .await;
    assert_ne!(
        run.verdict.kind,
        VerdictKind::LockedOut,
        "{:?}",
        run.verdict
    );
    assert!(
        run.verdict
            .reason
            .contains("the client ended the session (OUT)"),
        "{:?}",
        run.verdict
    );
}
