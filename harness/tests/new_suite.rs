//! `harness new` as a user starting a suite in their own repository: a real capture of curl
//! against nginx (tcpdump on loopback), `harness new --from-capture --server nginx` into a
//! fresh git repository, the first run's snapshots recorded, then the server's config changed
//! in the generated script: the run exits 1 leaving `.snap.new` files, `harness review` at a
//! pseudo-terminal accepts them, and the next run exits 0. Every other server template's suite,
//! made from a committed capture, runs as written too; nothing already there is overwritten.

mod common;

use common::live_tls::{Tcpdump, free_port, missing_tool, skip};
use common::*;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The nginx template's script run by hand, in its own process group; stopped whole.
struct Nginx(Child);

impl Nginx {
    fn start(port: u16) -> Nginx {
        let child = Command::new("bash")
            .arg(repo_root().join("harness/templates/servers/nginx.sh"))
            .arg(port.to_string())
            .process_group(0)
            .spawn()
            .unwrap();
        // Held from here, so a failure to listen still stops it whole.
        let nginx = Nginx(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return nginx;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nginx did not listen on {port}");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// Three clients as a real curl sends them: HTTP/1.1, HTTP/1.0, and an old app's User-Agent.
fn capture_of_curl(dir: &Path) -> Option<(std::path::PathBuf, u16)> {
    if let Some(why) = missing_tool(&["nginx", "tcpdump", "curl", "script", "git"]) {
        skip(&why);
        return None;
    }
    let port = free_port();
    let _nginx = Nginx::start(port);
    let pcap = dir.join("traffic.pcap");
    let tcpdump = match Tcpdump::start(port, &pcap) {
        Ok(t) => t,
        Err(why) => {
            skip(&why);
            return None;
        }
    };
    let url = format!("http://127.0.0.1:{port}/api/v2/status");
    for extra in [&[][..], &["--http1.0"][..], &["-A", "ExampleApp/2.9.1"][..]] {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(extra)
            .arg(&url)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "200",
            "curl {extra:?}"
        );
    }
    tcpdump.stop_after("http", port, 3);
    Some((pcap, port))
}

fn run(dir: &Path, extra: &[&str]) -> Output {
    let suite = dir.display().to_string();
    let mut args = vec!["run", suite.as_str()];
    args.extend(extra);
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(&args)
        .env_remove("CI")
        .output()
        .unwrap()
}

fn pending(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("snapshots"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".snap.new"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `harness review DIR` at a pseudo-terminal (util-linux `script`), typing `answers`.
fn review_at_a_terminal(dir: &Path, answers: &str) -> Output {
    let command = format!("{} review {}", env!("CARGO_BIN_EXE_harness"), dir.display());
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(answers.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn a_new_suite_from_a_capture_against_nginx_runs_changes_is_reviewed_and_passes() {
    let work = tempfile::tempdir().unwrap();
    let Some((pcap, port)) = capture_of_curl(work.path()) else {
        return;
    };
    let repo = work.path().join("repo");
    let git = Command::new("git").args(["init", "-q"]).arg(&repo).status();
    assert!(git.is_ok_and(|s| s.success()), "git init");

    let out = harness(&[
        "new",
        &repo.display().to_string(),
        "--dialect",
        "http",
        "--from-capture",
        &pcap.display().to_string(),
        "--port",
        &port.to_string(),
        "--server",
        "nginx",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let cases = std::fs::read_dir(repo.join("cases")).unwrap().count();
    assert_eq!(cases, 3, "three distinct clients: {}", stdout(&out));
    let workflow = std::fs::read_to_string(repo.join(".github/workflows/harness.yml")).unwrap();
    assert_eq!(
        workflow,
        harness::commands::starter_workflow(".", &["nginx-light"])
    );

    // As written: the first run has only new snapshots (exit 1, each left for review);
    // recorded with --accept, the next run passes.
    let first = run(&repo, &[]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}{}",
        stdout(&first),
        stderr(&first)
    );
    assert_eq!(pending(&repo).len(), 3, "{}", stdout(&first));
    let accepted = run(&repo, &["--accept"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", stdout(&accepted));
    let again = run(&repo, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(stdout(&again).contains("3 admitted"), "{}", stdout(&again));

    // The server's policy changes: HTTP/1.0 is refused with 426.
    let script = repo.join("servers/nginx.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    let changed = text.replace(
        "        location / {",
        "        if (\\$server_protocol = HTTP/1.0) { return 426 \"use HTTP/1.1\"; }\n        location / {",
    );
    assert_ne!(changed, text);
    std::fs::write(&script, changed).unwrap();
    let after = run(&repo, &[]);
    assert_eq!(
        after.status.code(),
        Some(1),
        "{}{}",
        stdout(&after),
        stderr(&after)
    );
    assert!(
        stdout(&after).contains("HTTP/1.1 426"),
        "the refusal decides: {}",
        stdout(&after)
    );
    let left = pending(&repo);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with("@nginx.snap.new"), "{left:?}");

    let review = review_at_a_terminal(&repo, "a\n");
    assert_eq!(
        review.status.code(),
        Some(0),
        "{}{}",
        stdout(&review),
        stderr(&review)
    );
    assert!(
        stdout(&review).contains("1 accepted, 0 rejected, 0 skipped; 0 left to review"),
        "{}",
        stdout(&review)
    );
    assert!(pending(&repo).is_empty());
    let last = run(&repo, &[]);
    assert_eq!(last.status.code(), Some(0), "{}", stdout(&last));
    assert!(stdout(&last).contains("1 locked out"), "{}", stdout(&last));
}

#[test]
fn new_overwrites_nothing_and_names_its_templates() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("suite");
    let path = dir.display().to_string();
    let out = harness(&["new", &path, "--dialect", "ssh", "--server", "dropbear"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let suite = std::fs::read_to_string(dir.join("suite.toml")).unwrap();
    assert!(
        suite.contains(r#"command = ["bash", "servers/dropbear.sh", "legacy", "{port}"]"#),
        "{suite}"
    );
    assert!(suite.contains("max_connections = 3"), "{suite}");
    assert!(dir.join("servers/hostkeys.sh").exists());
    assert!(
        stdout(&out).contains("next: add cases to"),
        "{}",
        stdout(&out)
    );
    let check = harness(&["check", &path]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let empty = harness(&["run", &path]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        stderr(&empty).contains("has no cases yet"),
        "{}",
        stderr(&empty)
    );
    // No repository root and no --workflow: no workflow.
    assert!(!dir.join(".github").exists());

    let again = harness(&["new", &path, "--dialect", "ssh"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("suite.toml")).unwrap(),
        suite
    );

    let list = harness(&["new", "--server", "list"]);
    assert_eq!(list.status.code(), Some(0));
    for name in ["nginx", "apache", "sshd", "dropbear", "postgres"] {
        assert!(stdout(&list).contains(name), "{}", stdout(&list));
    }
    let other = work.path().join("other").display().to_string();
    let unknown = harness(&["new", &other, "--dialect", "http", "--server", "lighttpd"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("nginx, apache, sshd"),
        "{}",
        stderr(&unknown)
    );
    let mismatch = harness(&["new", &other, "--dialect", "http", "--server", "postgres"]);
    assert_eq!(mismatch.status.code(), Some(2));
    assert!(
        stderr(&mismatch).contains("speaks postgres"),
        "{}",
        stderr(&mismatch)
    );
    assert!(!work.path().join("other").exists(), "nothing written");

    // The template says the dialect; a capture with no client of it writes nothing.
    let msnp = repo_root().join("captures/msnp-loopback/msnp-loopback.pcap");
    let none = harness(&[
        "new",
        &other,
        "--server",
        "nginx",
        "--from-capture",
        &msnp.display().to_string(),
    ]);
    assert_eq!(none.status.code(), Some(2), "{}", stderr(&none));
    assert!(
        stderr(&none).contains("no http session on port 80"),
        "{}",
        stderr(&none)
    );
    assert!(!work.path().join("other").exists(), "nothing left behind");
    let inferred = harness(&["new", &other, "--server", "postgres"]);
    assert_eq!(inferred.status.code(), Some(0), "{}", stderr(&inferred));
    let suite = std::fs::read_to_string(work.path().join("other/suite.toml")).unwrap();
    assert!(suite.contains("dialect = \"postgres\""), "{suite}");
}

/// The port a committed capture's server listened on, from its capture case beside it.
fn captured_port(case: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join(case)).unwrap();
    let line = text.lines().find(|l| l.starts_with("server = ")).unwrap();
    line.trim_end_matches('"')
        .rsplit(':')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn every_server_template_runs_as_written_against_a_committed_capture() {
    let work = tempfile::tempdir().unwrap();
    // (template, dialect, capture, the server program it starts)
    let templates = [
        ("apache", "http", "captures/http/curl", "apache2"),
        ("sshd", "ssh", "captures/ssh/asyncssh", "sshd"),
        ("dropbear", "ssh", "captures/ssh/asyncssh", "dropbear"),
        (
            "postgres",
            "postgres",
            "captures/postgres/asyncpg",
            "postgres",
        ),
        // Protocols spoken by dialect files: the template writes the file into the suite.
        (
            "postfix",
            "smtp",
            "captures/smtp/python-smtplib-plain.today",
            "postfix",
        ),
        (
            "dovecot",
            "imap",
            "captures/imap/python-imaplib.today",
            "dovecot",
        ),
        (
            "dovecot-pop3",
            "pop3",
            "captures/pop3/python-poplib.today",
            "dovecot",
        ),
    ];
    for (template, dialect, capture, program) in templates {
        let found = ["/usr/sbin/", "/usr/bin/"]
            .iter()
            .any(|dir| Path::new(dir).join(program).exists())
            || std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|mut versions| {
                versions.any(|v| v.unwrap().path().join("bin").join(program).exists())
            });
        if !found {
            skip(&format!("{program} is not installed"));
            continue;
        }
        let dir = work.path().join(template);
        let out = harness(&[
            "new",
            &dir.display().to_string(),
            "--dialect",
            dialect,
            "--from-capture",
            &repo_root()
                .join(format!("{capture}.pcap"))
                .display()
                .to_string(),
            "--port",
            &captured_port(&format!("{capture}.captured.toml")),
            "--server",
            template,
        ]);
        assert_eq!(out.status.code(), Some(0), "{template}: {}", stderr(&out));
        let run = run(&dir, &["--accept"]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{template}: {}{}",
            stdout(&run),
            stderr(&run)
        );
        assert!(
            stdout(&run).contains("0 errors"),
            "{template}: {}",
            stdout(&run)
        );
        if dialect != "http" && dialect != "ssh" && dialect != "postgres" {
            let suite = std::fs::read_to_string(dir.join("suite.toml")).unwrap();
            assert!(
                suite.contains(&format!("dialect = \"dialects/{dialect}.toml\"")),
                "{suite}"
            );
        }
    }
}

#[test]
fn with_workflow_the_starter_workflow_goes_to_the_repository_the_suite_is_in() {
    let work = tempfile::tempdir().unwrap();
    let git = Command::new("git")
        .args(["init", "-q"])
        .arg(work.path())
        .status();
    if !git.is_ok_and(|s| s.success()) {
        skip("git is not installed");
        return;
    }
    let suite = work.path().join("suites/api");
    let out = harness(&[
        "new",
        &suite.display().to_string(),
        "--dialect",
        "http",
        "--server",
        "apache",
        "--workflow",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let workflow = work.path().join(".github/workflows/harness.yml");
    assert_eq!(
        std::fs::read_to_string(&workflow).unwrap(),
        harness::commands::starter_workflow("suites/api", &["apache2"])
    );
    // A second suite would overwrite the workflow: refused, nothing written.
    let other = work.path().join("suites/other");
    let again = harness(&[
        "new",
        &other.display().to_string(),
        "--dialect",
        "http",
        "--workflow",
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("harness.yml already exists"),
        "{}",
        stderr(&again)
    );
    assert!(!other.exists());
}
