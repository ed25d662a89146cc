//! The IMAP dialect, a file with no Rust behind it, against a fake IMAP server on loopback
//! that answers as Dovecot does with `ssl = required`: scripted clients (tagged lines,
//! untagged replies read as asides until the tagged answer, STARTTLS, LOGIN, AUTHENTICATE)
//! get the verdicts the file's rules give, and Python's imaplib, captured with its TLS keys,
//! is judged and grouped by the same file.

#[path = "common/mod.rs"]
mod common;
#[path = "imap/server.rs"]
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

fn dialect_file() -> PathBuf {
    repo_root().join("suites/imap-dovecot/dialects/imap.toml")
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dialects")).unwrap();
    std::fs::copy(dialect_file(), dir.path().join("dialects/imap.toml")).unwrap();
    write(
        dir.path(),
        "suite.toml",
        "name = \"imap\"\ndialect = \"dialects/imap.toml\"\n",
    );
    let cram = encode(
        format!(
            "{USER} {}",
            hex::encode(hmac_md5(
                PASSWORD.as_bytes(),
                b"<4711.1765100000@fake.test>"
            ))
        )
        .as_bytes(),
    );
    let plain = encode(format!("\0{USER}\0{PASSWORD}").as_bytes());
    let cases: [(&str, Vec<String>); 6] = [
        (
            "a-modern",
            vec![
                "a1 CAPABILITY".into(),
                "a2 STARTTLS".into(),
                format!("a3 LOGIN {USER} \"{PASSWORD}\""),
            ],
        ),
        ("b-plaintext", vec![format!("a1 LOGIN {USER} {PASSWORD}")]),
        (
            "c-cram-md5",
            vec![
                "a1 STARTTLS".into(),
                "a2 AUTHENTICATE CRAM-MD5".into(),
                cram,
            ],
        ),
        (
            "d-wrong-password",
            vec!["a1 STARTTLS".into(), format!("a2 LOGIN {USER} nope")],
        ),
        (
            "e-plain-initial",
            vec![
                "a1 ID (\"name\" \"mutt\" \"version\" \"2.2.12\")".into(),
                "a2 STARTTLS".into(),
                format!("a3 AUTHENTICATE PLAIN {plain}"),
            ],
        ),
        (
            "f-bad-command",
            vec!["a1 NOOP".into(), "a2 SELECT INBOX".into()],
        ),
    ];
    for (id, lines) in cases {
        let steps: String = lines
            .iter()
            .map(|l| format!("[[step]]\nsend = '{l}'\n"))
            .collect();
        write(dir.path(), &format!("cases/{id}.toml"), &steps);
    }
    dir
}

#[tokio::test]
async fn scripted_clients_get_the_verdicts_the_dialect_file_gives() {
    let dir = suite();
    let suite = load_suite(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let required = server::start(Mode::Required, 0).await.to_string();
    let busy = server::start(Mode::Busy, 0).await.to_string();
    let targets = [required.clone(), busy];
    let endpoints = plan::endpoints(&suite, &targets, None).await.unwrap();
    let results = plan::execute(
        &suite,
        &suite.cases,
        &endpoints.list,
        4,
        &Settings::default(),
    )
    .await;
    use VerdictKind::*;
    let logged_in = "a3 OK [CAPABILITY IMAP4rev1 ID] Logged in";
    for r in &results {
        let v = &r.verdict;
        let decided = v.decided_by.as_deref().unwrap_or_default();
        let want: (VerdictKind, bool, &str, &str) = match (
            r.case.as_str(),
            r.target.contains(&required),
        ) {
            (_, false) => (
                Error,
                true,
                "greeting",
                "* BYE Too many connections, try again later",
            ),
            ("a-modern", _) => (Admitted, false, "LOGIN", logged_in),
            ("b-plaintext", _) => (
                LockedOut,
                false,
                "LOGIN",
                "a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
            ),
            // Decided by the challenge: the server has taken the mechanism (a recorded
            // answer could not answer a fresh challenge, so the dialect does not wait for it).
            ("c-cram-md5", _) => (
                Warned,
                false,
                "AUTHENTICATE",
                "+ PDQ3MTEuMTc2NTEwMDAwMEBmYWtlLnRlc3Q+",
            ),
            ("d-wrong-password", _) => (
                LockedOut,
                false,
                "LOGIN",
                "a2 NO [AUTHENTICATIONFAILED] Authentication failed.",
            ),
            ("e-plain-initial", _) => (Admitted, false, "AUTHENTICATE", logged_in),
            ("f-bad-command", _) => (
                Error,
                false,
                "SELECT",
                "a2 BAD Error in IMAP command received by server.",
            ),
            _ => unreachable!(),
        };
        assert_eq!(
            (v.kind, v.is_busy(), v.stage.as_str(), decided),
            want,
            "{} at {}: {v:?}",
            r.case,
            r.target
        );
    }
    assert_eq!(results.len(), 12);
    let plaintext = results.iter().find(|r| r.case == "b-plaintext").unwrap();
    assert_eq!(
        plaintext.verdict.reason,
        "plaintext authentication refused before TLS (PRIVACYREQUIRED)"
    );
    let cram = results.iter().find(|r| r.case == "c-cram-md5").unwrap();
    assert_eq!(
        cram.verdict.reason,
        "the server accepts this challenge-response mechanism (its challenge); warned: a retired AUTHENTICATE mechanism (CRAM-MD5)"
    );
    let modern = harness::snapshot::render(&results[0], suite.dialect);
    assert!(modern.contains("  > a3 LOGIN ann <password>\n"), "{modern}");
    // The untagged CAPABILITY line is read on the way to the tagged answer.
    assert!(
        modern.contains("  < * CAPABILITY IMAP4rev1 ID STARTTLS LOGINDISABLED\n"),
        "{modern}"
    );
}

#[test]
fn a_tagged_step_is_checked_after_its_tag() {
    let dir = suite();
    write(
        dir.path(),
        "cases/z-typo.toml",
        "[[step]]\nsend = 'a1 LOGNI ann x'\n",
    );
    let out = harness(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("`LOGNI` is not a imap verb"), "{err}");
    assert!(err.contains("did you mean `LOGIN`?"), "{err}");
    assert!(err.contains("z-typo.toml:2:"), "{err}");
}

/// Python's imaplib: `login` after STARTTLS, `cleartext` LOGIN, or `cram` (STARTTLS, then
/// AUTHENTICATE CRAM-MD5), its TLS keys logged.
const IMAPLIB: &str = r#"
import imaplib, sys
port, kind = int(sys.argv[1]), sys.argv[2]
m = imaplib.IMAP4("127.0.0.1", port, timeout=10)
if kind != "cleartext":
    m.starttls()
try:
    if kind == "cram":
        m.login_cram_md5("ann", "s3cret")
    else:
        m.login("ann", "s3cret")
except imaplib.IMAP4.error:
    pass
m.logout()
"#;

#[tokio::test(flavor = "multi_thread")]
async fn real_clients_captures_are_judged_and_grouped_by_the_file() {
    let port = free_port();
    server::start(Mode::Required, port).await;
    let kinds = &["login", "cleartext", "cram", "login"];
    let Some(captured) = mail::capture(port, &dialect_file(), IMAPLIB, kinds).await else {
        return;
    };
    let verdicts = |keys| -> Vec<(String, String)> {
        let judged = captured.judge(&dialect_file(), keys);
        judged
            .into_iter()
            .map(|(kind, stage, _)| (kind, stage))
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        verdicts(true),
        pairs(&[
            ("admitted", "LOGIN"),
            ("locked-out", "LOGIN"),
            ("warned", "AUTHENTICATE"),
            ("admitted", "LOGIN")
        ])
    );
    // Without the keys what followed STARTTLS cannot be seen: undecided, never a lockout.
    let without: Vec<String> = verdicts(false).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        without,
        ["undecided", "locked-out", "undecided", "undecided"]
    );
    // imaplib's random tags are no part of its signature: its two LOGIN sessions are one.
    assert_eq!(captured.group(&dialect_file()), [1, 1, 2]);
}
