//! Which sessions are one client (`import --group`, and `judge`'s traffic table): what changes
//! from session to session is set aside, what a server treats differently is not. Each
//! fixture in `tests/fixtures/grouping/` holds sessions of a kind that once came out wrong:
//! a TLS client resuming its session (its hello grows a ticket and padding), one OpenSSH at two
//! Debian patch levels and with compression preferred, curl with and without cookies and
//! credentials, one app calling two API versions (a header, a dated path), keep-alive sessions
//! whose later requests differ, one PostgreSQL driver used by five users (one named `a`, one
//! `UTF8`).

mod common;

use common::{harness, repo_root, stderr, stdout};
use std::collections::BTreeMap;

/// Each client's name and session count after `import --group` of the fixture.
fn grouped(fixture: &str, dialect: &str, port: &str, extra: &[&str]) -> BTreeMap<String, i64> {
    let dir = tempfile::tempdir().unwrap();
    let capture = repo_root()
        .join("harness/tests/fixtures/grouping")
        .join(format!("{fixture}.pcap"));
    let out = dir.path().join("suite");
    let mut args = vec![
        "import",
        capture.to_str().unwrap(),
        "--dialect",
        dialect,
        "--port",
        port,
        "--group",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let import = harness(&args);
    assert_eq!(
        import.status.code(),
        Some(0),
        "{}{}",
        stdout(&import),
        stderr(&import)
    );
    std::fs::read_dir(out.join("cases"))
        .unwrap()
        .map(|e| {
            let value: toml::Value =
                toml::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
            (
                value["capture"]["name"].as_str().unwrap().to_string(),
                value["sessions"]["count"].as_integer().unwrap(),
            )
        })
        .collect()
}

fn clients(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

#[test]
fn a_tls_client_resuming_its_session_is_the_client_that_began_it() {
    assert_eq!(
        grouped("tls-resumption", "tls", "14443", &[]),
        clients(&[("TLSv1.2", 3)])
    );
}

#[test]
fn openssh_at_two_patch_levels_is_one_client_and_with_compression_first_another() {
    assert_eq!(
        grouped("ssh-patch-levels", "ssh", "22", &[]),
        clients(&[
            ("OpenSSH 9.2p1 (compression none)", 2),
            ("OpenSSH 9.2p1 (compression zlib@openssh.com)", 1),
        ])
    );
}

#[test]
fn http_clients_are_told_apart_by_what_they_are_not_by_cookies_or_paths() {
    let by_convention = grouped("http-request-variants", "http", "8080", &[]);
    assert_eq!(
        by_convention,
        clients(&[
            ("Chrome 120.0.0.0 (Macintosh; Intel Mac OS X 10_15_7)", 1),
            ("Chrome 120.0.0.0 (Windows NT 10.0; Win64; x64)", 1),
            ("curl 8.5.0", 3),
            ("MyApp 3.2.0 (X-API-Version 1)", 1),
            ("MyApp 3.2.0 (X-API-Version 2)", 1),
            ("Shop 1.0", 2),
        ])
    );
    // Where a suite says the API version is in the path, Shop's two versions are two clients.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("suite.toml"),
        "name = \"rules\"\ndialect = \"http\"\n[dialect_settings]\napi_version_path = '^/api/(\\d{4}-\\d{2})/'\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    let by_suite = grouped(
        "http-request-variants",
        "http",
        "8080",
        &["--suite", dir.path().to_str().unwrap()],
    );
    let shops: Vec<_> = by_suite.keys().filter(|n| n.starts_with("Shop")).collect();
    assert_eq!(
        shops,
        ["Shop 1.0 (API 2023-10)", "Shop 1.0 (API 2024-01)"],
        "{by_suite:?}"
    );
}

#[test]
fn one_client_is_one_whatever_methods_its_sessions_used_and_language_it_asked_for() {
    assert_eq!(
        grouped("http-methods-and-languages", "http", "8080", &[]),
        clients(&[("Chrome 120.0.0.0", 3), ("MyApp 1.0", 4)])
    );
}

/// A client whose own port was 8080 connects elsewhere; later a real client connects to a
/// server on 8080 over the same two ports, the other way round: it is imported.
#[test]
fn a_connection_to_the_port_after_one_from_it_on_the_same_ports_is_imported() {
    assert_eq!(
        grouped("client-port-then-server-port", "http", "8080", &[]),
        clients(&[("Other 2.0", 1), ("Real 1.0", 1)])
    );
}

/// A second capture imported grouped into a folder that holds another's cases would take
/// their share of the population away: refused, and nothing written, unless `--force`.
#[test]
fn a_second_capture_does_not_silently_replace_the_first_ones_population() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("suite");
    let fixture = |name: &str| {
        repo_root()
            .join("harness/tests/fixtures/grouping")
            .join(format!("{name}.pcap"))
    };
    let import = |name: &str, force: bool| {
        let capture = fixture(name);
        let mut args = vec![
            "import",
            capture.to_str().unwrap(),
            "--dialect",
            "http",
            "--port",
            "8080",
            "--group",
            "--out",
            out.to_str().unwrap(),
        ];
        if force {
            args.push("--force");
        }
        harness(&args)
    };
    assert_eq!(
        import("http-request-variants", false).status.code(),
        Some(0)
    );
    let before = std::fs::read_to_string(out.join("suite.toml")).unwrap();
    let second = import("http-keep-alive", false);
    assert_eq!(second.status.code(), Some(2), "{}", stdout(&second));
    assert!(
        stderr(&second).contains("already holds 6 cases of another capture"),
        "{}",
        stderr(&second)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("suite.toml")).unwrap(),
        before
    );
    assert_eq!(import("http-keep-alive", true).status.code(), Some(0));
}

#[test]
fn keep_alive_sessions_whose_later_requests_differ_are_different_clients() {
    assert_eq!(
        grouped("http-keep-alive", "http", "8080", &[]),
        clients(&[("MyApp 3.2 (API v1)", 3), ("MyApp 3.2 (without API v1)", 1)])
    );
}

#[test]
fn one_postgres_driver_used_by_many_users_is_one_client_whatever_the_user_names() {
    assert_eq!(
        grouped("postgres-users", "postgres", "5432", &[]),
        clients(&[("billing", 5)])
    );
}

/// Clients whose own port is 8080 connect to servers on 5000-5002: port 8080 holds no server,
/// and the import says where the connections went rather than taking them mid-stream.
#[test]
fn a_port_seen_only_on_the_client_side_is_not_taken_for_the_servers() {
    let capture = repo_root().join("harness/tests/fixtures/grouping/client-port-8080.pcap");
    let out = harness(&[
        "import",
        capture.to_str().unwrap(),
        "--dialect",
        "http",
        "--port",
        "8080",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("no http session on port 8080; connections were opened to port 5000"),
        "{}",
        stderr(&out)
    );
}

/// A grouped case's sources and judge's results name a session by the same number (from #1),
/// so a user can look up in judge's JSON Lines the sessions a case stands for.
#[test]
fn grouped_sources_and_judged_results_number_sessions_alike() {
    let dir = tempfile::tempdir().unwrap();
    let capture = repo_root().join("harness/tests/fixtures/grouping/http-request-variants.pcap");
    let capture = capture.to_str().unwrap();
    let out = dir.path().join("suite");
    let common = ["--dialect", "http", "--port", "8080"];
    let import = harness(
        &[
            &["import", capture][..],
            &common,
            &["--group", "--out", out.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let judge = harness(&[&["judge", capture][..], &common, &["--format", "json"]].concat());
    // `#3 10.0.0.5:40002`: a judged session's number and client address.
    let judged: Vec<String> = stdout(&judge)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "result")
        .map(|v| v["case"].as_str().unwrap().to_string())
        .collect();
    assert!(judged[0].starts_with("#1 "), "{judged:?}");
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(out.join("cases")).unwrap() {
        let value: toml::Value =
            toml::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        for source in value["sessions"]["sources"].as_array().unwrap() {
            // `#3 10.0.0.5:40002 at 2024-…`
            let source = source.as_str().unwrap();
            sources.push(source.split(" at ").next().unwrap().to_string());
        }
    }
    sources.sort();
    let mut judged = judged;
    judged.sort();
    assert_eq!(sources, judged);
}
