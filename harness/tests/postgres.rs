//! The PostgreSQL dialect against real servers: the postgres-upgrade suite against PostgreSQL
//! under four configurations; every real driver's captures, replayed, get what the driver got
//! live (captures/postgres/live-results-*.tsv); and psql run live by this test, with each
//! sslmode, agrees with the verdicts of its captures.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn suite_dir() -> PathBuf {
    repo_root().join("suites/postgres-upgrade")
}

fn admits(verdict: &str) -> bool {
    matches!(verdict, "admitted" | "warned")
}

fn suite_results() -> BTreeMap<(String, String), Value> {
    common::suite_results(&suite_dir())
}

/// A driver that opens several connections (a probe for GSS or TLS, then another try) gets in
/// when any of them does: its captures' verdicts, best first.
fn driver_admitted(
    results: &BTreeMap<(String, String), Value>,
    driver: &str,
    target: &str,
) -> bool {
    results.iter().any(|((case, t), r)| {
        // `go-pgx.conn2.captured`: the driver's second connection.
        let stem = case.trim_end_matches(".captured");
        let stem = stem
            .rsplit_once(".conn")
            .filter(|(_, n)| n.parse::<u32>().is_ok())
            .map_or(stem, |(s, _)| s);
        stem == driver && t == target && admits(r["verdict"].as_str().unwrap())
    })
}

#[test]
fn postgres_upgrade_suite_replays_what_each_real_driver_got_live() {
    let results = suite_results();
    for kind in ["admitted", "warned", "locked-out"] {
        assert!(results.values().any(|r| r["verdict"] == kind), "no {kind}");
    }
    let targets: Vec<String> = results.keys().map(|(_, t)| t.clone()).collect();
    let mut compared = 0;
    for target in [
        "permissive",
        "scram-only",
        "hostssl-only",
        "md5-scram-stored",
    ] {
        assert!(targets.iter().any(|t| t == target), "no target {target}");
        let file = repo_root().join(format!("captures/postgres/live-results-{target}.tsv"));
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (client, verdict) = (column("client"), column("verdict"));
        for line in lines {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                driver_admitted(&results, fields[client], target),
                admits(fields[verdict]),
                "{} against {target}: live {}",
                fields[client],
                fields[verdict]
            );
            compared += 1;
        }
    }
    assert!(
        compared >= 4 * 10,
        "at least ten drivers live against each server"
    );
}

/// A configuration of the suite's server on a free port; stopped when dropped.
struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn server(config: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("bash")
        .arg(suite_dir().join("servers/postgres.sh"))
        .args([config, &port.to_string()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child, port);
    // PostgreSQL accepts connections while it starts, to refuse them: ask it.
    for _ in 0..1200 {
        let ready = Command::new("pg_isready")
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return server;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("postgres {config} did not start");
}

/// Whether psql with `sslmode` connects and runs a query.
fn psql_connects(port: u16, sslmode: &str) -> bool {
    Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user=harness dbname=harness sslmode={sslmode} gssencmode=disable connect_timeout=10"
        ))
        .args(["-XAtc", "select 1"])
        .env("PGPASSWORD", "harness")
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn psql_live_agrees_with_its_captures_replayed() {
    let results = suite_results();
    for config in ["permissive", "scram-only", "hostssl-only"] {
        let server = server(config);
        for sslmode in ["disable", "prefer", "require"] {
            let case = format!("psql-sslmode-{sslmode}.captured");
            let replayed = results[&(case.clone(), config.to_string())]["verdict"]
                .as_str()
                .unwrap()
                .to_string();
            assert_eq!(
                psql_connects(server.1, sslmode),
                admits(&replayed),
                "psql sslmode={sslmode} live against {config}; {case} replayed: {replayed}"
            );
        }
    }
}

#[test]
fn lockouts_name_the_sqlstate_the_method_or_the_refused_tls() {
    let results = suite_results();
    let reason = |case: &str, target: &str| {
        results[&(case.to_string(), target.to_string())]["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        reason("no-tls-driver", "hostssl-only").contains("28000: pg_hba.conf rejects connection"),
        "{}",
        reason("no-tls-driver", "hostssl-only")
    );
    assert_eq!(
        reason("md5-only-driver", "scram-only"),
        "the server asks for SCRAM-SHA-256, which the client cannot perform (it does md5, password)"
    );
    assert!(reason("tls-required-driver", "permissive").starts_with("the server declined TLS"));
    assert!(
        reason("protocol-2.0-driver", "permissive").contains("unsupported frontend protocol 2.0")
    );
    let negotiated = reason("protocol-3.2-driver", "scram-only");
    assert!(
        negotiated.ends_with("the server speaks protocol 3.0 at most"),
        "{negotiated}"
    );
    assert!(reason("md5-only-driver", "permissive").ends_with("md5 is deprecated"));
}
