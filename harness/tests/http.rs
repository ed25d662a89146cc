//! The HTTP dialect against real servers: the http-sunset suite against nginx and Apache in
//! three phases; real clients' captures replayed against rules someone else wrote get the
//! verdicts the real clients got live; `record`, `judge` and `inspect` on HTTP traffic; and
//! bad HTTP settings and steps named by file, line and column.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

fn suite_dir() -> PathBuf {
    repo_root().join("suites/http-sunset")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process on `port`, killed when dropped.
struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(child: Child, port: u16, what: &str) -> Server {
    let server = Server(child, port);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{what} did not start on port {port}");
}

/// The suite's nginx (or Apache) under `phase`.
fn suite_server(script: &str, phase: &str) -> Server {
    let port = free_port();
    let child = Command::new("bash")
        .arg(suite_dir().join("servers").join(script))
        .args([phase, &port.to_string()])
        .spawn()
        .unwrap();
    wait_for(child, port, script)
}

/// nginx with the independent rules of captures/http/independent/nginx-rules.conf.
fn nginx_with_independent_rules(work: &Path) -> Server {
    let port = free_port();
    let rules =
        std::fs::read_to_string(repo_root().join("captures/http/independent/nginx-rules.conf"))
            .unwrap()
            .replace("__LISTEN__", &format!("127.0.0.1:{port}"));
    std::fs::write(work.join("rules.conf"), rules).unwrap();
    let dir = work.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {dir}/nginx.pid;\n\
         error_log stderr crit;\nevents {{ worker_connections 64; }}\n\
         http {{\n access_log off;\n client_body_temp_path {dir}/body;\n proxy_temp_path {dir}/proxy;\n\
         fastcgi_temp_path {dir}/fastcgi;\n uwsgi_temp_path {dir}/uwsgi;\n scgi_temp_path {dir}/scgi;\n\
         include {dir}/rules.conf;\n}}\n"
    );
    std::fs::write(work.join("nginx.conf"), conf).unwrap();
    let nginx = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("nginx");
    let child = Command::new(nginx)
        .args(["-c", &work.join("nginx.conf").display().to_string()])
        .args(["-p", &work.display().to_string()])
        .spawn()
        .unwrap();
    wait_for(child, port, "nginx with the independent rules")
}

/// A suite of `dialect = "http"` in `dir`, with the given cases folder and includes.
fn http_suite(dir: &Path, cases: &Path, include: &[PathBuf]) -> PathBuf {
    let include: Vec<String> = include
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    let text = format!(
        "name = \"http-test\"\ndialect = \"http\"\ncases = {:?}\ninclude = [{}]\n",
        cases.display().to_string(),
        include.join(", ")
    );
    let file = dir.join("suite.toml");
    std::fs::write(&file, text).unwrap();
    file
}

fn results(out: &std::process::Output) -> Vec<Value> {
    let text = stdout(out);
    json_lines(&text).0
}

#[test]
fn http_sunset_suite_has_every_verdict_and_matches_its_expectations() {
    let out = harness(&["run", &suite_dir().display().to_string()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    for verdict in ["✓ admitted", "✓ warned", "✓ locked-out"] {
        assert!(text.contains(verdict), "no {verdict} in\n{text}");
    }
    // Each retirement rule decides by the status the server gave, named in the table.
    for status in [
        "HTTP/1.1 410 Gone",
        "HTTP/1.1 426",
        "HTTP/1.1 505",
        "HTTP/1.1 403 Forbidden",
    ] {
        assert!(text.contains(status), "no {status} in\n{text}");
    }
    assert!(text.contains("Sunset: Thu, 01 Jan 2026 00:00:00 GMT"));
    assert!(text.contains("0 mismatched, 0 unchecked"), "{text}");
}

/// What each real client got live from the independent rules (captures/http/independent/
/// live.sh ran the real programs): client name to verdict.
fn live_verdicts() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(repo_root().join("captures/http/independent/live-results.tsv"))
            .unwrap();
    let mut verdicts = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields[1].contains("/api/v2/status") {
            verdicts.insert(fields[0].to_string(), fields[6].to_string());
        }
    }
    verdicts
}

#[test]
fn real_clients_captures_get_the_verdicts_of_rules_someone_else_wrote() {
    let work = tempfile::tempdir().unwrap();
    let server = nginx_with_independent_rules(work.path());
    let cases = work.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    let suite = http_suite(work.path(), &cases, &[repo_root().join("captures/http")]);
    let out = harness(&[
        "run",
        &suite.display().to_string(),
        "--target",
        &format!("127.0.0.1:{}", server.1),
        "--format",
        "json",
    ]);
    let replayed: BTreeMap<String, String> = results(&out)
        .iter()
        .map(|r| {
            let case = r["case"].as_str().unwrap().trim_end_matches(".captured");
            (case.to_string(), r["verdict"].as_str().unwrap().to_string())
        })
        .collect();
    let live = live_verdicts();
    assert_eq!(live.len(), 19, "every captured client ran live");
    assert_eq!(
        replayed, live,
        "replayed captures against what the real clients got"
    );
    // The rules lock out, warn and admit real clients alike.
    for verdict in ["admitted", "warned", "locked-out"] {
        assert!(live.values().any(|v| v == verdict), "no live {verdict}");
    }
}

/// (verdict, stage, reason) of each result, sorted: what run and judge should agree on.
fn verdicts(results: &[Value]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = results
        .iter()
        .map(|r| {
            (
                r["verdict"].as_str().unwrap().to_string(),
                r["stage"].as_str().unwrap_or_default().to_string(),
                r["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn recorded_traffic_is_judged_as_the_live_run_saw_it() {
    let work = tempfile::tempdir().unwrap();
    let server = suite_server("nginx.sh", "cutoff");
    let scripted = suite_dir().join("cases");
    let sessions = std::fs::read_dir(&scripted).unwrap().count();
    let recorded = work.path().join("recorded");
    let (proxy, mut record) = recorder("http", server.1, &recorded, sessions);
    let suite = http_suite(work.path(), &scripted, &[]);
    let run = harness(&[
        "run",
        &suite.display().to_string(),
        "--target",
        &proxy,
        "--format",
        "json",
        "-j",
        "1",
    ]);
    assert!(record.wait().unwrap().success());
    let live = results(&run);
    assert_eq!(live.len(), sessions, "{}", stderr(&run));

    let judged = harness(&["judge", &recorded.display().to_string(), "--format", "json"]);
    assert_eq!(judged.status.code(), Some(0), "{}", stderr(&judged));
    assert_eq!(verdicts(&results(&judged)), verdicts(&live));
    let kinds: Vec<String> = verdicts(&live).into_iter().map(|v| v.0).collect();
    assert!(kinds.contains(&"admitted".to_string()) && kinds.contains(&"locked-out".to_string()));

    // The recording's pcapng files judge the same as its capture cases.
    let pcapng = std::fs::read_dir(&recorded)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pcapng"))
        .unwrap();
    let port = server.1.to_string();
    let one = harness(&[
        "judge",
        &pcapng.display().to_string(),
        "--dialect",
        "http",
        "--port",
        &port,
        "--format",
        "json",
    ]);
    assert_eq!(results(&one).len(), 1, "{}", stderr(&one));
}

/// The server port a capture case names.
fn server_port(case: &Path) -> String {
    let text = std::fs::read_to_string(case).unwrap();
    let line = text.lines().find(|l| l.starts_with("server = ")).unwrap();
    line.trim_end_matches('"')
        .rsplit(':')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn inspect_and_judge_read_real_clients_captures() {
    let captures = repo_root().join("captures/http");
    let port = server_port(&captures.join("lynx.captured.toml"));
    let pcap = captures.join("lynx.pcap").display().to_string();
    let out = harness(&["inspect", &pcap, "--dialect", "http", "--port", &port]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("identity: Lynx 2.9.0dev.12; versions offered: HTTP/1.0"),
        "{text}"
    );
    assert!(text.contains("C→S GET /api/v2/status HTTP/1.0"), "{text}");
    assert!(text.contains("S→C HTTP/1.1 200 OK"), "{text}");
    assert!(text.contains("S→C {\"status\":\"ok\"}"), "{text}");

    let out = harness(&["judge", &pcap, "--dialect", "http", "--port", &port]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("admitted"), "{text}");
    assert!(text.contains("Lynx 2.9.0dev.12"), "{text}");
}

#[test]
fn bad_http_settings_and_steps_are_named_by_file_line_and_column() {
    let work = tempfile::tempdir().unwrap();
    let cases = work.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    std::fs::write(
        cases.join("bad.toml"),
        "[[step]]\nsend = \"\"\"\nGET /x HTTP/11\nHost: {host}\n\"\"\"\n",
    )
    .unwrap();
    let suite = http_suite(work.path(), &cases, &[]);
    let out = harness(&[
        "run",
        &suite.display().to_string(),
        "--target",
        "127.0.0.1:9",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml:3:8"), "{err}");
    assert!(err.contains("`HTTP/11` is not an HTTP version"), "{err}");

    std::fs::write(
        cases.join("bad.toml"),
        "[[step]]\nsend = \"GET /x HTTP/1.1\"\n",
    )
    .unwrap();
    let mut text = std::fs::read_to_string(&suite).unwrap();
    text.push_str("[dialect_settings]\nlocked_out_statuses = [\"4xx\", \"4x\"]\n");
    std::fs::write(&suite, text).unwrap();
    let out = harness(&[
        "run",
        &suite.display().to_string(),
        "--target",
        "127.0.0.1:9",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("suite.toml:6:"), "{err}");
    assert!(err.contains("`4x` is not a status"), "{err}");
}

#[test]
fn apache_and_nginx_agree_on_every_scripted_client() {
    // The same policy in two implementations: the verdicts agree phase by phase.
    let work = tempfile::tempdir().unwrap();
    let suite = http_suite(work.path(), &suite_dir().join("cases"), &[]);
    for phase in ["warning", "cutoff"] {
        let by_server: Vec<Vec<(String, String)>> = ["nginx.sh", "apache.sh"]
            .iter()
            .map(|script| {
                let server = suite_server(script, phase);
                let out = harness(&[
                    "run",
                    &suite.display().to_string(),
                    "--target",
                    &format!("127.0.0.1:{}", server.1),
                    "--format",
                    "json",
                ]);
                let mut v: Vec<(String, String)> = results(&out)
                    .iter()
                    .map(|r| {
                        (
                            r["case"].as_str().unwrap().into(),
                            r["verdict"].as_str().unwrap().into(),
                        )
                    })
                    .collect();
                v.sort();
                v
            })
            .collect();
        assert_eq!(by_server[0], by_server[1], "{phase}");
        assert_eq!(by_server[0].len(), 8);
    }
}

/// A recorded app whose version is in a header of its own name and whose API version is a
/// date in its path: by convention neither is found; a suite that names them
/// (`version_header`, `api_version_path`) gets both, in the cases it loads and in `judge`.
#[test]
fn a_suite_says_where_a_recorded_clients_identity_is() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    let capture = r#"[capture]
dialect = "http"
source = "written for this test"
client = "127.0.0.1:40000"
server = "127.0.0.1:8080"
first_timestamp = "2026-11-27T09:00:00Z"
mid_stream = false
ended_by = "fin"
versions = "HTTP/1.1"
client_name = "okhttp"
client_version = "4.12.0"
omitted_bytes = 0

[[message]]
from = "client"
at_ms = 0.0
text = """
GET /api/2023-10/orders HTTP/1.1\r
Host: localhost:8080\r
User-Agent: okhttp/4.12.0\r
App-Build: 812\r
\r
"""

[[message]]
from = "server"
at_ms = 1.0
text = """
HTTP/1.1 410 Gone\r
Content-Length: 0\r
\r
"""
"#;
    std::fs::write(cases.join("shop-app.captured.toml"), capture).unwrap();
    let suite = dir.path().join("suite.toml");
    let write_suite = |settings: &str| {
        std::fs::write(
            &suite,
            format!("name = \"shop\"\ndialect = \"http\"\ncases = \"cases\"\n[dialect_settings]\n{settings}"),
        )
        .unwrap();
    };
    let judged_name = || {
        let out = harness(&[
            "judge",
            &cases.join("shop-app.captured.toml").display().to_string(),
            "--suite",
            &suite.display().to_string(),
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let (results, _) = json_lines(&stdout(&out));
        results[0]["name"].as_str().unwrap().to_string()
    };
    write_suite("");
    assert_eq!(judged_name(), "okhttp 4.12.0");
    write_suite("version_header = \"App-Build\"\napi_version_path = '^/api/(\\d{4}-\\d{2})/'\n");
    assert_eq!(judged_name(), "okhttp 4.12.0 (App-Build 812)");
    let loaded = harness::suite::load_suite(&suite).unwrap();
    let case = &loaded.cases[0];
    assert_eq!(case.name, "okhttp 4.12.0 (App-Build 812) (captured)");
    // A pattern without its group is refused where it is written.
    write_suite("api_version_path = '^/api/v[0-9]+/'\n");
    let out = harness(&["check", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the pattern needs exactly one group"),
        "{}",
        stderr(&out)
    );
}
