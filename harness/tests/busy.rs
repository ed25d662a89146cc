//! A busy server is never a lockout: HTTP 429/503/408, PostgreSQL 53300, SSH DISCONNECT 12
//! and a drop before the banner, MSNP 600 are errors marked busy, counted apart, and
//! `--retry-busy` runs the case again after the server's Retry-After. What such servers say
//! reaches reports escaped and capped.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A server answering its connections in turn with `replies` (then closing each); the
/// bytes read before each reply are at least `min_read` (the client's first message).
fn serve(replies: Vec<Vec<u8>>, min_read: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for reply in replies {
            let Ok((mut socket, _)) = listener.accept() else {
                return;
            };
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut read = 0;
            let mut buf = [0u8; 4096];
            while read < min_read {
                match socket.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read += n,
                }
            }
            let _ = socket.write_all(&reply);
            let _ = socket.shutdown(std::net::Shutdown::Write);
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    addr
}

fn run(suite: &str, case: &str, addr: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let suite = repo_root().join("suites").join(suite);
    let mut args = vec![
        "run",
        suite.to_str().unwrap(),
        "--case",
        case,
        "--target",
        addr,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = harness(&args);
    let text = stdout(&out);
    let (results, summary) = json_lines(&text);
    assert_eq!(results.len(), 1, "{text}{}", stderr(&out));
    (results[0].clone(), summary.to_string())
}

fn http(status: &str, headers: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\n{headers}Content-Length: 4\r\nConnection: close\r\n\r\nbusy")
        .into_bytes()
}

#[test]
fn http_429_503_and_408_are_busy_errors_never_lockouts() {
    for status in [
        "429 Too Many Requests",
        "503 Service Unavailable",
        "408 Request Timeout",
    ] {
        let addr = serve(vec![http(status, "Retry-After: 7\r\n")], 16);
        let (result, summary) = run("http-sunset", "anonymous-client", &addr, &[]);
        assert_eq!(result["verdict"], "error", "{status}: {result}");
        assert_eq!(result["busy"]["retry_after_secs"], 7, "{status}: {result}");
        let reason = result["reason"].as_str().unwrap();
        assert!(reason.contains("busy, not refusing the client"), "{reason}");
        assert!(summary.contains("\"busy\":1"), "{summary}");
    }
}

#[test]
fn retry_busy_runs_the_case_again_after_retry_after() {
    let addr = serve(
        vec![
            http("429 Too Many Requests", "Retry-After: 1\r\n"),
            http("200 OK", ""),
        ],
        16,
    );
    let started = Instant::now();
    let (result, _) = run(
        "http-sunset",
        "anonymous-client",
        &addr,
        &["--retry-busy", "2"],
    );
    assert_eq!(result["verdict"], "admitted", "{result}");
    assert!(result.get("busy").is_none(), "{result}");
    assert!(
        result["reason"].as_str().unwrap().contains("on try 2"),
        "{result}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
}

#[test]
fn a_suite_can_call_a_busy_status_a_lockout() {
    let dir = tempfile::tempdir().unwrap();
    let source = repo_root().join("suites/http-sunset");
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::copy(
        source.join("cases/anonymous-client.toml"),
        dir.path().join("cases/anonymous-client.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.toml"),
        "name = \"strict\"\ndialect = \"http\"\ncases = \"cases\"\n[dialect_settings]\nlocked_out_statuses = [\"4xx\", \"429\"]\n",
    )
    .unwrap();
    let addr = serve(vec![http("429 Too Many Requests", "")], 16);
    let out = harness(&[
        "run",
        dir.path().to_str().unwrap(),
        "--target",
        &addr,
        "--format",
        "json",
    ]);
    let (results, _) = json_lines(&stdout(&out));
    assert_eq!(results[0]["verdict"], "locked-out", "{}", stderr(&out));
}

/// A PostgreSQL ErrorResponse with SQLSTATE `code`.
fn pg_error(code: &str, message: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, value) in [('S', "FATAL"), ('V', "FATAL"), ('C', code), ('M', message)] {
        body.push(field as u8);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(&body);
    message
}

#[test]
fn postgres_too_many_clients_and_shutting_down_are_busy_but_a_refusal_locks_out() {
    for (code, said, busy) in [
        ("53300", "sorry, too many clients already", true),
        ("57P03", "the database system is shutting down", true),
        ("28000", "no pg_hba.conf entry for host", false),
    ] {
        let addr = serve(vec![pg_error(code, said)], 8);
        let (result, _) = run("postgres-upgrade", "md5-only-driver", &addr, &[]);
        let expected = if busy { "error" } else { "locked-out" };
        assert_eq!(result["verdict"], expected, "{code}: {result}");
        assert_eq!(result.get("busy").is_some(), busy, "{code}: {result}");
        assert!(
            result["reason"].as_str().unwrap().contains(said),
            "{result}"
        );
    }
}

/// An SSH binary packet (unencrypted) around `payload`.
fn ssh_packet(payload: &[u8]) -> Vec<u8> {
    let padding = 8 - (payload.len() + 5) % 8 + if (payload.len() + 5) % 8 > 4 { 8 } else { 0 };
    let padding = if padding < 4 { padding + 8 } else { padding };
    let mut packet = ((payload.len() + padding + 1) as u32)
        .to_be_bytes()
        .to_vec();
    packet.push(padding as u8);
    packet.extend_from_slice(payload);
    packet.extend(std::iter::repeat_n(0u8, padding));
    packet
}

fn ssh_disconnect(code: u32, text: &str) -> Vec<u8> {
    let mut payload = vec![1u8];
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(&(text.len() as u32).to_be_bytes());
    payload.extend_from_slice(text.as_bytes());
    payload.extend_from_slice(&0u32.to_be_bytes());
    let mut reply = b"SSH-2.0-Fake_1.0\r\n".to_vec();
    reply.extend(ssh_packet(&payload));
    reply
}

#[test]
fn ssh_too_many_connections_and_a_drop_before_the_banner_are_busy() {
    let addr = serve(vec![ssh_disconnect(12, "Too many connections")], 8);
    let (result, _) = run("ssh-hardening", "cbc-only", &addr, &[]);
    assert_eq!(result["verdict"], "error", "{result}");
    assert!(result.get("busy").is_some(), "{result}");
    let addr = serve(vec![Vec::new()], 0);
    let (result, _) = run("ssh-hardening", "cbc-only", &addr, &[]);
    assert_eq!(result["verdict"], "error", "{result}");
    assert!(result.get("busy").is_some(), "{result}");
    assert!(
        result["reason"].as_str().unwrap().contains("MaxStartups"),
        "{result}"
    );
    let addr = serve(vec![ssh_disconnect(2, "Protocol error")], 8);
    let (result, _) = run("ssh-hardening", "cbc-only", &addr, &[]);
    assert_eq!(result["verdict"], "locked-out", "{result}");
}

#[test]
fn msnp_server_busy_is_not_a_lockout() {
    let addr = serve(vec![b"600 1\r\n".to_vec()], 4);
    let (result, _) = run("msn-2003", "msn-messenger-6.0", &addr, &[]);
    assert_eq!(result["verdict"], "error", "{result}");
    assert!(result.get("busy").is_some(), "{result}");
}

#[test]
fn a_hostile_servers_words_reach_reports_escaped_and_capped() {
    let hostile = format!("\u{1b}]0;OWNED\u{7}\u{1b}[2J{}", "x".repeat(200_000));
    let addr = serve(vec![ssh_disconnect(2, &hostile)], 8);
    let suite = repo_root().join("suites/ssh-hardening");
    let out = harness(&[
        "run",
        suite.to_str().unwrap(),
        "--case",
        "cbc-only",
        "--target",
        &addr,
        "--format",
        "json",
    ]);
    let text = stdout(&out);
    let line = text.lines().find(|l| l.contains("\"result\"")).unwrap();
    // The transcript keeps its own 64 KiB (as hex); reason and decided_by are capped.
    assert!(line.len() < 160 * 1024, "a {}-byte JSON line", line.len());
    let (results, _) = json_lines(&text);
    let reason = results[0]["reason"].as_str().unwrap();
    let decided_by = results[0]["decided_by"].as_str().unwrap();
    assert!(reason.len() < 2100, "a {}-byte reason", reason.len());
    assert!(
        decided_by.len() < 1100,
        "a {}-byte decided_by",
        decided_by.len()
    );
    assert!(!reason.contains('\u{1b}'), "{}", &reason[..80]);
    assert!(reason.contains("\\u{1b}]0;OWNED"), "{}", &reason[..80]);
    assert!(
        reason.contains("bytes more"),
        "{}",
        &reason[reason.len() - 40..]
    );
    for format in ["table", "markdown", "junit"] {
        let addr = serve(vec![ssh_disconnect(2, &hostile)], 8);
        let out = harness(&[
            "run",
            suite.to_str().unwrap(),
            "--case",
            "cbc-only",
            "--target",
            &addr,
            "--format",
            format,
            "--color",
            "never",
        ]);
        let text = stdout(&out);
        assert!(!text.contains('\u{1b}'), "{format} printed a raw ESC");
        assert!(!text.contains('\u{7}'), "{format} printed a raw BEL");
        assert!(text.len() < 64 * 1024, "{format}: {} bytes", text.len());
    }
}

#[test]
fn a_drop_while_other_cases_are_connected_names_jobs_and_max_connections() {
    // The first connection is kept (and answered late); the rest are dropped at once, as a
    // server past its connection limit does.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for (n, socket) in listener.incoming().enumerate() {
            let Ok(mut socket) = socket else { return };
            if n == 0 {
                kept.push(std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(800));
                    let _ = socket.write_all(&ssh_disconnect(2, "bye"));
                }));
            }
        }
    });
    let suite = repo_root().join("suites/ssh-hardening");
    let out = harness(&[
        "run",
        suite.to_str().unwrap(),
        "--case",
        "cbc-only",
        "--case",
        "dsa-only",
        "--target",
        &addr,
        "--jobs",
        "2",
        "--format",
        "json",
    ]);
    let (results, _) = json_lines(&stdout(&out));
    let dropped: Vec<&str> = results
        .iter()
        .filter(|r| r.get("busy").is_some())
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(dropped.len(), 1, "{results:?}");
    assert!(
        dropped[0].contains("1 other connection to this server was open")
            && dropped[0].contains("lower --jobs")
            && dropped[0].contains("max_connections"),
        "{}",
        dropped[0]
    );
}
