//! The binary end to end: the seed suite, JSON Lines, `serve` + `--target`, exit codes and the
//! errors a user sees for bad files.

mod common;

use common::*;
use harness::exit;
use std::collections::BTreeMap;

fn seed() -> String {
    seed_suite().display().to_string()
}

/// The seed suite as loaded: counts come from it, so adding a case does not break these tests.
fn seed_loaded() -> harness::suite::Suite {
    harness::suite::load_suite(&seed_suite()).unwrap()
}

fn expected_at(target: &str, kind: harness::verdict::VerdictKind) -> usize {
    let suite = seed_loaded();
    suite
        .cases
        .iter()
        .filter(|c| suite.expected(&c.id, target) == Some(kind))
        .count()
}

#[test]
fn seed_suite_matches_every_expectation_with_all_three_verdicts() {
    let out = harness(&["run", &seed()]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(exit::SUCCESS),
        "{text}{}",
        stderr(&out)
    );
    assert!(text.starts_with("CLIENT "), "{text}");
    let results = seed_loaded().cases.len() * 3;
    assert!(
        text.contains(&format!("{results} as expected, 0 mismatched")),
        "{text}"
    );
    for verdict in ["✓ admitted", "✓ warned", "✓ locked-out"] {
        assert!(text.contains(verdict), "no {verdict} in\n{text}");
    }
    assert!(!text.contains('✗'));
}

#[test]
fn json_lines_carry_the_documented_fields() {
    let out = harness(&[
        "run",
        &seed(),
        "--format",
        "json",
        "--case",
        "msn-messenger-4.6",
    ]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{}", stderr(&out));
    let (results, summary) = json_lines(&stdout(&out));
    assert_eq!(results.len(), 3);
    for field in [
        "case",
        "target",
        "verdict",
        "expected",
        "stage",
        "reason",
        "duration_ms",
        "decided_by",
        "transcript",
    ] {
        assert!(
            results[0].get(field).is_some(),
            "no `{field}` in {}",
            results[0]
        );
    }
    let verdicts: Vec<_> = results
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["admitted", "warned", "locked-out"]);
    let lockout = &results[2];
    assert_eq!(lockout["stage"], "VER");
    assert_eq!(lockout["decided_by"], "VER 1 CVR0");
    let reason = lockout["reason"].as_str().unwrap();
    assert!(
        reason.contains("minimum 4.7.2000")
            && reason.contains("download http://messenger.msn.com/download/"),
        "{reason}"
    );
    // The transcript shows the bytes: the client's VER first, the CVQ fallback after it.
    let transcript = lockout["transcript"]["entries"].as_array().unwrap();
    assert_eq!(transcript[0]["direction"], "client");
    assert_eq!(
        transcript[0]["text"],
        "VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0\r\n"
    );
    assert_eq!(transcript[1]["text"], "VER 1 CVR0\r\n");
    assert!(
        transcript[2]["text"]
            .as_str()
            .unwrap()
            .starts_with("CVQ 2 0x0409 winnt 5.0 i386 MSMSGS 4.6.0082")
    );
    assert_eq!(summary["results"], 3);
    assert_eq!(summary["exit_code"], 0);
}

fn verdicts_by_case(results: &[serde_json::Value]) -> BTreeMap<String, String> {
    results
        .iter()
        .map(|r| {
            (
                r["case"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn served_policy_gives_the_same_verdicts_as_the_embedded_run() {
    let embedded = harness(&["run", &seed(), "--format", "json"]);
    let (results, _) = json_lines(&stdout(&embedded));
    let october: Vec<_> = results
        .into_iter()
        .filter(|r| r["target"] == "2003-10-16")
        .collect();
    let cases = seed_loaded().cases.len();
    assert_eq!(october.len(), cases);

    let policy = seed_suite().join("policy.toml").display().to_string();
    let mut served = Served::start(&policy, "2003-10-16");
    let out = harness(&[
        "run",
        &seed(),
        "--target",
        &served.addr,
        "--expect",
        "2003-10-16",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{}", stdout(&out));
    let (remote, summary) = json_lines(&stdout(&out));
    assert_eq!(summary["as_expected"], cases);
    assert!(remote.iter().all(|r| r["target"] == served.addr.as_str()));
    assert_eq!(verdicts_by_case(&remote), verdicts_by_case(&october));

    // One log line per client, naming its identity and the server's verdict.
    let log = served.log_lines(cases);
    assert_eq!(
        log.iter().filter(|l| l.contains(" locked-out: ")).count(),
        expected_at("2003-10-16", harness::verdict::VerdictKind::LockedOut),
        "{log:#?}"
    );
    assert!(log.iter().any(|l| l.contains("MSMSGS 4.7.0041 MSNP8 locked-out: Windows Messenger 4.7.0041 is below the minimum 4.7.2000")), "{log:#?}");
    assert!(
        log.iter()
            .any(|l| l.contains("MSNMSGR 6.0.0602 MSNP9 admitted: TWN challenge sent")),
        "{log:#?}"
    );
}

#[test]
fn expecting_another_date_is_a_mismatch_with_exit_1() {
    let policy = seed_suite().join("policy.toml").display().to_string();
    let served = Served::start(&policy, "2003-10-16");
    let out = harness(&[
        "run",
        &seed(),
        "--target",
        &served.addr,
        "--expect",
        "2003-08-01",
        "--case",
        "amsn-0.80",
    ]);
    assert_eq!(out.status.code(), Some(exit::MISMATCH));
    let text = stdout(&out);
    assert!(text.contains("locked-out  ✗ admitted"), "{text}");
    assert!(text.contains("↳ no common protocol version"), "{text}");
}

#[test]
fn unreachable_target_is_a_runtime_error_never_a_lockout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("127.0.0.1:{port}");
    let out = harness(&[
        "run",
        &seed(),
        "--target",
        &target,
        "--expect",
        "2003-10-16",
        "--format",
        "json",
        "--timeout",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(exit::RUNTIME));
    let (results, summary) = json_lines(&stdout(&out));
    assert!(
        results
            .iter()
            .all(|r| r["verdict"] == "error" && r["stage"] == "connect")
    );
    assert_eq!(summary["locked_out"], 0);
    assert_eq!(summary["errors"], seed_loaded().cases.len());
}

#[test]
fn unknown_expect_target_is_a_usage_error() {
    let out = harness(&[
        "run",
        &seed(),
        "--target",
        "127.0.0.1:1",
        "--expect",
        "2003-13-01",
    ]);
    assert_eq!(out.status.code(), Some(exit::USAGE));
    assert!(
        stderr(&out).contains(
            "has no target `2003-13-01` (its targets: 2003-08-01, 2003-09-18, 2003-10-16)"
        )
    );
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        &["--help"][..],
        &["run", "--help"],
        &["serve", "--help"],
        &["check", "--help"],
    ] {
        let out = harness(sub);
        assert_eq!(out.status.code(), Some(0), "{sub:?}");
        assert!(stdout(&out).contains("Usage: harness"), "{sub:?}");
    }
}

#[test]
fn changed_server_reply_shows_a_snapshot_diff_until_accepted() {
    let dir = suite_copy();
    let suite = dir.path().display().to_string();
    // The server now recommends a later MSN Messenger: CVR replies change, verdicts do not.
    let policy = dir.path().join("policy.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        text.replacen(
            "recommended = \"6.0.0602\"",
            "recommended = \"6.0.0601\"",
            1,
        ),
    )
    .unwrap();

    let out = harness(&["run", &suite, "--case", "msn-messenger-6.0"]);
    assert_eq!(out.status.code(), Some(exit::MISMATCH), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("snapshot msn-messenger-6.0@2003-09-18 changed (- stored, + this run):"),
        "{text}"
    );
    assert!(text.contains("-  < CVR 2 6.0.0602 6.0.0602 5.0 http://messenger.msn.com/download/ http://messenger.msn.com"), "{text}");
    assert!(text.contains("+  < CVR 2 6.0.0601 6.0.0601 5.0 http://messenger.msn.com/download/ http://messenger.msn.com"), "{text}");
    assert!(
        text.contains("2 changed: msn-messenger-6.0@2003-09-18, msn-messenger-6.0@2003-10-16"),
        "{text}"
    );

    let on_ci = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", &suite, "--accept"])
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(on_ci.status.code(), Some(exit::USAGE));
    assert!(stderr(&on_ci).contains("never written on CI"));

    let accept = harness(&["run", &suite, "--case", "msn-messenger-6.0", "--accept"]);
    assert_eq!(
        accept.status.code(),
        Some(exit::SUCCESS),
        "{}",
        stdout(&accept)
    );
    let again = harness(&["run", &suite, "--case", "msn-messenger-6.0"]);
    assert_eq!(
        again.status.code(),
        Some(exit::SUCCESS),
        "{}",
        stdout(&again)
    );
    assert!(stdout(&again).contains(": 3 matched"));
}

#[test]
fn obsolete_and_missing_snapshots_are_listed() {
    let dir = suite_copy();
    let snapshots = dir.path().join("snapshots");
    std::fs::rename(
        snapshots.join("kopete@2003-08-01.snap"),
        snapshots.join("kopete-1.0@2003-08-01.snap"),
    )
    .unwrap();
    let out = harness(&["run", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(exit::MISMATCH));
    let text = stdout(&out);
    assert!(text.contains("  1 new: kopete@2003-08-01"), "{text}");
    assert!(
        text.contains("  1 obsolete: kopete-1.0@2003-08-01"),
        "{text}"
    );
}

#[test]
fn malformed_case_file_names_file_line_and_column() {
    let dir = suite_copy();
    std::fs::write(
        dir.path().join("cases/msn-messenger-6.0.toml"),
        "name = \"MSN Messenger 6.0\"\n\n[[step]]\nsend = \"VER {trid} MSNP9 MSNP8 CVR0\"\nexpcet = '^VER'\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cases/zz-typo.toml"),
        "[[step]]\nsend = \"USR {trid} TWN I {emial}\"\n",
    )
    .unwrap();
    let out = harness(&["run", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(exit::USAGE));
    let shown = stderr(&out).replace(&dir.path().display().to_string(), "[SUITE]");
    insta::assert_snapshot!(shown);
}

#[test]
fn changed_expectation_fails_the_run() {
    let dir = suite_copy();
    let suite = dir.path().join("suite.toml");
    let text = std::fs::read_to_string(&suite).unwrap();
    let changed = text.replacen(
        r#""msn-messenger-5.0"           = { "2003-08-01" = "admitted", "2003-09-18" = "warned""#,
        r#""msn-messenger-5.0"           = { "2003-08-01" = "admitted", "2003-09-18" = "admitted""#,
        1,
    );
    assert_ne!(text, changed);
    std::fs::write(&suite, changed).unwrap();
    let out = harness(&["run", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(exit::MISMATCH));
    let text = stdout(&out);
    let row: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("MSN Messenger 5.0 ") && l.contains(" 2003-09-18 "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row[..8],
        [
            "MSN",
            "Messenger",
            "5.0",
            "msn-messenger-5.0",
            "2003-09-18",
            "warned",
            "✗",
            "admitted"
        ],
        "{text}"
    );
    let results = seed_loaded().cases.len() * 3;
    assert!(
        text.contains(&format!("{} as expected, 1 mismatched", results - 1)),
        "{text}"
    );
}

#[test]
fn check_reports_the_suite_contents() {
    let out = harness(&["check", &seed()]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS));
    let n = seed_loaded().cases.len();
    assert_eq!(
        stdout(&out),
        format!(
            "suite msn-2003: {n} cases, 3 targets, {} of {} expectations given\n",
            n * 3,
            n * 3
        )
    );
}

/// The counts in `harness run --repeat`'s block for `target`:
/// `verdicts: A admitted, W warned, L locked out, E errors`.
fn load_verdicts(text: &str, target: &str) -> [usize; 4] {
    let line = text
        .lines()
        .skip_while(|l| !l.starts_with(&format!("load against {target}: ")))
        .find_map(|l| l.trim().strip_prefix("verdicts: "))
        .unwrap_or_else(|| panic!("no verdict line for {target} in {text}"));
    let numbers: Vec<usize> = line
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    [numbers[0], numbers[1], numbers[2], numbers[3]]
}

/// `harness run SEED ARGS...` in load mode, which must succeed; its output.
fn load_run(args: &[&str]) -> String {
    let seed = seed();
    let out = harness(&[&["run", seed.as_str()], args].concat());
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(exit::SUCCESS),
        "{text}{}",
        stderr(&out)
    );
    text
}

#[test]
fn load_mode_replays_clients_by_population_share_and_reports_stage_latencies() {
    let text = load_run(&["--repeat", "1000", "--rate", "2000", "--concurrency", "16"]);
    assert!(
        text.contains("\nload against 2003-10-16: 1000 handshakes in "),
        "{text}"
    );
    let [admitted, warned, locked_out, errors] = load_verdicts(&text, "2003-10-16");
    assert_eq!(errors, 0, "{text}");
    assert_eq!(admitted + warned + locked_out, 1000);

    // The suite's population shares, by the verdict each client is expected to get.
    let suite = seed_loaded();
    let total: f64 = suite.population.shares.values().sum();
    let share = |kind| {
        suite
            .population
            .shares
            .iter()
            .filter(|(case, _)| suite.expected(case, "2003-10-16") == Some(kind))
            .map(|(_, w)| w)
            .sum::<f64>()
            / total
    };
    use harness::verdict::VerdictKind::*;
    for (kind, count) in [
        (Admitted, admitted),
        (Warned, warned),
        (LockedOut, locked_out),
    ] {
        let expected = share(kind) * 1000.0;
        assert!(
            (count as f64 - expected).abs() <= 30.0,
            "{kind}: {count} of 1000, population share says {expected:.0}\n{text}"
        );
    }
    for stage in ["(whole handshake)", "VER", "CVR", "USR"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(stage) && l.split_whitespace().count() >= 4),
            "no {stage} latency row in {text}"
        );
    }
}

#[test]
fn load_mode_stops_starting_handshakes_at_its_duration() {
    let started = std::time::Instant::now();
    let text = load_run(&["--repeat", "1000000", "--rate", "100", "--duration", "1s"]);
    // One second per target, three targets.
    assert!(
        started.elapsed().as_secs() < 15,
        "took {:?}",
        started.elapsed()
    );
    let [admitted, warned, locked_out, errors] = load_verdicts(&text, "2003-10-16");
    let done = admitted + warned + locked_out + errors;
    assert!(
        (95..=105).contains(&done),
        "{done} handshakes in 1 s at 100/s\n{text}"
    );
    assert!(
        text.contains(&format!(
            "stopped at --duration 1s: {done} of 1000000 handshakes started"
        )),
        "{text}"
    );
}

/// A smoke run of `harness bench` at toy sizes (the figures mean nothing in a debug build):
/// all three comparisons print, each with its baseline and its ratio or per-session figure.
#[test]
fn bench_prints_the_three_comparisons_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("bench.pcap");
    let out = harness(&[
        "bench",
        "--suite",
        &seed(),
        "--seconds",
        "1",
        "--replay-runs",
        "1",
        "--sessions",
        "100",
        "--capture-mb",
        "4",
        "--capture",
        capture.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(exit::SUCCESS),
        "{text}{}",
        stderr(&out)
    );
    for line in [
        "1. replay throughput",
        "raw tokio client and server, same bytes",
        "harness / raw = ",
        "2. scale: 100 sessions held open at once",
        "per session, both together: ",
        "3. import (",
        "cat FILE > /dev/null",
        "harness import FILE",
        "harness judge FILE (every session judged)",
        "harness judge / harness import = ",
    ] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
    // `.ci/run` installs tshark; elsewhere its row may be missing.
    let tshark = std::process::Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok();
    if tshark || std::env::var_os("CI").is_some() {
        assert!(text.contains("harness / tshark = "), "{text}");
    }
}

/// `harness bench --only import` times each reader with `/usr/bin/time -o FILE`: that file is
/// its own business and must not be left in the user's temp folder afterwards.
#[test]
fn bench_leaves_nothing_in_the_temp_folder() {
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let capture = dir.path().join("bench.pcap");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["bench", "--suite", &seed(), "--only", "import"])
        .args(["--import-runs", "1", "--capture-mb", "1", "--capture"])
        .arg(&capture)
        .env("TMPDIR", temp.path())
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("harness import FILE"),
        "{}",
        stdout(&out)
    );
    let left: Vec<_> = std::fs::read_dir(temp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
}

/// `harness ... | head`: output to a reader that went away is dropped, never a panic.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let fixture = repo_root().join("harness/tests/fixtures/many-flows.pcap");
    let seed = seed();
    for args in [
        vec!["run", seed.as_str(), "--repeat", "30"],
        vec!["import", fixture.to_str().unwrap(), "--dialect", "msnp"],
        vec!["check", seed.as_str()],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "harness {args:?}: {err}");
        assert_eq!(
            out.status.code(),
            Some(exit::SUCCESS),
            "harness {args:?}: {err}"
        );
    }
}
