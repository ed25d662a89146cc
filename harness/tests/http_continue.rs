//! `Expect: 100-continue` against real nginx, with real curl: a scripted case, a tcpdump
//! capture of curl imported with `harness import`, and curl through `harness record`'s proxy.
//! Each is admitted, the client's request framed whole before the server's 100, and replayed
//! head, 100, body, 200. Needs nginx and curl; the capture needs tcpdump and the right to
//! capture (root), and is skipped with a note without them, except on CI.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

/// curl's body: over 1 KiB, as clients that send `Expect: 100-continue` send.
const BODY_LEN: usize = 2000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The http-sunset suite's nginx in its `before` phase (200 for everyone) on a free port.
fn nginx() -> (Process, u16) {
    let port = free_port();
    let child = Command::new("bash")
        .arg(repo_root().join("suites/http-sunset/servers/nginx.sh"))
        .args(["before", &port.to_string()])
        .spawn()
        .unwrap();
    let server = Process(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("nginx did not start on port {port}");
}

/// Real curl posting `BODY_LEN` bytes with `Expect: 100-continue` to `addr`; checks that it
/// got the 100, then the 200.
fn curl_upload(addr: &str, work: &Path) {
    let body = work.join("body");
    std::fs::write(&body, vec![b'a'; BODY_LEN]).unwrap();
    let out = Command::new("curl")
        .args(["-sv", "-H", "Expect: 100-continue", "--data-binary"])
        .arg(format!("@{}", body.display()))
        .arg(format!("http://{addr}/api/v2/status"))
        .output()
        .expect("curl runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("> Expect: 100-continue"), "{said}");
    assert!(said.contains("< HTTP/1.1 100 Continue"), "{said}");
    assert!(said.contains("< HTTP/1.1 200 OK"), "{said}");
}

/// A suite of `dialect = "http"` with `cases` as its cases folder.
fn suite(dir: &Path, cases: &Path) -> PathBuf {
    let file = dir.join("suite.toml");
    let text = format!(
        "name = \"continue\"\ndialect = \"http\"\ncases = {:?}\n",
        cases.display().to_string()
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// Runs the suite against `port`; the one result.
fn run_against(suite: &Path, port: u16) -> Value {
    let out = harness(&[
        "run",
        &suite.display().to_string(),
        "--target",
        &format!("127.0.0.1:{port}"),
        "--format",
        "json",
    ]);
    let (results, _) = json_lines(&stdout(&out));
    assert_eq!(results.len(), 1, "{}{}", stdout(&out), stderr(&out));
    results[0].clone()
}

/// The first line of each transcript entry, with its direction.
fn wire(result: &Value) -> Vec<(String, String)> {
    result["transcript"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = e["text"].as_str().unwrap_or_default();
            (
                e["direction"].as_str().unwrap().to_string(),
                text.lines().next().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Admitted by the 200, after head, 100, body, as curl sent it.
fn assert_replayed_as_curl_sends(result: &Value) {
    assert_eq!(result["verdict"], "admitted", "{result}");
    assert_eq!(result["decided_by"], "HTTP/1.1 200 OK", "{result}");
    let wire = wire(result);
    let shape: Vec<(&str, &str)> = wire
        .iter()
        .map(|(d, l)| (d.as_str(), l.get(..15).unwrap_or(l)))
        .collect();
    assert_eq!(
        shape,
        [
            ("client", "POST /api/v2/st"),
            ("server", "HTTP/1.1 100 Co"),
            ("client", "aaaaaaaaaaaaaaa"),
            ("server", "HTTP/1.1 200 OK"),
        ],
        "{wire:?}"
    );
    assert_eq!(wire[2].1.len(), BODY_LEN);
}

/// A capture case's messages: who sent each and its first line.
fn recorded(case: &Path) -> Vec<(String, String)> {
    let file: harness::capture::CaptureFile =
        toml::from_str(&std::fs::read_to_string(case).unwrap()).unwrap();
    file.messages
        .iter()
        .map(|m| {
            let bytes = m.bytes().unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let from = format!("{:?}", m.from).to_lowercase();
            (from, text.lines().next().unwrap_or_default().to_string())
        })
        .collect()
}

/// The request framed whole (head and body) before the 100, the 200 last.
fn assert_request_before_the_100(case: &Path) {
    let messages = recorded(case);
    let firsts: Vec<(&str, &str)> = messages
        .iter()
        .map(|(f, l)| (f.as_str(), l.as_str()))
        .collect();
    assert_eq!(
        firsts,
        [
            ("client", "POST /api/v2/status HTTP/1.1"),
            ("server", "HTTP/1.1 100 Continue"),
            ("server", "HTTP/1.1 200 OK"),
        ],
        "{}",
        case.display()
    );
    let file: harness::capture::CaptureFile =
        toml::from_str(&std::fs::read_to_string(case).unwrap()).unwrap();
    let request = file.messages[0].bytes().unwrap();
    assert!(
        request.ends_with(&[b'a'; BODY_LEN]),
        "the body is not in the request"
    );
}

fn judged(case: &Path) -> Value {
    let out = harness(&["judge", &case.display().to_string(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    json_lines(&stdout(&out)).0[0].clone()
}

/// The one `.toml` case in `dir`.
fn the_case(dir: &Path) -> PathBuf {
    let cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    assert_eq!(cases.len(), 1, "{cases:?}");
    cases[0].clone()
}

#[test]
fn a_scripted_expect_100_continue_post_is_admitted_by_nginx() {
    let work = tempfile::tempdir().unwrap();
    let cases = work.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    std::fs::write(
        cases.join("curl-upload.toml"),
        format!(
            "[[step]]\nsend = \"\"\"\nPOST /api/v2/status HTTP/1.1\nHost: {{host}}\nUser-Agent: curl/7.88.1\nAccept: */*\nExpect: 100-continue\nContent-Type: application/x-www-form-urlencoded\n\"\"\"\nbody = \"{}\"\n",
            "a".repeat(BODY_LEN)
        ),
    )
    .unwrap();
    let (_nginx, port) = nginx();
    let result = run_against(&suite(work.path(), &cases), port);
    assert_replayed_as_curl_sends(&result);
}

#[test]
fn curl_through_the_recording_proxy_is_recorded_in_order_and_admitted() {
    let work = tempfile::tempdir().unwrap();
    let (_nginx, port) = nginx();
    let out = work.path().join("recorded");
    let (proxy, mut record) = recorder("http", port, &out, 1);
    curl_upload(&proxy, work.path());
    assert!(record.wait().unwrap().success());
    let case = the_case(&out);
    assert_request_before_the_100(&case);
    assert_eq!(judged(&case)["verdict"], "admitted");
    let result = run_against(&suite(work.path(), &out), port);
    assert_replayed_as_curl_sends(&result);
}

#[test]
fn a_tcpdump_capture_of_curl_imports_in_order_and_replays_admitted() {
    let work = tempfile::tempdir().unwrap();
    let (_nginx, port) = nginx();
    let pcap = work.path().join("curl.pcap");
    let tcpdump = match common::live_tls::Tcpdump::start(port, &pcap) {
        Ok(tcpdump) => tcpdump,
        Err(why) => {
            assert!(std::env::var_os("CI").is_none(), "{why}: required on CI");
            eprintln!("note: {why}; skipping the capture of curl");
            return;
        }
    };
    curl_upload(&format!("127.0.0.1:{port}"), work.path());
    // tcpdump gets the last packets late on a busy machine: wait for the close.
    tcpdump.stop_after("http", port, 1);
    let cases = work.path().join("cases");
    let out = harness(&[
        "import",
        &pcap.display().to_string(),
        "--dialect",
        "http",
        "--port",
        &port.to_string(),
        "--out",
        &cases.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let case = the_case(&cases);
    assert_request_before_the_100(&case);
    assert_eq!(judged(&case)["verdict"], "admitted");
    let result = run_against(&suite(work.path(), &cases), port);
    assert_replayed_as_curl_sends(&result);
}
