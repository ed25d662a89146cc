//! A dialect plugs in with no core change: KNOCK, a made-up line protocol defined in this
//! test, is registered at run time, and its suite loads (steps and settings checked by the
//! dialect), runs (plain, upgraded to TLS in-band, and TLS from the first byte), and renders
//! snapshots through the same core as MSNP and TLS.

#[path = "plugin/dialect.rs"]
mod dialect;
#[path = "plugin/server.rs"]
mod server;

use harness::commands::plan;
use harness::runner::Settings;
use harness::suite::load_suite;
use harness::verdict::VerdictKind;
use std::path::Path;

fn register() {
    harness::dialect::register(&dialect::KNOCK).unwrap();
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const SUITE: &str = r#"
name = "knock"
dialect = "knock"
[dialect_settings]
warn_below = 3.0
"#;

/// A suite of four KNOCK clients in a fresh folder.
fn knock_suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "suite.toml", SUITE);
    let hello = |v: &str| format!("[[step]]\nsend = \"HELLO knocker {v}\"\n");
    write(
        dir.path(),
        "cases/a-modern.toml",
        &format!(
            "{}[[step]]\nsend = \"STARTTLS\"\n[[step]]\nsend = \"LOGIN {{user}}\"\n[variables]\nuser = \"ann\"\n",
            hello("3.1")
        ),
    );
    write(
        dir.path(),
        "cases/b-old.toml",
        &format!(
            "{}[[step]]\nsend = \"STARTTLS\"\n[[step]]\nsend = \"LOGIN bob\"\n",
            hello("1.5")
        ),
    );
    write(
        dir.path(),
        "cases/c-ancient.toml",
        &format!("{}[[step]]\nsend = \"LOGIN cy\"\n", hello("0.9")),
    );
    write(
        dir.path(),
        "cases/d-plaintext.toml",
        &format!("{}[[step]]\nsend = \"LOGIN dee\"\n", hello("3.0")),
    );
    dir
}

#[tokio::test]
async fn a_registered_dialect_runs_plain_upgraded_and_tls_targets() {
    register();
    let dir = knock_suite();
    let suite = load_suite(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(suite.dialect.name(), "knock");
    let plain = server::start(false).await.to_string();
    let tls_first = server::start(true).await;
    let targets = [plain, format!("tls://{tls_first}")];
    let endpoints = plan::endpoints(&suite, &targets, None).await.unwrap();
    let results = plan::execute(
        &suite,
        &suite.cases,
        &endpoints.list,
        4,
        &Settings::default(),
    )
    .await;
    let verdicts: Vec<(String, &str, VerdictKind, String)> = results
        .iter()
        .map(|r| {
            let target = if r.target.starts_with("tls://") {
                "tls"
            } else {
                "plain"
            };
            (
                r.case.clone(),
                target,
                r.verdict.kind,
                r.verdict.reason.clone(),
            )
        })
        .collect();
    use VerdictKind::*;
    let expected = [
        ("a-modern", "plain", Admitted, "logged in"),
        // STARTTLS on a connection that is TLS already is refused by this server.
        ("a-modern", "tls", LockedOut, "denied: what"),
        (
            "b-old",
            "plain",
            Warned,
            "logged in, told to upgrade: to 2.0 by 2026-12-31",
        ),
        ("b-old", "tls", LockedOut, "denied: what"),
        ("c-ancient", "plain", LockedOut, "denied: too old"),
        ("c-ancient", "tls", LockedOut, "denied: too old"),
        ("d-plaintext", "plain", LockedOut, "denied: tls required"),
        // Over TLS from the first byte, LOGIN needs no STARTTLS; 3.0 is not below warn_below.
        ("d-plaintext", "tls", Admitted, "logged in"),
    ];
    let got: Vec<(&str, &str, VerdictKind, &str)> = verdicts
        .iter()
        .map(|(c, t, k, r)| (c.as_str(), *t, *k, r.as_str()))
        .collect();
    assert_eq!(got, expected);

    // The snapshot text comes from the core renderer with the dialect's own descriptions.
    let modern = &results[0];
    let snapshot = harness::snapshot::render(modern, suite.dialect);
    assert!(
        snapshot.contains("  > knock: HELLO knocker 3.1\n"),
        "{snapshot}"
    );
    assert!(snapshot.contains("  < answer: READY\n"), "{snapshot}");
    assert!(snapshot.contains("  > knock: LOGIN ann\n"), "{snapshot}");
}

#[tokio::test]
async fn a_warn_below_setting_the_dialect_typed_changes_the_verdict() {
    register();
    let dir = knock_suite();
    write(dir.path(), "suite.toml", &SUITE.replace("3.0", "3.5"));
    let suite = load_suite(dir.path()).unwrap();
    let plain = server::start(false).await.to_string();
    let endpoints = plan::endpoints(&suite, &[plain], None).await.unwrap();
    let modern: Vec<_> = suite
        .cases
        .iter()
        .filter(|c| c.id == "a-modern")
        .cloned()
        .collect();
    let results = plan::execute(&suite, &modern, &endpoints.list, 1, &Settings::default()).await;
    assert_eq!(
        results[0].verdict.kind,
        VerdictKind::Warned,
        "{:?}",
        results[0].verdict
    );
    assert_eq!(
        results[0].verdict.reason,
        "logged in on a deprecated version"
    );
}

#[test]
fn its_steps_and_settings_are_checked_when_the_suite_loads() {
    register();
    let dir = knock_suite();
    write(
        dir.path(),
        "cases/e-typo.toml",
        "[[step]]\nsend = \"HELO knocker 3.0\"\n",
    );
    write(
        dir.path(),
        "suite.toml",
        &SUITE.replace("warn_below", "warn_belwo"),
    );
    let errors = load_suite(dir.path()).unwrap_err().to_string();
    assert!(
        errors.contains("unknown setting `warn_belwo` for the knock dialect"),
        "{errors}"
    );
    assert!(errors.contains("did you mean `warn_below`?"), "{errors}");
    assert!(errors.contains("`HELO` is not a KNOCK verb"), "{errors}");
    assert!(errors.contains("e-typo.toml:2:9"), "{errors}");
}

#[test]
fn it_has_no_reference_server_so_a_policy_target_is_refused() {
    register();
    let dir = knock_suite();
    write(
        dir.path(),
        "suite.toml",
        &format!("{SUITE}\n[[target]]\nname = \"x\"\npolicy = \"p.toml\"\nas_of = 2026-01-01\n"),
    );
    let errors = load_suite(dir.path()).unwrap_err().to_string();
    assert!(
        errors.contains("the knock dialect has no reference server"),
        "{errors}"
    );
}

static IMPOSTOR: dialect::Knock = dialect::Knock { name: "tls" };

#[test]
fn a_name_taken_by_another_dialect_is_refused() {
    register();
    register();
    assert_eq!(
        harness::dialect::names()
            .iter()
            .filter(|n| **n == "knock")
            .count(),
        1,
        "registering the same dialect again is harmless"
    );
    let refused = harness::dialect::register(&IMPOSTOR).unwrap_err();
    assert_eq!(refused, "a dialect named `tls` is already registered");
    assert_eq!(
        harness::dialect::by_name("tls").unwrap().default_port(),
        443
    );
}
