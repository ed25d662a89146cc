//! The SMTP submission dialect, a file with no Rust behind it, against a fake submission
//! server on loopback: scripted clients over plain text and STARTTLS get the verdicts and
//! deciding replies the file's rules give; a greeting is read before the first step (the
//! server refuses a client that speaks first); and real clients' captures (Python's smtplib,
//! with its TLS keys logged) are judged and grouped by the same file.

#[path = "common/mod.rs"]
mod common;
#[path = "smtp/server.rs"]
mod server;

use common::live_tls::free_port;
use common::mail;
use common::sasl::{PASSWORD, USER, encode, hmac_md5};
use common::{harness, repo_root, stderr, stdout};
use harness::commands::plan;
use harness::runner::Settings;
use harness::suite::load_suite;
use harness::verdict::VerdictKind;
use server::Mode;
use std::path::{Path, PathBuf};

/// The fake server's CRAM-MD5 challenge, which decides a CRAM-MD5 login.
const CHALLENGE: &str = "334 PDQ3MTEuMTc2NTEwMDAwMEBmYWtlLnRlc3Q+";

fn dialect_file() -> PathBuf {
    repo_root().join("suites/smtp-submission/dialects/smtp.toml")
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn steps(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| format!("[[step]]\nsend = \"{l}\"\n"))
        .collect()
}

/// A suite naming the dialect file beside it, with one case per kind of client.
fn suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dialects")).unwrap();
    std::fs::copy(dialect_file(), dir.path().join("dialects/smtp.toml")).unwrap();
    write(
        dir.path(),
        "suite.toml",
        "name = \"smtp\"\ndialect = \"dialects/smtp.toml\"\n",
    );
    let plain = encode(format!("\0{}\0{}", USER, PASSWORD).as_bytes());
    let wrong = encode(format!("\0{}\0nope", USER).as_bytes());
    let tls = ["EHLO client.test", "STARTTLS", "EHLO client.test"];
    let challenge = b"<4711.1765100000@fake.test>";
    let cram = encode(
        format!(
            "{} {}",
            USER,
            hex::encode(hmac_md5(PASSWORD.as_bytes(), challenge))
        )
        .as_bytes(),
    );
    let cases: [(&str, Vec<String>); 6] = [
        (
            "a-modern",
            [&tls[..], &[&format!("AUTH PLAIN {plain}")]]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        (
            "b-plaintext-auth",
            vec!["EHLO client.test".into(), format!("AUTH PLAIN {plain}")],
        ),
        (
            "c-login",
            [
                &tls[..],
                &["AUTH LOGIN", &encode(b"ann"), &encode(b"s3cret")],
            ]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        (
            "d-cram-md5",
            [&tls[..], &["AUTH CRAM-MD5", &cram]]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        (
            "e-wrong-password",
            [&tls[..], &[&format!("AUTH PLAIN {wrong}")]]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        (
            "f-no-auth",
            vec![
                "EHLO client.test".into(),
                "MAIL FROM:<a@client.test>".into(),
            ],
        ),
    ];
    for (id, lines) in cases {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        write(dir.path(), &format!("cases/{id}.toml"), &steps(&lines));
    }
    dir
}

#[tokio::test]
async fn scripted_clients_get_the_verdicts_the_dialect_file_gives() {
    let dir = suite();
    let suite = load_suite(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(suite.dialect.name(), "smtp");
    let mut targets = Vec::new();
    for mode in [Mode::Submission, Mode::Encrypt538, Mode::Busy, Mode::Silent] {
        targets.push(server::start(mode, 0).await.to_string());
    }
    let endpoints = plan::endpoints(&suite, &targets, None).await.unwrap();
    let results = plan::execute(
        &suite,
        &suite.cases,
        &endpoints.list,
        4,
        &Settings::default(),
    )
    .await;
    let mode_of = |target: &str| {
        let i = targets
            .iter()
            .position(|t| target.contains(t.as_str()))
            .unwrap();
        ["submission", "538", "busy", "silent"][i]
    };
    let got: Vec<(String, &str, VerdictKind, bool, String, String)> = results
        .iter()
        .map(|r| {
            let v = &r.verdict;
            let decided = v
                .decided_by
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            (
                r.case.clone(),
                mode_of(&r.target),
                v.kind,
                v.is_busy(),
                v.stage.clone(),
                decided,
            )
        })
        .collect();
    use VerdictKind::*;
    let expect = |case: &str, mode: &str| -> (VerdictKind, bool, &str, &str) {
        match (case, mode) {
            (_, "busy") => (
                Error,
                true,
                "greeting",
                "421 4.3.2 Service shutting down, try later",
            ),
            (_, "silent") => (Error, false, "greeting", ""),
            ("a-modern", _) => (
                Admitted,
                false,
                "AUTH",
                "235 2.7.0 Authentication successful",
            ),
            ("b-plaintext-auth", "submission") => (
                LockedOut,
                false,
                "AUTH",
                "530 5.7.0 Must issue a STARTTLS command first",
            ),
            ("b-plaintext-auth", _) => (
                LockedOut,
                false,
                "AUTH",
                "538 5.7.11 Encryption required for requested authentication mechanism",
            ),
            ("c-login", _) => (Warned, false, "AUTH", "235 2.7.0 Authentication successful"),
            // Decided by the challenge: the server has taken the mechanism (a recorded answer
            // could not answer a fresh challenge, so the dialect does not wait for it).
            ("d-cram-md5", _) => (Warned, false, "AUTH", CHALLENGE),
            ("e-wrong-password", _) => (
                LockedOut,
                false,
                "AUTH",
                "535 5.7.8 Error: authentication failed: authentication failure",
            ),
            ("f-no-auth", _) => (
                LockedOut,
                false,
                "MAIL",
                "530 5.7.0 Authentication required",
            ),
            _ => unreachable!(),
        }
    };
    for (case, mode, kind, busy, stage, decided) in &got {
        let want = expect(case, mode);
        assert_eq!(
            (*kind, *busy, stage.as_str(), decided.as_str()),
            want,
            "{case} at {mode}: {got:#?}"
        );
    }
    assert_eq!(got.len(), 24);
    let cram = results.iter().find(|r| r.case == "d-cram-md5").unwrap();
    assert_eq!(
        cram.verdict.reason,
        "the server accepts this challenge-response mechanism (its 334 challenge); warned: a retired AUTH mechanism (CRAM-MD5)"
    );
    let plaintext = results
        .iter()
        .find(|r| r.case == "b-plaintext-auth")
        .unwrap();
    assert!(
        plaintext.verdict.reason.contains("requires STARTTLS first"),
        "{:?}",
        plaintext.verdict
    );

    // The snapshot shows the greeting read first, the multi-line EHLO reply as one message,
    // and the credentials redacted.
    let modern = &results[0];
    let snapshot = harness::snapshot::render(modern, suite.dialect);
    assert!(
        snapshot.contains("  < 220 fake.test ESMTP ready\n  > EHLO client.test\n"),
        "{snapshot}"
    );
    assert!(
        snapshot.contains("  < 250-fake.test\n    250-PIPELINING\n"),
        "{snapshot}"
    );
    assert!(snapshot.contains("AUTH PLAIN <credentials>"), "{snapshot}");
}

#[test]
fn check_reports_a_mistake_in_the_dialect_file_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(dialect_file())
        .unwrap()
        .replace("then = \"upgrade-tls\"", "then = \"upgrade-tsl\"");
    write(dir.path(), "dialects/smtp.toml", &text);
    let line = text
        .lines()
        .position(|l| l.contains("upgrade-tsl"))
        .unwrap()
        + 1;
    let out = harness(&[
        "check",
        dir.path().join("dialects/smtp.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("dialects/smtp.toml:{line}:8")),
        "{err}"
    );
    assert!(err.contains("did you mean `upgrade-tls`?"), "{err}");

    // A suite naming the file reports the same mistake, in the dialect file.
    write(
        dir.path(),
        "suite.toml",
        "name = \"s\"\ndialect = \"dialects/smtp.toml\"\n",
    );
    let out = harness(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("dialects/smtp.toml:{line}:8")),
        "{}",
        stderr(&out)
    );

    let good = harness(&["check", dialect_file().to_str().unwrap()]);
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
    let listed = harness(&["dialects", dialect_file().to_str().unwrap()]);
    assert!(
        stdout(&listed).contains("smtp — SMTP submission"),
        "{}",
        stdout(&listed)
    );
    write(
        dir.path(),
        "cases/a.toml",
        "[[step]]\nsend = \"EHLO client.test\"\n",
    );
    let json = harness(&[
        "dialects",
        "--suite",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        json.status.code(),
        Some(2),
        "the suite's dialect file has a mistake"
    );
    write(
        dir.path(),
        "dialects/smtp.toml",
        &std::fs::read_to_string(dialect_file()).unwrap(),
    );
    let json = harness(&[
        "dialects",
        "--suite",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let entries: serde_json::Value =
        serde_json::from_str(&stdout(&json)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&json)));
    let smtp = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "smtp")
        .unwrap();
    assert!(
        smtp["source"]
            .as_str()
            .unwrap()
            .ends_with("dialects/smtp.toml"),
        "{smtp}"
    );
    assert!(
        entries[0].get("source").is_none(),
        "a built-in dialect has no source file"
    );
    assert!(
        stdout(&listed).contains("source file:      "),
        "{}",
        stdout(&listed)
    );
}

/// Python's smtplib as a mail client would use it, its TLS keys logged to `keylog`:
/// `cram` (STARTTLS, then `login`, which picks CRAM-MD5), `plain` (STARTTLS, AUTH PLAIN) or
/// `cleartext` (AUTH PLAIN with no STARTTLS).
const SMTPLIB: &str = r#"
import base64, smtplib, sys
port, kind = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo()
if kind != "cleartext":
    s.starttls()
    s.ehlo()
s.user, s.password = "ann", "s3cret"
if kind == "cram":
    s.login("ann", "s3cret")
elif kind == "plain":
    s.auth("PLAIN", s.auth_plain)
else:
    s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0ann\0s3cret").decode())
s.quit()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn real_clients_captures_are_judged_and_grouped_by_the_file() {
    let port = free_port();
    server::start(Mode::Submission, port).await;
    let kinds = &["cram", "plain", "cleartext", "cram"];
    let Some(captured) = mail::capture(port, &dialect_file(), SMTPLIB, kinds).await else {
        return;
    };
    let ok = "235 2.7.0 Authentication successful";
    let tls_first = "530 5.7.0 Must issue a STARTTLS command first";
    let expected: Vec<(String, String, String)> = [
        ("warned", "AUTH", CHALLENGE),
        ("admitted", "AUTH", ok),
        ("locked-out", "AUTH", tls_first),
        ("warned", "AUTH", CHALLENGE),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(captured.judge(&dialect_file(), true), expected);
    // Without the keys what followed STARTTLS cannot be seen: undecided, never a lockout.
    let without: Vec<String> = captured
        .judge(&dialect_file(), false)
        .into_iter()
        .map(|(kind, _, _)| kind)
        .collect();
    assert_eq!(
        without,
        ["undecided", "undecided", "locked-out", "undecided"]
    );
    // Inspected through the file, the decrypted sessions read as SMTP lines.
    let (file, port) = (
        dialect_file().display().to_string(),
        captured.port.to_string(),
    );
    let inspect = harness(&[
        "inspect",
        &captured.pcap,
        "--dialect",
        &file,
        "--port",
        &port,
        "--keylog",
        &captured.keylog,
    ]);
    assert_eq!(inspect.status.code(), Some(0), "{}", stderr(&inspect));
    assert!(
        stdout(&inspect).contains("AUTH CRAM-MD5"),
        "{}",
        stdout(&inspect)
    );
    // What if this server were the policy: each distinct client replayed against it live,
    // over STARTTLS as it was recorded, gets the verdict its session got.
    let target = format!("fake=127.0.0.1:{port}");
    let whatif = harness(&[
        "whatif",
        &captured.pcap,
        "--dialect",
        &file,
        "--port",
        &port,
        "--keylog",
        &captured.keylog,
        "--target",
        &target,
        "--format",
        "json",
    ]);
    let mut replayed: Vec<String> = stdout(&whatif)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "result")
        .map(|r| {
            format!(
                "{} {}",
                r["verdict"].as_str().unwrap_or_default(),
                r["stage"].as_str().unwrap_or_default()
            )
        })
        .collect();
    replayed.sort();
    assert_eq!(
        replayed,
        ["admitted AUTH", "locked-out AUTH", "warned AUTH"],
        "{}{}",
        stdout(&whatif),
        stderr(&whatif)
    );
    // Grouped, the two CRAM-MD5 sessions are one client; the suite written takes the file.
    assert_eq!(captured.group(&dialect_file()), [1, 1, 2]);
}

/// `harness record --dialect PATH.toml` between scripted clients and the server: through the
/// proxy each client gets the verdict it gets directly, and the sessions it writes are judged
/// by the file to the same verdicts.
#[tokio::test(flavor = "multi_thread")]
async fn recorded_sessions_are_judged_by_the_file_as_they_ran() {
    let server = server::start(Mode::Submission, 0).await.to_string();
    let dir = suite();
    let out = tempfile::tempdir().unwrap();
    let file = dialect_file().display().to_string();
    let mut recorder = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["record", "--dialect", &file, "--listen", "127.0.0.1:0"])
        .args(["--upstream", &server, "--sessions", "2", "--out"])
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(recorder.stdout.take().unwrap()));
    let banner = lines.next().unwrap().unwrap();
    let proxy = banner.split_whitespace().nth(2).unwrap().to_string();
    let suite_dir = dir.path().display().to_string();
    let run = tokio::task::spawn_blocking(move || {
        harness(&[
            "run",
            &suite_dir,
            "--target",
            &proxy,
            "--case",
            "b-plaintext-auth",
            "--case",
            "f-no-auth",
            "--format",
            "json",
        ])
    })
    .await
    .unwrap();
    let verdicts = |text: &str| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "result")
            .map(|r| {
                (
                    r["verdict"].as_str().unwrap_or_default().to_string(),
                    r["stage"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let live = verdicts(&stdout(&run));
    let expected = [
        ("locked-out".to_string(), "AUTH".to_string()),
        ("locked-out".to_string(), "MAIL".to_string()),
    ];
    assert_eq!(live, expected, "{}", stderr(&run));
    let status = tokio::task::spawn_blocking(move || recorder.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());

    let judged = harness(&[
        "judge",
        out.path().to_str().unwrap(),
        "--dialect",
        &file,
        "--format",
        "json",
    ]);
    assert_eq!(verdicts(&stdout(&judged)), expected, "{}", stderr(&judged));
}

/// A self-test bundle of a suite whose dialect is a file holds the file's hash: an operator
/// whose copy of the dialect differs is told which file.
#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_names_a_dialect_file_that_differs() {
    let server = server::start(Mode::Submission, 0).await.to_string();
    let dir = suite();
    let (suite_arg, bundle) = (
        dir.path().display().to_string(),
        dir.path().join("bundle.json").display().to_string(),
    );
    let (s, b) = (suite_arg.clone(), bundle.clone());
    let run = tokio::task::spawn_blocking(move || {
        harness(&[
            "run", &s, "--target", &server, "--case", "a-modern", "--bundle", &b,
        ])
    })
    .await
    .unwrap();
    assert!(matches!(run.status.code(), Some(0 | 1)), "{}", stderr(&run));
    let ok = harness(&["verify-bundle", &bundle, "--suite", &suite_arg]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    let file = dir.path().join("dialects/smtp.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("reason = \"authenticated (235)\"", "reason = \"in\""),
    )
    .unwrap();
    let out = harness(&["verify-bundle", &bundle, "--suite", &suite_arg]);
    assert_eq!(
        out.status.code(),
        Some(harness::exit::MISMATCH),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("dialects/smtp.toml: differs from the local suite"),
        "{}",
        stdout(&out)
    );
}
