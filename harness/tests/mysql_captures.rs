//! `judge`, `import --group` and `inspect` on real MySQL traffic: the mariadb client's five
//! sessions against MariaDB 10.11 (mysql_native_password, a switch to client_ed25519, a wrong
//! password, a locked account, and one over TLS), and PyMySQL over TLS with its key log.
//! Each session is judged by the server's own recorded reply, naming it; what TLS hides is
//! undecided until the key log decrypts it.

mod common;

use common::*;

const PORT: &str = "53197";

fn fixture(name: &str) -> String {
    repo_root()
        .join("harness/tests/fixtures/mysql")
        .join(name)
        .display()
        .to_string()
}

fn judged(extra: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec![
        "judge",
        "--dialect",
        "mysql",
        "--port",
        PORT,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = harness(&args);
    let (results, _) = json_lines(&stdout(&output));
    results
        .iter()
        .map(|r| {
            (
                r["verdict"].as_str().unwrap().to_string(),
                r["decided_by"].as_str().unwrap_or("-").to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn judge_reads_each_session_to_the_servers_ok_or_err() {
    let five = fixture("mariadb-client-five-sessions.pcap");
    let verdicts = judged(&[&five]);
    assert_eq!(verdicts.len(), 5, "{verdicts:?}");
    let find = |verdict: &str| verdicts.iter().filter(|(v, _, _)| v == verdict).count();
    assert_eq!(
        (
            find("warned"),
            find("admitted"),
            find("error"),
            find("locked-out"),
            find("undecided")
        ),
        (1, 1, 1, 1, 1),
        "{verdicts:?}"
    );
    for (verdict, decided_by, reason) in &verdicts {
        match verdict.as_str() {
            "warned" => assert!(reason.ends_with("mysql_native_password is deprecated")),
            "admitted" => assert!(reason.contains("client_ed25519"), "{reason}"),
            "error" => {
                assert!(decided_by.starts_with("ERR 1045"));
                assert!(reason.contains("not the server's policy"), "{reason}");
            }
            "locked-out" => assert!(decided_by.starts_with("ERR 4151")),
            _ => assert!(reason.contains("--keylog"), "{reason}"),
        }
    }
}

#[test]
fn a_key_log_reads_a_session_through_its_tls_upgrade() {
    let pcap = fixture("pymysql-tls-with-keylog.pcap");
    let keys = fixture("pymysql-tls.keys");
    let without = judged(&[&pcap]);
    assert_eq!(without[0].0, "undecided");
    let with = judged(&[&pcap, "--keylog", &keys]);
    assert_eq!(
        (with[0].0.as_str(), with[0].1.as_str()),
        ("warned", "OK"),
        "{with:?}"
    );
}

#[test]
fn import_groups_sessions_by_driver_and_inspect_names_them() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().display().to_string();
    let five = fixture("mariadb-client-five-sessions.pcap");
    let output = harness(&[
        "import",
        "--dialect",
        "mysql",
        "--port",
        PORT,
        "--group",
        "--out",
        &dir,
        &five,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let grouped = std::fs::read_to_string(out.path().join("cases/libmariadb-3.3.20.toml")).unwrap();
    assert!(
        grouped.contains("count = 4"),
        "the four clear sessions are one driver"
    );
    assert!(grouped.contains("client_name = \"libmariadb\""));
    assert!(out.path().join("cases/tls-requested.toml").exists());
    let check = harness(&["check", &dir]);
    assert!(check.status.success(), "{}", stderr(&check));

    let inspected = stdout(&harness(&[
        "inspect",
        "--dialect",
        "mysql",
        "--port",
        PORT,
        &five,
    ]));
    assert!(
        inspected.contains("HandshakeResponse41 user=nat"),
        "{inspected}"
    );
    assert!(inspected.contains("_client_name=libmariadb"));
    assert!(inspected.contains("AuthSwitchRequest client_ed25519"));
    assert!(inspected.contains("ERR 4151 (HY000) Access denied, this account is locked"));
}

/// MariaDB answers a client without TLS under `require_secure_transport` with 1045, the
/// same error as a wrong password. Judged with the suite that says so (`refused_in_clear`),
/// such a session is undecided, never a guessed lockout or a guessed wrong password; judged
/// without it, 1045 is a wrong password as everywhere else.
#[test]
fn a_1045_in_the_clear_is_undecided_where_the_server_refuses_clear_text_so() {
    let pcap = repo_root()
        .join("captures/mysql/pymysql.strict.harness.tls-off.pcap")
        .display()
        .to_string();
    let port = captured_port(&pcap, "mysql");
    let suite = repo_root()
        .join("suites/mariadb-auth")
        .display()
        .to_string();
    let judge = |extra: &[&str]| {
        let mut args = vec!["judge", &pcap, "--dialect", "mysql", "--port", &port];
        args.extend_from_slice(&["--format", "json"]);
        args.extend_from_slice(extra);
        let (results, _) = json_lines(&stdout(&harness(&args)));
        assert_eq!(results.len(), 1, "{results:?}");
        let r = &results[0];
        (
            r["verdict"].as_str().unwrap().to_string(),
            r["decided_by"].as_str().unwrap_or("-").to_string(),
            r["reason"].as_str().unwrap().to_string(),
        )
    };
    let (verdict, decided_by, reason) = judge(&["--suite", &suite]);
    assert_eq!(verdict, "undecided", "{reason}");
    assert!(decided_by.contains("1045"), "{decided_by}");
    assert!(reason.contains("cannot tell"), "{reason}");
    let (verdict, _, reason) = judge(&[]);
    assert_eq!(verdict, "error", "{reason}");
    assert!(reason.starts_with("wrong password"), "{reason}");
}
