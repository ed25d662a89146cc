//! Fake HTTP servers in-process for what real clients meet and the harness used to get wrong:
//! `Expect: 100-continue` (a 100 then the final response, a final response instead of the 100,
//! no 100 at all, a 100 then nothing, a 103 Early Hints first), folded header lines, a bad
//! header line deep in a head, and a final response whose head decides while its body crawls.
//! Each asserts the verdict, its reason and what went on the wire, in which order.

use harness::case::{Case, parse_case};
use harness::dialect::{self, Dialect};
use harness::direction::Direction;
use harness::runner::{CaseRun, Settings, Target, drive};
use harness::verdict::VerdictKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const STEP_TIMEOUT: Duration = Duration::from_secs(4);
const HEAD: &[u8] = b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88.1\r\nExpect: 100-continue\r\nContent-Length: 2000\r\n\r\n";

fn http() -> &'static dyn Dialect {
    dialect::by_name("http").unwrap()
}

/// curl posting 2000 bytes with `Expect: 100-continue`, as a case file writes it.
fn uploader() -> Case {
    let body = "a".repeat(2000);
    let text = format!(
        "[[step]]\nsend = \"POST /upload HTTP/1.1\\nHost: {{host}}\\nUser-Agent: curl/7.88.1\\nExpect: 100-continue\\n\"\nbody = \"{body}\"\n"
    );
    parse_case(Path::new("uploader.toml"), &text, &BTreeSet::new(), http()).unwrap()
}

/// curl asking for `/`.
fn getter() -> Case {
    let text = "[[step]]\nsend = \"GET / HTTP/1.1\\nHost: {host}\\nUser-Agent: curl/7.88.1\\n\"\n";
    parse_case(Path::new("getter.toml"), text, &BTreeSet::new(), http()).unwrap()
}

/// What the fake server saw: each read with the time since the connection was accepted.
type Seen = Arc<Mutex<Vec<(Duration, Vec<u8>)>>>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Server {
    /// 100 once the head is in, then 200 once the body is.
    ContinueThenOk,
    /// 417 Expectation Failed as soon as the head is in; the body is never read.
    ExpectationFailed,
    /// No 100: 200 once the body is in, whenever it comes.
    NoContinue,
    /// 100, then nothing.
    ContinueThenHang,
    /// 103 Early Hints, 100, then 200.
    EarlyHintsContinueOk,
    /// A 200 whose Sunset header is folded over two lines.
    FoldedSunset,
    /// A 200 whose fourth line is not a header field.
    BadFourthLine,
    /// A 200 with Sunset announcing 50 MB of body, sent 1 KiB every 100 ms.
    SunsetSlowBody,
    /// A 200 announcing 50 MB, its first line saying `please upgrade`, then a crawl.
    UpgradeInSlowBody,
    /// A 200 announcing 50 MB, then nothing.
    StalledBody,
}

async fn read_some(stream: &mut TcpStream, seen: &Seen, started: Instant) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 8192];
    match stream.read(&mut buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.truncate(n);
            seen.lock().unwrap().push((started.elapsed(), buf.clone()));
            Some(buf)
        }
    }
}

/// Reads until `total` bytes have come in all (or the client goes).
async fn read_until(stream: &mut TcpStream, seen: &Seen, started: Instant, total: usize) {
    let mut got = 0;
    while got < total {
        match read_some(stream, seen, started).await {
            Some(bytes) => got += bytes.len(),
            None => return,
        }
    }
}

async fn behave(server: Server, mut s: TcpStream, seen: Seen) {
    let started = Instant::now();
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let s = &mut s;
    // The head, and nothing more yet.
    let head_len = if matches!(
        server,
        Server::ContinueThenOk
            | Server::ExpectationFailed
            | Server::NoContinue
            | Server::ContinueThenHang
            | Server::EarlyHintsContinueOk
    ) {
        HEAD.len()
    } else {
        // A GET: its head ends the request.
        1
    };
    read_until(s, &seen, started, head_len).await;
    match server {
        Server::ContinueThenOk => {
            let _ = s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
            read_until(s, &seen, started, 2000).await;
            let _ = s.write_all(ok).await;
        }
        Server::ExpectationFailed => {
            let _ = s
                .write_all(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
        Server::NoContinue => {
            read_until(s, &seen, started, 2000).await;
            let _ = s.write_all(ok).await;
        }
        Server::ContinueThenHang => {
            let _ = s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
        }
        Server::EarlyHintsContinueOk => {
            let _ = s
                .write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n")
                .await;
            read_until(s, &seen, started, 2000).await;
            let _ = s.write_all(ok).await;
        }
        Server::FoldedSunset => {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nSunset: Thu, 01 Jan 2026\r\n\t00:00:00 GMT\r\nContent-Length: 2\r\n\r\nok")
                .await;
        }
        Server::BadFourthLine => {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\nthis is not a field\r\n\r\nok")
                .await;
        }
        Server::SunsetSlowBody | Server::UpgradeInSlowBody | Server::StalledBody => {
            let head = match server {
                Server::SunsetSlowBody => {
                    "HTTP/1.1 200 OK\r\nSunset: Thu, 01 Jan 2026 00:00:00 GMT\r\nContent-Length: 50000000\r\n\r\n"
                }
                _ => "HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n",
            };
            let _ = s.write_all(head.as_bytes()).await;
            if server == Server::UpgradeInSlowBody {
                let _ = s.write_all(b"please upgrade to ExampleApp 3\n").await;
            }
            if server != Server::StalledBody {
                while s.write_all(&[b'.'; 1024]).await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
}

/// Runs `case` against the fake `server` under `settings` (the suite's `[dialect_settings]`);
/// returns the run, how long it took, and what the server read.
fn run_against(
    server: Server,
    case: Case,
    settings: &str,
) -> (CaseRun, Duration, Vec<(Duration, Vec<u8>)>) {
    let table: BTreeMap<String, toml::Value> = toml::from_str(settings).unwrap();
    let settings = Settings {
        step_timeout: STEP_TIMEOUT,
        dialect: http().settings(&table).unwrap(),
        ..Settings::default()
    };
    let seen: Seen = Arc::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (run, elapsed) = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_seen = seen.clone();
        tokio::spawn(async move {
            if let Ok((stream, _)) = listener.accept().await {
                behave(server, stream, server_seen).await;
            }
        });
        let started = Instant::now();
        let run = tokio::time::timeout(
            STEP_TIMEOUT * 3,
            drive(
                &Target::plain(addr.to_string()),
                &case,
                &BTreeMap::new(),
                &settings,
            ),
        )
        .await
        .expect("the step timeout is a deadline");
        (run, started.elapsed())
    });
    let seen = seen.lock().unwrap().clone();
    (run, elapsed, seen)
}

/// The transcript as (direction, first line) pairs.
fn wire(run: &CaseRun) -> Vec<(Direction, String)> {
    run.transcript
        .entries
        .iter()
        .map(|e| {
            let text = match &e.data {
                harness::runner::transcript::Data::Text(t) => t.clone(),
                harness::runner::transcript::Data::Hex(h) => h.clone(),
            };
            (
                e.direction,
                text.lines().next().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_body_goes_after_the_100_and_the_final_response_decides() {
    let (run, _, seen) = run_against(Server::ContinueThenOk, uploader(), "");
    assert_eq!(run.verdict.kind, VerdictKind::Admitted, "{:?}", run.verdict);
    assert_eq!(run.verdict.reason, "the server answered HTTP/1.1 200 OK");
    let body = "a".repeat(2000);
    assert_eq!(
        wire(&run),
        [
            (Direction::Client, "POST /upload HTTP/1.1".to_string()),
            (Direction::Server, "HTTP/1.1 100 Continue".to_string()),
            (Direction::Client, body),
            (Direction::Server, "HTTP/1.1 200 OK".to_string()),
        ]
    );
    // The head alone came first: the body waited for the 100.
    assert_eq!(seen[0].1, HEAD);
}

#[test]
fn a_final_status_instead_of_the_100_decides_and_the_body_is_never_sent() {
    let (run, elapsed, seen) = run_against(Server::ExpectationFailed, uploader(), "");
    assert_eq!(
        run.verdict.kind,
        VerdictKind::LockedOut,
        "{:?}",
        run.verdict
    );
    assert_eq!(
        run.verdict.reason,
        "the server answered HTTP/1.1 417 Expectation Failed"
    );
    assert_eq!(
        run.verdict.decided_by.as_deref(),
        Some("HTTP/1.1 417 Expectation Failed")
    );
    let read: usize = seen.iter().map(|(_, b)| b.len()).sum();
    assert_eq!(read, HEAD.len(), "the server got the body");
    assert!(elapsed < Duration::from_secs(1), "waited {elapsed:?}");
    assert_eq!(wire(&run).len(), 2, "{:?}", wire(&run));
}

#[test]
fn without_a_100_the_body_goes_after_curls_one_second_wait() {
    let (run, _, seen) = run_against(Server::NoContinue, uploader(), "");
    assert_eq!(run.verdict.kind, VerdictKind::Admitted, "{:?}", run.verdict);
    assert_eq!(seen[0].1, HEAD);
    let body_at = seen[1].0;
    assert!(
        body_at >= Duration::from_millis(950) && body_at < Duration::from_millis(2500),
        "the body came {body_at:?} after the head"
    );
}

#[test]
fn a_100_then_nothing_is_an_error_at_the_deadline_not_a_lockout() {
    let (run, elapsed, _) = run_against(Server::ContinueThenHang, uploader(), "");
    assert_eq!(run.verdict.kind, VerdictKind::Error, "{:?}", run.verdict);
    assert_eq!(
        run.verdict.reason,
        "no reply to `POST /upload HTTP/1.1` within 4s: the server kept sending other messages (1 of them, the last `HTTP/1.1 100 Continue`)"
    );
    assert!(elapsed >= STEP_TIMEOUT, "{elapsed:?}");
}

#[test]
fn early_hints_never_decide() {
    let (run, _, _) = run_against(Server::EarlyHintsContinueOk, uploader(), "");
    assert_eq!(run.verdict.kind, VerdictKind::Admitted, "{:?}", run.verdict);
    let lines: Vec<String> = wire(&run).into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines[1], "HTTP/1.1 103 Early Hints");
    assert_eq!(lines.last().unwrap(), "HTTP/1.1 200 OK");
}

#[test]
fn a_folded_header_is_read_as_one_value() {
    let (run, _, _) = run_against(Server::FoldedSunset, getter(), "");
    assert_eq!(run.verdict.kind, VerdictKind::Warned, "{:?}", run.verdict);
    assert!(
        run.verdict
            .reason
            .contains("Sunset: Thu, 01 Jan 2026 00:00:00 GMT"),
        "{:?}",
        run.verdict
    );
}

#[test]
fn a_bad_header_line_is_quoted_with_its_number() {
    let (run, _, _) = run_against(Server::BadFourthLine, getter(), "");
    assert_eq!(run.verdict.kind, VerdictKind::Error, "{:?}", run.verdict);
    assert_eq!(
        run.verdict.reason,
        "unparseable reply: not an HTTP response: invalid header name at line 4: \"this is not a field\""
    );
}

#[test]
fn a_sunset_head_decides_though_its_body_crawls() {
    let (run, elapsed, _) = run_against(Server::SunsetSlowBody, getter(), "");
    assert_eq!(run.verdict.kind, VerdictKind::Warned, "{:?}", run.verdict);
    assert_eq!(
        run.verdict.reason,
        "the server answered HTTP/1.1 200 OK, with a warning: Sunset: Thu, 01 Jan 2026 00:00:00 GMT (2026-01-01); judged by its head, its body still coming"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn a_body_rule_reads_the_crawling_body_as_far_as_it_needs() {
    let rule = "warning_body = [\"please upgrade\"]\n";
    let (run, elapsed, _) = run_against(Server::UpgradeInSlowBody, getter(), rule);
    assert_eq!(run.verdict.kind, VerdictKind::Warned, "{:?}", run.verdict);
    assert!(
        run.verdict
            .reason
            .contains("the body says `please upgrade to ExampleApp 3`"),
        "{:?}",
        run.verdict
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    // The same rule, and a body that never comes: the head's admission stands at the deadline.
    let (run, elapsed, _) = run_against(Server::StalledBody, getter(), rule);
    assert_eq!(run.verdict.kind, VerdictKind::Admitted, "{:?}", run.verdict);
    assert_eq!(
        run.verdict.reason,
        "the server answered HTTP/1.1 200 OK; judged by its head, its body still coming"
    );
    assert!(elapsed >= STEP_TIMEOUT, "{elapsed:?}");
    // Without a body rule, the stalled body's head decides at once.
    let (run, elapsed, _) = run_against(Server::StalledBody, getter(), "");
    assert_eq!(run.verdict.kind, VerdictKind::Admitted, "{:?}", run.verdict);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}
