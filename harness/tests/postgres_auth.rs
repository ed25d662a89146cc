//! Logging in to real PostgreSQL with the suite's password: the postgres-login suite's psql
//! and psycopg2 captures and scripted drivers complete SCRAM-SHA-256 (in the clear and inside
//! TLS), MD5 and the cleartext password and are decided at AuthenticationOk; a wrong password
//! is a set-up error, not a lockout; the same suite without a password decides every case as
//! before, at the request; and `judge` on psql's recorded SCRAM login decides at
//! AuthenticationOk too.

mod common;

use common::suite_server::{ServerScript, SuiteServer};
use common::*;
use harness::verdict::VerdictKind;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn login_suite() -> PathBuf {
    repo_root().join("suites/postgres-login")
}

fn field<'a>(
    results: &'a BTreeMap<(String, String), Value>,
    case: &str,
    target: &str,
    name: &str,
) -> &'a str {
    results[&(case.to_string(), target.to_string())][name]
        .as_str()
        .unwrap_or_default()
}

/// The snapshot a result was checked against (the run passed: it matched), as people read it.
fn snapshot(case: &str, target: &str) -> String {
    std::fs::read_to_string(login_suite().join(format!("snapshots/{case}@{target}.snap"))).unwrap()
}

/// The client's messages of a result, as sent.
fn client_messages(
    results: &BTreeMap<(String, String), Value>,
    case: &str,
    target: &str,
) -> Vec<Vec<u8>> {
    results[&(case.to_string(), target.to_string())]["transcript"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["direction"] == "client")
        .map(|e| hex::decode(e["hex"].as_str().unwrap()).unwrap())
        .collect()
}

#[test]
fn psql_and_psycopg2_log_in_with_scram_md5_and_the_clear_password() {
    let results = suite_results(&login_suite());
    for case in [
        "psql-sslmode-disable.captured",
        "psycopg2.captured",
        "scram-driver",
    ] {
        assert_eq!(
            field(&results, case, "scram-only", "verdict"),
            "admitted",
            "{case}"
        );
        assert_eq!(
            field(&results, case, "scram-only", "decided_by"),
            "AuthenticationOk"
        );
        assert_eq!(
            field(&results, case, "scram-only", "reason"),
            "logged in: AuthenticationOk after SCRAM-SHA-256"
        );
        let shown = snapshot(case, "scram-only");
        for message in [
            "> SASLInitialResponse SCRAM-SHA-256",
            "< AuthenticationSASLContinue",
            "> SASLResponse",
            "< AuthenticationSASLFinal",
            "< AuthenticationOk",
        ] {
            assert!(shown.contains(message), "{case}: no {message} in {shown}");
        }
        // What varies from run to run, the nonces and the proof, is not shown.
        assert!(
            !shown.contains(",r=") && !shown.contains(",p=") && !shown.contains("n,,"),
            "{shown}"
        );
        // On the wire: a client-first message with a fresh nonce, no channel binding.
        let sent = client_messages(&results, case, "scram-only");
        let first = sent
            .iter()
            .find(|m| m.starts_with(b"p") && m[5..].starts_with(b"SCRAM-SHA-256\0"))
            .unwrap_or_else(|| panic!("{case}: no SASLInitialResponse"));
        let client_first = String::from_utf8_lossy(&first[5 + 14 + 4..]);
        assert!(client_first.starts_with("n,,n=,r="), "{client_first}");
        assert_eq!(client_first.len(), "n,,n=,r=".len() + 24);
        assert!(!shown.contains(&client_first[8..]), "the nonce in {shown}");
        assert_eq!(
            field(&results, case, "permissive", "reason"),
            "logged in: AuthenticationOk after md5; md5 is deprecated",
            "{case}"
        );
        assert_eq!(
            field(&results, case, "password", "reason"),
            "logged in: AuthenticationOk after password; password is deprecated",
            "{case}"
        );
    }
    // psycopg2 asks for TLS first: against hostssl-only its login goes on inside TLS, where
    // the server also offers SCRAM-SHA-256-PLUS.
    assert_eq!(
        field(&results, "psycopg2.captured", "hostssl-only", "verdict"),
        "admitted"
    );
    assert!(snapshot("psycopg2.captured", "hostssl-only").contains("< S (TLS accepted)"));
    assert_eq!(
        field(
            &results,
            "psql-sslmode-require.captured",
            "hostssl-only",
            "reason"
        ),
        "logged in: AuthenticationOk after SCRAM-SHA-256"
    );
}

#[test]
fn a_wrong_password_is_reported_as_such_never_as_a_lockout() {
    let results = suite_results(&login_suite());
    for (target, method) in [
        ("scram-only", "SCRAM-SHA-256"),
        ("permissive", "md5"),
        ("password", "password"),
    ] {
        assert_eq!(
            field(&results, "wrong-password", target, "verdict"),
            "error"
        );
        assert_eq!(
            field(&results, "wrong-password", target, "reason"),
            format!(
                "wrong password: the server refused the suite's password ({method}): FATAL 28P01: password authentication failed for user \"harness\""
            )
        );
        assert!(
            field(&results, "wrong-password", target, "decided_by")
                .starts_with("ErrorResponse FATAL 28P01")
        );
    }
    // A refusal before any password is still the policy's.
    assert_eq!(
        field(&results, "wrong-password", "hostssl-only", "verdict"),
        "locked-out"
    );
}

/// The postgres-login suite in `dir` as it is, less its password, with its paths made
/// absolute and no snapshots.
fn suite_without_password(dir: &Path) -> PathBuf {
    let root = repo_root().canonicalize().unwrap();
    let text = std::fs::read_to_string(login_suite().join("suite.toml"))
        .unwrap()
        .replace("password = \"harness\"\n", "")
        .replace("\"../../", &format!("\"{}/", root.display()))
        .replace(
            "\"../postgres-upgrade/",
            &format!("\"{}/suites/postgres-upgrade/", root.display()),
        );
    assert!(!text.contains("password = \"harness\""));
    std::fs::write(dir.join("suite.toml"), text).unwrap();
    copy_dir(&login_suite().join("cases"), &dir.join("cases"));
    dir.to_path_buf()
}

/// A suite run as JSON with its snapshots recorded afresh: each result by (case, target);
/// every verdict as the suite expects.
fn results_accepting_snapshots(suite: &Path) -> BTreeMap<(String, String), Value> {
    let out = harness(&[
        "run",
        &suite.display().to_string(),
        "--format",
        "json",
        "--accept",
    ]);
    let (results, summary) = json_lines(&stdout(&out));
    assert_eq!(summary["mismatched"], 0, "{}", stderr(&out));
    assert_eq!(summary["as_expected"], results.len());
    by_case_and_target(results)
}

#[test]
fn without_a_password_every_verdict_is_as_before_and_says_it_stopped_at_the_request() {
    let with = suite_results(&login_suite());
    let work = tempfile::tempdir().unwrap();
    // It runs against the same [expect]: every verdict is the same without the password.
    let without = results_accepting_snapshots(&suite_without_password(work.path()));
    assert_eq!(with.len(), without.len());
    let mut stopped = 0;
    for (key, result) in &without {
        assert_eq!(result["verdict"], with[key]["verdict"], "{key:?}");
        let reason = result["reason"].as_str().unwrap();
        if with[key]["reason"]
            .as_str()
            .unwrap()
            .starts_with("logged in")
        {
            assert!(
                reason.contains(
                    "the client reached authentication; no password given, not completed"
                ),
                "{key:?}: {reason}"
            );
            assert!(
                result["decided_by"]
                    .as_str()
                    .unwrap()
                    .starts_with("Authentication")
            );
            assert!(
                !result["transcript"]
                    .to_string()
                    .contains("SASLInitialResponse")
            );
            stopped += 1;
        }
    }
    assert!(stopped >= 10, "{stopped} logins stopped at the request");
}

/// postgres-upgrade's server under `config`, in `dir`; stopped when dropped.
fn server(config: &'static str, dir: &Path) -> SuiteServer {
    let script = ServerScript {
        suite: "postgres-upgrade",
        script: "postgres.sh",
        phase: config,
        ready_when: Some("ready to accept connections"),
    };
    SuiteServer::start(&script, dir)
}

/// psql with `password` through `harness record` to `server`: whether it logged in, and the
/// folder the session was written to.
fn recorded_psql(server: &SuiteServer, password: &str, out: &Path) -> bool {
    let (proxy, mut record) = recorder("postgres", server.port, out, 1);
    let port = proxy.trim_start_matches("127.0.0.1:");
    let connected = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user=harness dbname=harness sslmode=disable gssencmode=disable connect_timeout=10"
        ))
        .args(["-XAtc", "select 1"])
        .env("PGPASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .status
        .success();
    assert!(record.wait().unwrap().success());
    connected
}

#[test]
fn judge_decides_a_recorded_scram_login_at_authentication_ok() {
    let work = tempfile::tempdir().unwrap();
    let server = server("scram-only", work.path());
    let (right, wrong) = (work.path().join("right"), work.path().join("wrong"));
    assert!(recorded_psql(&server, "harness", &right));
    assert!(!recorded_psql(&server, "not-the-password", &wrong));
    drop(server);
    let judged = |dir: &Path| {
        let out = harness(&["judge", &dir.display().to_string(), "--format", "json"]);
        let (results, _) = json_lines(&stdout(&out));
        assert_eq!(results.len(), 1, "{}", stderr(&out));
        results[0].clone()
    };
    let logged_in = judged(&right);
    assert_eq!(logged_in["verdict"], "admitted");
    assert_eq!(logged_in["decided_by"], "AuthenticationOk");
    assert_eq!(
        logged_in["reason"],
        "logged in: AuthenticationOk after SCRAM-SHA-256"
    );
    let refused = judged(&wrong);
    assert_eq!(refused["verdict"], "error", "{refused}");
    assert!(
        refused["reason"].as_str().unwrap().starts_with(
            "wrong password: the server refused the client's password (SCRAM-SHA-256): FATAL 28P01"
        ),
        "{refused}"
    );
}

/// A backend message.
fn backend(kind: u8, body: &[u8]) -> bytes::Bytes {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    bytes::Bytes::from(out)
}

/// An authentication message: its code, then `data`.
fn auth(code: u32, data: &[u8]) -> bytes::Bytes {
    backend(b'R', &[&code.to_be_bytes()[..], data].concat())
}

/// A startup sent with the password `harness`, the server's SASL request received: the
/// conversation, and the nonce of its client-first message.
fn scram_begun() -> (Box<dyn harness::dialect::Conversation>, String) {
    let postgres = harness::dialect::by_name("postgres").unwrap();
    let settings = postgres.settings(&BTreeMap::new()).unwrap();
    let mut conversation = postgres.conversation(None, &settings);
    let values: BTreeMap<String, String> = [("password", "harness"), ("user", "harness")]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
    let step =
        harness::dialect::text_step(postgres, "startup user=harness database=harness").unwrap();
    conversation.send(step.as_ref(), &values).unwrap();
    let received = conversation.receive(auth(10, b"SCRAM-SHA-256\0\0"));
    assert!(received.verdict.is_none() && !received.answers_request);
    let first = conversation.respond().expect("a SASLInitialResponse");
    let text = String::from_utf8_lossy(&first);
    let nonce = text.split("r=").nth(1).unwrap().to_string();
    (conversation, nonce)
}

#[test]
fn a_server_that_breaks_the_scram_exchange_gets_an_error_naming_what_it_did() {
    /// The server-first message a server that knows the client's nonce sends.
    fn server_first(nonce: &str, iterations: &str) -> Vec<u8> {
        format!("r={nonce}SERVER,s=c2FsdA==,i={iterations}").into_bytes()
    }
    /// What the server sends after the client-first message, given the client's nonce.
    type Script = fn(&str) -> Vec<bytes::Bytes>;
    let cases: [(&str, Script); 5] = [
        ("does not extend the client's", |_| {
            vec![auth(11, b"r=someone-else,s=c2FsdA==,i=4096")]
        }),
        ("iterations (1 to 1000000)", |n| {
            vec![auth(11, &server_first(n, "99999999"))]
        }),
        ("signature is wrong", |n| {
            vec![auth(11, &server_first(n, "4096")), auth(12, b"v=AAAA")]
        }),
        (
            "AuthenticationOk before the server proved it knows the password",
            |n| vec![auth(11, &server_first(n, "4096")), auth(0, b"")],
        ),
        ("a server-final message before the client-final one", |_| {
            vec![auth(12, b"v=AAAA")]
        }),
    ];
    for (says, script) in cases {
        let (mut conversation, nonce) = scram_begun();
        let mut verdict = None;
        for message in script(&nonce) {
            let received = conversation.receive(message);
            let _ = conversation.respond();
            if let Some(v) = received.verdict {
                verdict = Some(v);
                break;
            }
        }
        let verdict = verdict.unwrap_or_else(|| panic!("no verdict for {says}"));
        assert_eq!(verdict.kind, VerdictKind::Error, "{says}: {verdict:?}");
        assert!(verdict.reason.contains(says), "{says}: {}", verdict.reason);
    }
    // A server that stops answering mid-login is an error too, never an admission.
    let (mut conversation, _) = scram_begun();
    let ended = conversation.ended(harness::dialect::Ending::Closed);
    assert_eq!(ended.kind, VerdictKind::Error);
    assert!(
        ended
            .reason
            .contains("after the client's SCRAM-SHA-256 answer"),
        "{}",
        ended.reason
    );
}
