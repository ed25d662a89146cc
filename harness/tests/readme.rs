//! Every `harness` command the README shows, run as a reader would run it (from a copy of the
//! repository's suites and captures, with the example files it names made first). A README
//! that shows a command the harness no longer takes fails here. (`cargo` and `bash ci/...`
//! commands are what CI itself runs.)

mod common;

use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The `harness ...` lines of the README's `sh` blocks, comments and `[optional]` brackets
/// removed (their options kept).
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let mut in_sh = false;
    let mut commands = Vec::new();
    for line in readme.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            text if in_sh && text.starts_with("harness ") => {
                let command = text.split(" # ").next().unwrap().trim();
                commands.push(command.replace(['[', ']'], ""));
            }
            _ => {}
        }
    }
    commands
}

fn free_port() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string()
}

/// A command line run through `sh` in `dir`, `harness` being the built binary.
fn shell(dir: &Path, command: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("exec {command}"))
        .current_dir(dir)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env_remove("CI");
    c
}

fn bin_dir() -> String {
    Path::new(env!("CARGO_BIN_EXE_harness"))
        .parent()
        .unwrap()
        .display()
        .to_string()
}

fn run(dir: &Path, command: &str) -> std::process::Output {
    shell(dir, command).output().unwrap()
}

fn background(dir: &Path, command: &str) -> Child {
    let child = shell(dir, command)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    child
}

#[test]
fn every_harness_command_in_the_readme_runs() {
    let commands = readme_commands();
    assert!(commands.len() >= 10, "{commands:?}");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    copy_dir(&repo_root().join("suites"), &dir.join("suites"));
    copy_dir(&repo_root().join("captures"), &dir.join("captures"));
    let pcap = repo_root().join("captures/msnp-loopback/msnp-loopback.pcap");
    std::fs::copy(&pcap, dir.join("capture.pcapng")).unwrap();
    std::fs::copy(&pcap, dir.join("traffic.pcap")).unwrap();
    // The ports the README uses may be taken here.
    let (server_port, proxy_port) = (free_port(), free_port());
    // Killed when the test ends, passing or not: a failed command must not leave a server.
    let mut children = Children(Vec::new());
    for command in &commands {
        let command = command
            .replace("1863", &server_port)
            .replace("1864", &proxy_port);
        let sub = command.split_whitespace().nth(1).unwrap_or_default();
        // What the reader is assumed to have done before this command.
        if sub == "merge" {
            for k in [1, 3] {
                let shard = format!(
                    "harness run suites/msn-2003 --partition {k}/3 --report-json shard-{k}.jsonl"
                );
                assert!(run(dir, &shard).status.success(), "{shard}");
            }
        }
        if sub == "diff" {
            for (file, date) in [("before", "2003-09-18"), ("after", "2003-10-16")] {
                let policy = "suites/msn-2003/policy.toml";
                let port = free_port();
                let mut server = background(
                    dir,
                    &format!(
                        "harness serve --dialect msnp --policy {policy} --as-of {date} --listen 127.0.0.1:{port}"
                    ),
                );
                let out = run(
                    dir,
                    &format!(
                        "harness run suites/msn-2003 --target 127.0.0.1:{port} --report-json {file}.jsonl --format json"
                    ),
                );
                let _ = server.kill();
                let _ = server.wait();
                assert!(
                    out.status.code().is_some_and(|c| c <= 1),
                    "{file}: {}",
                    stderr(&out)
                );
            }
        }
        if let Some(background_command) = command.strip_suffix(" &") {
            children.0.push(background(dir, background_command));
            continue;
        }
        if sub == "record" {
            let mut record = background(dir, &command);
            let client = format!(
                "harness run suites/msn-2003 --case msn-messenger-6.0 --target 127.0.0.1:{proxy_port}"
            );
            let out = run(dir, &client);
            assert!(
                out.status.code().is_some_and(|c| c <= 1),
                "{client}: {}",
                stderr(&out)
            );
            let _ = Command::new("kill")
                .args(["-INT", &record.id().to_string()])
                .status();
            let status = record.wait().unwrap();
            assert!(status.success(), "{command}: {status}");
            continue;
        }
        let out = run(dir, &command);
        let code = out.status.code();
        // diff says 1 when a verdict changed between its two runs; every other command 0.
        let fine = if sub == "diff" {
            code.is_some_and(|c| c <= 1)
        } else {
            code == Some(0)
        };
        assert!(
            fine,
            "`{command}` exited {code:?}\nstdout: {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        );
    }
}

/// Background commands of the README, killed when dropped.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The complete dialect file in "Adding a dialect: the file route" compiles, and means what
/// the text around it says.
#[test]
fn the_file_route_example_is_a_working_dialect() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("## Adding a dialect: the file route")
        .nth(1)
        .expect("the section");
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("a toml block");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pop3.toml");
    std::fs::write(&path, example).unwrap();
    let pop3 = harness::dialect::declarative::parse(&path).unwrap_or_else(|e| panic!("{}", e[0]));
    use harness::dialect::{Dialect, Settings, Wire, text_step};
    assert_eq!((pop3.name(), pop3.default_port()), ("pop3", 110));
    let typo = text_step(&pop3, "USRE ann").unwrap_err();
    assert_eq!(typo.help.as_deref(), Some("did you mean `USER`?"));
    let mut c = pop3.conversation(None, &Settings::none());
    for (client, line) in [
        (false, "+OK POP3 ready"),
        (true, "AUTH CRAM-MD5"),
        (false, "+ PDQ3MTEuMTc2NTEwMDAwMEBmYWtlLnRlc3Q+"),
        (true, "YW5uIGFiYw=="),
    ] {
        let bytes = bytes::Bytes::from(format!("{line}\r\n"));
        if client {
            c.observe_sent(&bytes);
        } else {
            assert!(c.receive(bytes).verdict.is_none(), "{line}");
        }
    }
    let v = c
        .receive(bytes::Bytes::from_static(b"+OK logged in\r\n"))
        .verdict
        .unwrap();
    assert_eq!(v.kind, harness::verdict::VerdictKind::Warned);
    assert_eq!(
        v.reason,
        "logged in; warned: a retired SASL mechanism (CRAM-MD5)"
    );
    assert_eq!(pop3.redact("PASS hunter2"), "PASS <password>");
}
