//! Servers a suite starts are stopped whole: every process of the group the harness started
//! them in, and the temporary folder it gave them, whether the run ends, or the harness is
//! told to stop. Shipped suites included: real nginx, Apache, PostgreSQL, sshd, dropbear,
//! Postfix, Dovecot (with socat) and openssl leave nothing behind.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A suite whose server script leaves a background child, a child that ignores SIGTERM, and a
/// file in its TMPDIR, then execs the reference server; the pids go to `pids`.
fn stubborn_suite(dir: &Path) {
    std::fs::create_dir(dir.join("cases")).unwrap();
    std::fs::copy(
        seed_suite().join("cases/msn-messenger-6.0.toml"),
        dir.join("cases/msn-messenger-6.0.toml"),
    )
    .unwrap();
    std::fs::copy(seed_suite().join("policy.toml"), dir.join("policy.toml")).unwrap();
    std::fs::write(
        dir.join("server.sh"),
        format!(
            "echo kept > \"$TMPDIR/scratch\"\n\
             sleep 300 &\necho $! >> pids\n\
             ( trap '' TERM; while :; do sleep 1; done ) &\necho $! >> pids\n\
             echo \"$TMPDIR\" > tmpdir\n\
             echo $$ >> pids\n\
             exec {} serve --dialect msnp --policy policy.toml --as-of 2003-10-16 --listen 127.0.0.1:$1\n",
            env!("CARGO_BIN_EXE_harness")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("suite.toml"),
        "name = \"stubborn\"\ndialect = \"msnp\"\ncases = \"cases\"\n[variables]\nemail = \"harness@hotmail.com\"\n[[target]]\nname = \"t\"\ncommand = [\"bash\", \"server.sh\", \"{port}\"]\n",
    )
    .unwrap();
}

fn alive(pid: &str) -> bool {
    // A zombie has been stopped; only its parent's reaping is left.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|s| !s.trim_start().starts_with('Z'))
    })
}

fn pids(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("pids"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_finished_run_stops_the_whole_group_and_removes_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    stubborn_suite(dir.path());
    let started = Instant::now();
    let out = harness(&["run", dir.path().to_str().unwrap(), "--format", "json"]);
    let (results, _) = json_lines(&stdout(&out));
    assert_eq!(results[0]["verdict"], "admitted", "{}", stderr(&out));
    let pids = pids(dir.path());
    assert_eq!(pids.len(), 3, "the script ran");
    for pid in &pids {
        assert!(!alive(pid), "process {pid} outlived the run");
    }
    let tmp = std::fs::read_to_string(dir.path().join("tmpdir")).unwrap();
    assert!(
        tmp.contains("harness-target"),
        "the server got a TMPDIR of its own: {tmp}"
    );
    assert!(!Path::new(tmp.trim()).exists(), "{tmp} was left behind");
    // The child that ignores SIGTERM is killed after the grace period, not waited on forever.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn an_interrupted_run_stops_its_servers_before_it_exits() {
    let dir = tempfile::tempdir().unwrap();
    stubborn_suite(dir.path());
    // A step that waits: the case hangs on a server that never answers its last command.
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            dir.path().to_str().unwrap(),
            "--timeout",
            "60s",
            "--repeat",
            "100000",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while pids(dir.path()).len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(pids(dir.path()).len(), 3, "the server started");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "128 + SIGTERM");
    for pid in pids(dir.path()) {
        assert!(!alive(&pid), "process {pid} outlived the interrupted run");
    }
    let tmp = std::fs::read_to_string(dir.path().join("tmpdir")).unwrap();
    assert!(!Path::new(tmp.trim()).exists(), "{tmp} was left behind");
}

/// Processes whose environment holds `marker`: what a run started, wherever it sits in the
/// process tree, and nothing another test started.
fn processes_with(marker: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|&b| b == 0).any(|v| v == marker.as_bytes()) && alive(&pid.to_string()) {
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            found.push((pid, comm.trim().to_string()));
        }
    }
    found
}

fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_shipped_suite_leaves_no_process_and_no_folder_behind() {
    let tmp = tempfile::tempdir().unwrap();
    for (suite, case) in [
        ("http-sunset", "anonymous-client"),
        ("tls-cutoff", "tls11-client"),
        ("ssh-hardening", "cbc-only"),
        ("postgres-upgrade", "md5-only-driver"),
        ("smtp-submission", "starttls-auth-plain"),
        ("imap-dovecot", "starttls-login"),
        ("pop3-dovecot", "stls-user-pass"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["run", "--case", case, "--format", "json"])
            .arg(repo_root().join("suites").join(suite))
            .env("TMPDIR", tmp.path())
            // PostgreSQL's data folder where this test can see it, not in /dev/shm, which
            // other tests' servers share.
            .env("HARNESS_PG_RUN", tmp.path())
            .output()
            .unwrap();
        let (results, _) = json_lines(&stdout(&out));
        assert!(!results.is_empty(), "{suite}: {}", stderr(&out));
        let marker = format!("HARNESS_CACHE_DIR={}", tmp.path().display());
        let left = processes_with(&marker);
        assert!(left.is_empty(), "{suite} left {left:?} running");
        let folders: Vec<_> = entries(tmp.path())
            .into_iter()
            .filter(|name| {
                !name.starts_with("harness-pg-servers.")
                    && !name.starts_with("harness-ssh-servers.")
            })
            .collect();
        assert!(folders.is_empty(), "{suite} left {folders:?} in TMPDIR");
    }
}
