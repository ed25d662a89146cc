//! One stream of results: every report reads the results as cases finish, so a run cut
//! short keeps on disk every result it obtained, and load mode's handshakes reach the
//! `--report-*` files like any run's results.

mod common;

use common::*;
use serde_json::Value;
use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A server that closes the first connection at once and holds every later one open
/// without a word: the first case is judged at once, the second waits for its timeout.
fn first_quick_then_silent() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            if i == 0 {
                let mut first = [0u8; 64];
                let _ = stream.read(&mut first);
                drop(stream);
            } else {
                held.push(stream);
            }
        }
    });
    addr
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn a_run_killed_mid_way_leaves_every_result_it_obtained_in_the_json_report() {
    let addr = first_quick_then_silent();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", &seed_suite().display().to_string()])
        .args(["--target", &addr, "--jobs", "1", "--timeout", "60s"])
        .args(["--report-json", &json.display().to_string()])
        .args(["--case", "msn-messenger-6.0", "--case", "msn-messenger-4.6"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines(&json).len() < 2 {
        assert!(Instant::now() < deadline, "no result reached the file");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The second case waits on the silent server: the run is cut short (as by a crash).
    child.kill().unwrap();
    child.wait().unwrap();
    let written = lines(&json);
    assert_eq!(written[0]["type"], "run", "{written:#?}");
    assert_eq!(written[1]["type"], "result", "{written:#?}");
    assert_eq!(written[1]["case"], "msn-messenger-4.6");
    assert_eq!(written.len(), 2, "{written:#?}");
}

#[test]
fn load_mode_writes_each_handshake_to_the_report_files() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.jsonl");
    let out = harness(&[
        "run",
        &seed_suite().display().to_string(),
        "--repeat",
        "20",
        "--report-json",
        &json.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(harness::exit::SUCCESS),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("load against 2003-10-16: 20 handshakes in "),
        "{}",
        stdout(&out)
    );
    let written = lines(&json);
    let results = written.iter().filter(|l| l["type"] == "result").count();
    assert_eq!(results, 60, "20 handshakes against each of 3 targets");
    let summary = written.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["results"], 60);
    assert_eq!(summary["exit_code"], 0);
}
