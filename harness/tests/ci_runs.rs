//! What CI relies on across runs: `--partition K/N` runs every case exactly once over N
//! machines, `harness merge` of the partitions equals the whole run, and `harness diff`
//! names the clients whose verdict changed.

mod common;

use common::*;
use harness::verdict::VerdictKind;
use serde_json::Value;
use std::collections::BTreeSet;

fn run_json(extra: &[&str]) -> (Vec<Value>, tempfile::NamedTempFile) {
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().display().to_string();
    let mut args = vec!["run", "SUITE", "--report-json", &path];
    let suite = seed_suite().display().to_string();
    args[1] = &suite;
    args.extend_from_slice(extra);
    let out = harness(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let (results, _) = json_lines(&std::fs::read_to_string(file.path()).unwrap());
    (results, file)
}

/// What must be equal between two runs of the same cases: everything but timing and the
/// random challenges (redacted as snapshots redact them).
fn comparable(r: &Value) -> String {
    let dialect = harness::dialect::by_name("msnp").unwrap();
    let text = |v: &Value| dialect.redact(v.as_str().unwrap_or("-"));
    format!(
        "{} {} {} {} {} {} {}",
        r["case"],
        r["target"],
        r["verdict"],
        r["expected"],
        r["stage"],
        text(&r["reason"]),
        text(&r["decided_by"])
    )
}

#[test]
fn partitions_run_each_case_once_and_merge_into_the_whole_run() {
    let (whole, _) = run_json(&[]);
    let parts: Vec<_> = (1..=3)
        .map(|k| run_json(&["--partition", &format!("{k}/3")]))
        .collect();
    let mut seen = BTreeSet::new();
    for (results, _) in &parts {
        assert!(!results.is_empty());
        for r in results {
            assert!(
                seen.insert((r["case"].to_string(), r["target"].to_string())),
                "{} ran twice",
                r["case"]
            );
        }
    }
    assert_eq!(seen.len(), whole.len(), "every case ran once");

    // Files in any order merge back into the order of one whole run.
    let files: Vec<String> = [2, 0, 1]
        .iter()
        .map(|&i| parts[i].1.path().display().to_string())
        .collect();
    let out = harness(&["merge", &files[0], &files[1], &files[2], "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let (merged, summary) = json_lines(&stdout(&out));
    assert_eq!(
        merged.iter().map(comparable).collect::<Vec<_>>(),
        whole.iter().map(comparable).collect::<Vec<_>>()
    );
    assert_eq!(summary["as_expected"], whole.len());

    let overlap = harness(&["merge", &files[0], &files[0]]);
    assert_eq!(overlap.status.code(), Some(harness::exit::USAGE));
    assert!(
        stderr(&overlap).contains("is given twice"),
        "{}",
        stderr(&overlap)
    );
}

/// Every report a sharded run's merge writes equals the unsharded run's, apart from times;
/// a missing, repeated, empty or foreign shard is refused.
#[test]
fn merged_shards_write_the_whole_runs_reports_and_refuse_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let seed = seed_suite().display().to_string();
    let reports = |prefix: &str| {
        [
            "--report-junit".to_string(),
            path(&format!("{prefix}.xml")),
            "--report-markdown".to_string(),
            path(&format!("{prefix}.md")),
            "--report-html".to_string(),
            path(&format!("{prefix}-html")),
        ]
    };
    let whole_reports = reports("whole");
    let whole_json = path("whole.jsonl");
    let mut args: Vec<&str> = vec!["run", &seed, "--report-json", &whole_json];
    args.extend(whole_reports.iter().map(String::as_str));
    let whole = harness(&args);
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    for k in 1..=3 {
        let shard = path(&format!("shard-{k}.jsonl"));
        let out = harness(&[
            "run",
            &seed,
            "--partition",
            &format!("{k}/3"),
            "--report-json",
            &shard,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let merged_reports = reports("merged");
    let shards: Vec<String> = (1..=3).map(|k| path(&format!("shard-{k}.jsonl"))).collect();
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    args.extend(merged_reports.iter().map(String::as_str));
    let merged = harness(&args);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));

    // Impact lines survive the merge.
    let impact = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("impact "))
            .map(str::to_string)
            .collect()
    };
    assert!(!impact(&stdout(&whole)).is_empty());
    assert_eq!(impact(&stdout(&merged)), impact(&stdout(&whole)));
    // Apart from times and the random challenges (redacted as snapshots redact them).
    let dialect = harness::dialect::by_name("msnp").unwrap();
    let timeless = |text: String| -> String {
        let times = regex::Regex::new(r#"(time|timestamp)="[^"]*""#).unwrap();
        // The HTML's run date is to the minute: the two runs may straddle one.
        let run_date = regex::Regex::new(r"run \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC").unwrap();
        let text = run_date.replace_all(&text, "run [date]");
        dialect.redact(&times.replace_all(&text, ""))
    };
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(timeless(read("merged.xml")), timeless(read("whole.xml")));
    assert_eq!(read("merged.md"), read("whole.md"));
    assert_eq!(
        timeless(read("merged-html/index.html")),
        timeless(read("whole-html/index.html"))
    );

    let refused = |args: &[&str], says: &str| {
        let out = harness(args);
        assert_eq!(out.status.code(), Some(harness::exit::USAGE), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    };
    refused(&["merge", &shards[0], &shards[2]], "partition 2/3 missing");
    refused(
        &["merge", &shards[0], &shards[1], &shards[1]],
        "partition 2/3 is given twice",
    );
    std::fs::write(dir.path().join("empty.jsonl"), "").unwrap();
    refused(
        &["merge", &shards[0], &path("empty.jsonl")],
        "no run header",
    );
    refused(
        &["merge", &shards[0], &path("whole.jsonl")],
        "is not a partition of 3",
    );
}

#[test]
fn diff_names_the_clients_whose_verdict_changed() {
    let (whole, _) = run_json(&[]);
    let write = |target: &str| {
        let file = tempfile::NamedTempFile::new().unwrap();
        let lines: Vec<String> = whole
            .iter()
            .filter(|r| r["target"] == target)
            .map(Value::to_string)
            .collect();
        std::fs::write(file.path(), lines.join("\n") + "\n").unwrap();
        file
    };
    let (september, october) = (write("2003-09-18"), write("2003-10-16"));
    let (sep, oct) = (
        september.path().display().to_string(),
        october.path().display().to_string(),
    );

    let suite = harness::suite::load_suite(&seed_suite()).unwrap();
    let changed = suite
        .cases
        .iter()
        .filter(|c| suite.expected(&c.id, "2003-09-18") != suite.expected(&c.id, "2003-10-16"))
        .count();
    // Two single-target runs (one date each) compare case by case.
    let out = harness(&["diff", &sep, &oct]);
    assert_eq!(out.status.code(), Some(harness::exit::MISMATCH));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{changed} of {} results changed verdict",
            suite.cases.len()
        )),
        "{text}"
    );
    let row: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("msn-messenger-4.6 "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row[..4],
        ["msn-messenger-4.6", "2003-10-16", "warned", "locked-out"]
    );
    assert!(
        !text.contains("msn-messenger-6.0 "),
        "an unchanged client is not listed"
    );
    assert!(suite.expected("msn-messenger-4.6", "2003-10-16") == Some(VerdictKind::LockedOut));

    let same = harness(&["diff", &oct, &oct]);
    assert_eq!(same.status.code(), Some(0));
    assert!(stdout(&same).starts_with("no verdict changed"));
}

#[test]
fn bundle_verifies_and_names_what_was_altered() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    std::fs::create_dir_all(suite.join("cases")).unwrap();
    std::fs::copy(seed_suite().join("policy.toml"), suite.join("policy.toml")).unwrap();
    let text = std::fs::read_to_string(seed_suite().join("suite.toml")).unwrap();
    let scripted_only: String = text
        .lines()
        .filter(|l| {
            !l.starts_with("include") && !l.contains(".captured\"") && !l.contains(".recorded\"")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(suite.join("suite.toml"), scripted_only).unwrap();
    for entry in std::fs::read_dir(seed_suite().join("cases")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, suite.join("cases").join(path.file_name().unwrap())).unwrap();
    }
    let bundle = dir.path().join("bundle.json");
    let (suite_arg, bundle_arg) = (suite.display().to_string(), bundle.display().to_string());
    let run = harness(&[
        "run",
        &suite_arg,
        "--bundle",
        &bundle_arg,
        "--case",
        "kopete",
    ]);
    assert!(
        run.status.code() == Some(0) || run.status.code() == Some(1),
        "{}",
        stderr(&run)
    );

    let ok = harness(&["verify-bundle", &bundle_arg, "--suite", &suite_arg]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("3 results"), "{}", stdout(&ok));

    // The vendor's claimed verdict edited by hand: the seal breaks.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let forged = bundle.with_extension("forged.json");
    std::fs::write(
        &forged,
        text.replacen("\"verdict\": \"admitted\"", "\"verdict\": \"warned\"", 1),
    )
    .unwrap();
    let out = harness(&["verify-bundle", &forged.display().to_string()]);
    assert_eq!(out.status.code(), Some(harness::exit::MISMATCH));
    assert!(stdout(&out).contains("altered after it was made"));

    // The operator's copy of the suite differs in one case file: named.
    let case = suite.join("cases/kopete.toml");
    std::fs::write(
        &case,
        std::fs::read_to_string(&case)
            .unwrap()
            .replace("6.0.0602", "6.0.0603"),
    )
    .unwrap();
    let out = harness(&["verify-bundle", &bundle_arg, "--suite", &suite_arg]);
    assert_eq!(out.status.code(), Some(harness::exit::MISMATCH));
    assert!(
        stdout(&out).contains("cases/kopete.toml: differs from the local suite"),
        "{}",
        stdout(&out)
    );
}

/// `diff` compares what both runs have and names the rest; a file holding a (case, target)
/// twice is refused.
#[test]
fn diff_compares_common_targets_and_refuses_duplicates() {
    let (_, whole) = run_json(&[]);
    let text = std::fs::read_to_string(whole.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fewer = dir.path().join("fewer.jsonl");
    std::fs::write(
        &fewer,
        text.lines()
            .filter(|l| !l.contains("\"target\":\"2003-10-16\""))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let old = whole.path().display().to_string();
    let out = harness(&["diff", &old, &fewer.display().to_string()]);
    let shown = stdout(&out);
    assert_eq!(out.status.code(), Some(harness::exit::SUCCESS), "{shown}");
    assert!(
        shown.contains("target 2003-10-16 is only in the old run: not compared"),
        "{shown}"
    );
    assert!(shown.contains("no verdict changed"), "{shown}");

    let doubled = dir.path().join("doubled.jsonl");
    let results: String = text
        .lines()
        .filter(|l| l.contains("\"type\":\"result\""))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&doubled, results.repeat(2)).unwrap();
    let out = harness(&["diff", &old, &doubled.display().to_string()]);
    assert_eq!(out.status.code(), Some(harness::exit::USAGE));
    assert!(stderr(&out).contains("appears twice"), "{}", stderr(&out));
}

/// A changed snapshot travels in each shard's JSON: the merge fails as the whole run does,
/// and its JUnit carries the same snapshot failures.
#[test]
fn snapshot_outcomes_survive_the_merge() {
    let suite_dir = suite_copy();
    let policy = suite_dir.path().join("policy.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        text.replacen(
            "recommended = \"6.0.0602\"",
            "recommended = \"6.0.0700\"",
            1,
        ),
    )
    .unwrap();
    let suite = suite_dir.path().display().to_string();
    let out = tempfile::tempdir().unwrap();
    let path = |name: &str| out.path().join(name).display().to_string();
    let whole = harness(&["run", &suite, "--report-junit", &path("whole.xml")]);
    assert_eq!(whole.status.code(), Some(harness::exit::MISMATCH));
    for k in 1..=3 {
        harness(&[
            "run",
            &suite,
            "--partition",
            &format!("{k}/3"),
            "--report-json",
            &path(&format!("{k}.jsonl")),
        ]);
    }
    let merged = harness(&[
        "merge",
        &path("1.jsonl"),
        &path("2.jsonl"),
        &path("3.jsonl"),
        "--report-junit",
        &path("merged.xml"),
    ]);
    assert_eq!(
        merged.status.code(),
        Some(harness::exit::MISMATCH),
        "{}",
        stderr(&merged)
    );
    let dialect = harness::dialect::by_name("msnp").unwrap();
    let timeless = |name: &str| {
        let text = std::fs::read_to_string(out.path().join(name)).unwrap();
        let times = regex::Regex::new(r#"(time|timestamp)="[^"]*""#).unwrap();
        dialect.redact(&times.replace_all(&text, ""))
    };
    let junit = timeless("merged.xml");
    assert!(junit.contains("snapshot differs"), "{junit}");
    assert_eq!(junit, timeless("whole.xml"));
    assert!(stdout(&merged).contains("changed: "), "{}", stdout(&merged));
}

#[test]
fn json_lines_carry_the_impact_the_table_prints_and_merge_keeps_it() {
    let impact_lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("{\"type\":\"impact\""))
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["sentence"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let suite = seed_suite().display().to_string();
    let table = stdout(&harness(&["run", &suite]));
    let printed: Vec<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("impact "))
        .map(str::to_string)
        .collect();
    let (_, whole) = run_json(&[]);
    let whole = std::fs::read_to_string(whole.path()).unwrap();
    assert_eq!(impact_lines(&whole), printed);
    assert_eq!(printed.len(), 3, "one per date of the policy");

    let dir = tempfile::tempdir().unwrap();
    let mut shards = Vec::new();
    for k in 1..=3 {
        let path = dir.path().join(format!("shard-{k}.jsonl"));
        let partition = format!("{k}/3");
        let out = harness(&[
            "run",
            &suite,
            "--partition",
            &partition,
            "--report-json",
            &path.display().to_string(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        shards.push(path.display().to_string());
    }
    let merged = dir.path().join("merged.jsonl");
    let mut args = vec!["merge".to_string()];
    args.extend(shards);
    args.extend(["--report-json".to_string(), merged.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = harness(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        impact_lines(&std::fs::read_to_string(&merged).unwrap()),
        printed
    );
}

/// Every suite in `suites/` is in each suite matrix of the GitHub workflow: `ci/conformance.sh`
/// finds a new suite by itself, the workflow's matrices only by a line someone must write.
#[test]
fn the_workflow_matrices_name_every_suite() {
    let root = repo_root();
    let suites: BTreeSet<String> = std::fs::read_dir(root.join("suites"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("suite.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let workflow = std::fs::read_to_string(root.join(".github/workflows/ci.yml")).unwrap();
    let matrices: Vec<BTreeSet<String>> = workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("suite: ["))
        .map(|l| {
            l.trim_end_matches(']')
                .split(',')
                .map(|s| s.trim().to_string())
                .collect()
        })
        .collect();
    assert!(!matrices.is_empty(), "no `suite: [...]` matrix in ci.yml");
    for matrix in matrices {
        let missing: Vec<_> = suites.difference(&matrix).collect();
        let unknown: Vec<_> = matrix.difference(&suites).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "ci.yml's matrix lacks {missing:?} and names {unknown:?}"
        );
    }
}
