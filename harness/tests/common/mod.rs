//! Helpers shared by the integration tests: running the built binary, starting `harness serve`.

#![allow(dead_code)]

pub mod fixtures;
pub mod live_tls;
pub mod mail;
pub mod production;
pub mod sasl;
pub mod suite_server;
pub mod tls_messages;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn seed_suite() -> PathBuf {
    repo_root().join("suites/msn-2003")
}

pub fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env_remove("CI")
        .output()
        .expect("run harness")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `harness serve` on an ephemeral loopback port; killed when dropped.
pub struct Served {
    pub child: Child,
    pub addr: String,
    pub log: BufReader<std::process::ChildStdout>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    pub fn start(policy: &str, as_of: &str) -> Served {
        Served::start_with(policy, as_of, &[])
    }

    /// With more `harness serve` options, e.g. `--max-connections`.
    pub fn start_with(policy: &str, as_of: &str, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args([
                "serve",
                "--dialect",
                "msnp",
                "--policy",
                policy,
                "--as-of",
                as_of,
                "--listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start harness serve");
        let mut log = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        log.read_line(&mut banner).unwrap();
        let addr = banner
            .split_whitespace()
            .find(|w| w.starts_with("127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address in banner {banner:?}"))
            .to_string();
        Served { child, addr, log }
    }

    /// The next `n` client log lines.
    pub fn log_lines(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let mut line = String::new();
                self.log.read_line(&mut line).unwrap();
                line
            })
            .collect()
    }
}

/// JSON Lines output split into result objects and the summary object.
pub fn json_lines(text: &str) -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut values: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let summary = values.pop().expect("summary line");
    assert_eq!(summary["type"], "summary");
    values.retain(|v| v["type"] == "result");
    (values, summary)
}

/// A copy of the seed suite in a temporary folder, to break on purpose.
pub fn suite_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    std::fs::copy(
        seed_suite().join("policy.toml"),
        dir.path().join("policy.toml"),
    )
    .unwrap();
    let captures = repo_root().join("captures");
    let suite = std::fs::read_to_string(seed_suite().join("suite.toml"))
        .unwrap()
        .replace("../../captures", &captures.display().to_string());
    std::fs::write(dir.path().join("suite.toml"), suite).unwrap();
    for folder in ["cases", "snapshots"] {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        for entry in std::fs::read_dir(seed_suite().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(
                &path,
                dir.path().join(folder).join(path.file_name().unwrap()),
            )
            .unwrap();
        }
    }
    dir
}

/// A folder copied whole, sub-folders included.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// A suite run once as JSON, expected to pass: each result by (case, target).
pub fn suite_results(
    suite: &Path,
) -> std::collections::BTreeMap<(String, String), serde_json::Value> {
    let out = harness(&["run", &suite.display().to_string(), "--format", "json"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    by_case_and_target(json_lines(&text).0)
}

/// Result objects by (case, target).
pub fn by_case_and_target(
    results: Vec<serde_json::Value>,
) -> std::collections::BTreeMap<(String, String), serde_json::Value> {
    results
        .into_iter()
        .map(|r| {
            let key = (
                r["case"].as_str().unwrap().to_string(),
                r["target"].as_str().unwrap().to_string(),
            );
            (key, r)
        })
        .collect()
}

/// `harness record --dialect DIALECT` in front of `upstream`, stopping after `sessions`: the
/// address clients connect to, and the process.
pub fn recorder(dialect: &str, upstream: u16, out: &Path, sessions: usize) -> (String, Child) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["record", "--dialect", dialect, "--listen", "127.0.0.1:0"])
        .args(["--upstream", &format!("127.0.0.1:{upstream}")])
        .args(["--out", &out.display().to_string()])
        .args(["--sessions", &sessions.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (addr, child)
}

/// The DOM as headless Chromium rendered it (`--dump-dom`), if Chromium is installed.
pub fn chromium_dom(page: &Path) -> Option<String> {
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!(
                "--user-data-dir={}",
                page.parent().unwrap().join("profile").display()
            ),
            "--dump-dom",
            &format!("file://{}", page.display()),
        ])
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The port a pcap's connections went to, as `judge` names it when the dialect's own is not
/// the one: the captures ran their servers on free ports.
pub fn captured_port(pcap: &str, dialect: &str) -> String {
    let out = harness(&["judge", pcap, "--dialect", dialect]);
    let said = stderr(&out);
    let (_, rest) = said
        .split_once("connections were opened to port ")
        .unwrap_or_else(|| panic!("{pcap}: no port named: {said}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_string()
}
