//! Values a user can get wrong are refused up front with exit 2 and a message that says what
//! was expected: durations, targets, partitions, suite files that are not suite files, names
//! that would become paths outside their folder.

mod common;

use common::*;
use harness::exit;

fn seed() -> String {
    seed_suite().display().to_string()
}

fn refused(args: &[&str], says: &str) {
    let out = harness(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(exit::USAGE), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn durations_are_validated_before_anything_runs() {
    let seed = seed();
    refused(
        &["run", &seed, "--timeout", "18446744073709551615s"],
        "longer than a day",
    );
    refused(&["run", &seed, "--timeout", "0"], "longer than zero");
    refused(&["run", &seed, "--timeout", "5d"], "longer than a day");
    refused(
        &["run", &seed, "--timeout", "5x"],
        "unknown time unit \"x\"",
    );
    let out = harness(&[
        "run",
        &seed,
        "--timeout",
        "1m30s",
        "--case",
        "msn-messenger-6.0",
    ]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{}", stderr(&out));
    let out = harness(&[
        "run",
        &seed,
        "--timeout",
        "1.5s",
        "--case",
        "msn-messenger-6.0",
    ]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{}", stderr(&out));
}

#[test]
fn a_target_without_a_usable_port_is_a_usage_error() {
    let seed = seed();
    refused(
        &["run", &seed, "--target", "localhost"],
        "the port is missing",
    );
    refused(
        &["run", &seed, "--target", "127.0.0.1:210120219"],
        "the port is a number from 1 to 65535",
    );
}

#[test]
fn a_partition_beyond_the_suite_is_a_usage_error() {
    let cases = harness::suite::load_suite(&seed_suite())
        .unwrap()
        .cases
        .len();
    let partition = format!("{}/{}", cases + 1, cases + 7);
    refused(
        &["run", &seed(), "--partition", &partition],
        &format!("has only {cases} cases"),
    );
}

/// A suite folder whose suite.toml is `suite`, with one scripted case.
fn suite_with(suite: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("suite.toml"), suite).unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::write(
        dir.path().join("cases/c.toml"),
        "[[step]]\nsend = \"VER {trid} MSNP8 CVR0\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_file_that_is_not_a_suite_file_is_refused_unread() {
    let secret = tempfile::tempdir().unwrap();
    let passwd = secret.path().join("passwd");
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let link = secret.path().join("innocent.toml");
    std::os::unix::fs::symlink(&passwd, &link).unwrap();
    for (suite, path) in [
        (
            format!(
                "name = \"s\"\ndialect = \"msnp\"\ninclude = ['{}']\n",
                passwd.display()
            ),
            &passwd,
        ),
        (
            format!(
                "name = \"s\"\ndialect = \"msnp\"\ninclude = ['{}']\n",
                link.display()
            ),
            &link,
        ),
        (
            format!(
                "name = \"s\"\ndialect = \"msnp\"\n[[target]]\nname = \"t\"\npolicy = '{}'\nas_of = 2003-10-16\n",
                passwd.display()
            ),
            &passwd,
        ),
    ] {
        let dir = suite_with(&suite);
        let out = harness(&["check", &dir.path().display().to_string()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(exit::USAGE), "{err}");
        assert!(
            err.contains(&format!("{} is not a .toml file", path.display())),
            "{err}"
        );
        assert!(
            !err.contains("root:x"),
            "the file's content is shown: {err}"
        );
    }
}

#[test]
fn a_target_name_that_would_leave_the_snapshot_folder_is_refused() {
    let policy = seed_suite().join("policy.toml").display().to_string();
    let dir = suite_with(&format!(
        "name = \"s\"\ndialect = \"msnp\"\n[[target]]\nname = \"../../escaped\"\npolicy = '{policy}'\nas_of = 2003-10-16\n"
    ));
    let out = harness(&["run", &dir.path().display().to_string(), "--accept"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(exit::USAGE), "{err}");
    assert!(err.contains("cannot name a file"), "{err}");
    let parent = dir.path().parent().unwrap();
    assert!(!parent.join("escaped").exists() && !parent.join("c@escaped.snap").exists());
}

#[test]
fn a_capture_that_does_not_exist_is_a_usage_error_for_every_reader() {
    for command in ["import", "inspect", "judge"] {
        refused(
            &[command, "/nonexistent.pcap", "--dialect", "msnp"],
            "cannot read /nonexistent.pcap",
        );
    }
}

#[test]
fn a_suite_timeout_of_zero_and_an_absurd_rate_are_refused() {
    let dir = suite_with("name = \"s\"\ndialect = \"msnp\"\ntimeout_ms = 0\n");
    refused(
        &["check", &dir.path().display().to_string()],
        "a step timeout is more than 0 ms",
    );
    refused(
        &["run", &seed(), "--repeat", "2", "--rate", "1e-20"],
        "is not a rate",
    );
}

/// Results files are input too: numbers and partitions in them never panic merge or diff.
#[test]
fn hostile_results_files_are_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let header = |partition: &str, hash: &str| {
        format!(
            "{{\"type\":\"run\",\"suite\":\"s\",\"suite_sha256\":\"{hash}\",\"cases\":2,\"partition\":{partition},\"population\":{{}}}}\n"
        )
    };
    let summary = "{\"type\":\"summary\",\"results\":0}\n";
    for (partition, says) in [
        ("[0,2]", "is not one of a 2-case suite"),
        ("[3,2]", "is not one of a 2-case suite"),
        ("[1,0]", "is not one of a 2-case suite"),
        ("[1,99999999999]", "is not one of a 2-case suite"),
    ] {
        let file = write("p.jsonl", &(header(partition, "abc") + summary));
        refused(&["merge", &file], says);
    }
    let a = write("a.jsonl", &(header("[1,2]", "a€€€€€€€") + summary));
    let b = write("b.jsonl", &(header("[2,2]", "b€€€€€€€") + summary));
    refused(
        &["merge", &a, &b],
        "shards of different suites do not merge",
    );
    let cut = write("cut.jsonl", &header("null", "abc"));
    refused(&["merge", &cut], "no summary line");

    let result = "{\"type\":\"result\",\"case\":\"c\",\"name\":\"c\",\"target\":\"t\",\"suite_target\":null,\"case_index\":0,\"target_index\":0,\"dialect\":\"msnp\",\"verdict\":\"admitted\",\"expected\":null,\"matches\":null,\"stage\":\"USR\",\"reason\":\"r\",\"decided_by\":null,\"duration_ms\":1e30,\"divergences\":[],\"transcript\":{\"entries\":[{\"direction\":\"server\",\"at_ms\":1e300,\"text\":\"x\"}],\"dropped_bytes\":0}}\n";
    let huge = write("huge.jsonl", result);
    let out = harness(&["diff", &huge, &huge]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{}", stderr(&out));
}

/// A report file that cannot be written is named, and loses neither the other files nor the
/// results on stdout.
#[test]
fn a_report_file_that_cannot_be_written_loses_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("ok.jsonl");
    let out = harness(&[
        "run",
        &seed(),
        "--case",
        "msn-messenger-6.0",
        "--report-junit",
        "/proc/no-such-folder/junit.xml",
        "--report-json",
        &json.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(exit::RUNTIME));
    assert!(
        stderr(&out).contains("/proc/no-such-folder/junit.xml"),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::read_to_string(&json)
            .unwrap()
            .contains("\"type\":\"summary\"")
    );
    assert!(
        stdout(&out).contains("msn-messenger-6.0"),
        "{}",
        stdout(&out)
    );
}
