//! suites/mariadb-auth against real MariaDB: every real driver's capture, replayed under each
//! policy, gets what the driver itself got (captures/mysql/results.tsv: `ok` ⇔ admitted or
//! warned, an error ⇔ locked out); and the drivers run live (captures/mysql/live.sh) against
//! each policy's server agree with the harness's verdicts for their captures there.

mod common;

use common::suite_server::{ServerScript, SuiteServer};
use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const POLICIES: [&str; 3] = ["today", "transition", "strict"];

fn suite_dir() -> PathBuf {
    repo_root().join("suites/mariadb-auth")
}

fn captures() -> PathBuf {
    repo_root().join("captures/mysql")
}

fn admits(verdict: &str) -> bool {
    matches!(verdict, "admitted" | "warned")
}

/// What each driver got, by (driver, policy, tls), for the suite's account `harness`.
fn ground_truth(tsv: &str) -> BTreeMap<(String, String, String), String> {
    tsv.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            // driver, (version,) policy, user, tls, outcome: results.tsv has a version column,
            // live.sh's output has none.
            let (driver, rest) = f.split_first()?;
            let rest = if rest.len() >= 6 { &rest[1..] } else { rest };
            let [policy, user, tls, outcome, ..] = rest else {
                return None;
            };
            (*user == "harness").then(|| {
                (
                    (driver.to_string(), policy.to_string(), tls.to_string()),
                    outcome.to_string(),
                )
            })
        })
        .collect()
}

/// `pymysql.tls-on` as (`pymysql`, `on`).
fn driver_of(case: &str) -> Option<(String, String)> {
    let (driver, tls) = case.rsplit_once(".tls-")?;
    Some((driver.to_string(), tls.to_string()))
}

fn agrees(replayed: &str, got: &str) -> bool {
    admits(replayed) == (got == "ok") && (got == "ok" || replayed == "locked-out")
}

#[test]
fn every_driver_replayed_gets_what_it_got_live_when_captured() {
    let truth = ground_truth(&std::fs::read_to_string(captures().join("results.tsv")).unwrap());
    let results = suite_results(&suite_dir());
    let mut checked = 0;
    let mut drivers = std::collections::BTreeSet::new();
    for ((case, target), result) in &results {
        let Some((driver, tls)) = driver_of(case) else {
            continue;
        };
        let got = &truth[&(driver.clone(), target.clone(), tls.clone())];
        let replayed = result["verdict"].as_str().unwrap();
        assert!(
            agrees(replayed, got),
            "{case} under {target}: replayed {replayed} ({}), the driver got {got}",
            result["reason"]
        );
        drivers.insert(driver);
        checked += 1;
    }
    assert!(
        drivers.len() >= 10,
        "at least ten real drivers: {drivers:?}"
    );
    assert_eq!(checked, drivers.len() * 2 * POLICIES.len());
}

/// servers/mariadb.sh under `policy`, as the suite starts it: ready once its port listens,
/// its process group stopped when dropped.
fn server(policy: &'static str, dir: &std::path::Path) -> SuiteServer {
    let script = ServerScript {
        suite: "mariadb-auth",
        script: "mariadb.sh",
        phase: policy,
        ready_when: None,
    };
    SuiteServer::start(&script, dir)
}

#[test]
fn real_drivers_live_agree_with_the_harness_on_each_policy() {
    let cases: Vec<String> = std::fs::read_dir(suite_dir().join("captured"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    let drivers: std::collections::BTreeSet<String> = cases
        .iter()
        .filter_map(|c| driver_of(c))
        .map(|(d, _)| d)
        .collect();
    let suite = suite_dir().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    for policy in POLICIES {
        let server = server(policy, dir.path());
        let address = format!("127.0.0.1:{}", server.port);
        let mut live = Command::new("bash");
        live.arg(captures().join("live.sh"))
            .args([&address, policy])
            .args(&drivers);
        let output = live.stderr(Stdio::null()).output().unwrap();
        assert!(output.status.success(), "live.sh {policy}");
        let truth = ground_truth(&String::from_utf8_lossy(&output.stdout));
        let run = harness(&[
            "run", &suite, "--target", &address, "--expect", policy, "--format", "json",
        ]);
        let (results, _) = json_lines(&stdout(&run));
        for result in &results {
            let case = result["case"].as_str().unwrap();
            let Some((driver, tls)) = driver_of(case) else {
                continue;
            };
            let got = &truth[&(driver.clone(), policy.to_string(), tls)];
            let replayed = result["verdict"].as_str().unwrap();
            assert!(
                agrees(replayed, got),
                "{driver} live under {policy}: got {got}; the harness says {replayed} ({})",
                result["reason"]
            );
        }
    }
}
