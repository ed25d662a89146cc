//! `harness record` between real processes: clients through the proxy get the verdicts they
//! get directly; each session is written as a capture case and a pcapng file that the
//! importer and tshark both read; the recorded case replays with the same verdict.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn recorded_sessions_replay_import_and_open_in_tshark() {
    let policy = seed_suite().join("policy.toml").display().to_string();
    let served = Served::start(&policy, "2003-10-16");
    let out = tempfile::tempdir().unwrap();
    let mut recorder = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "record",
            "--dialect",
            "msnp",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &served.addr,
            "--sessions",
            "2",
        ])
        .args(["--out", &out.path().display().to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(recorder.stdout.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    let proxy = banner.split_whitespace().nth(2).unwrap().to_string();

    // Through the proxy, each client gets the verdict it gets from the server directly.
    let run = harness(&[
        "run",
        &seed_suite().display().to_string(),
        "--target",
        &proxy,
        "--expect",
        "2003-10-16",
        "--case",
        "msn-messenger-6.0",
        "--case",
        "messenger-for-mac-3.0",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stdout(&run));

    let started = Instant::now();
    let status = loop {
        if let Some(status) = recorder.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "recorder did not stop after 2 sessions"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let wrote: Vec<String> = lines
        .map(Result::unwrap)
        .filter(|l| l.starts_with("wrote "))
        .collect();
    assert_eq!(wrote.len(), 2, "{wrote:?}");

    let mut cases: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let tomls: Vec<_> = cases
        .iter()
        .filter(|p| p.extension().unwrap() == "toml")
        .collect();
    let identities: Vec<String> = tomls
        .iter()
        .map(|p| {
            let case: harness::capture::CaptureFile =
                toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            format!(
                "{} {}",
                case.capture.client_name.unwrap(),
                case.capture.client_version.unwrap()
            )
        })
        .collect();
    let mut sorted = identities.clone();
    sorted.sort();
    assert_eq!(sorted, ["MSNMSGR 6.0.0602", "macmsgs 3.0.1"]);

    for case in &tomls {
        let recorded: harness::capture::CaptureFile =
            toml::from_str(&std::fs::read_to_string(case).unwrap()).unwrap();
        let pcapng = case.with_extension("pcapng");
        // The importer reads the pcapng back into the same messages.
        let mut imported = Vec::new();
        let port: u16 = served.addr.rsplit(':').next().unwrap().parse().unwrap();
        harness::capture::import(
            &pcapng,
            Some(port),
            harness::dialect::by_name("msnp").unwrap(),
            |_, c| {
                imported.push(c);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(imported.len(), 1);
        let texts = |c: &harness::capture::CaptureFile| {
            c.messages
                .iter()
                .map(|m| (m.from, m.text.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(&imported[0]), texts(&recorded));
        tshark_sees_one_conversation(&pcapng, port);
    }

    // The recorded cases replay against the server with the verdicts the clients got.
    let suite = out.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    std::fs::write(
        suite.join("suite.toml"),
        format!("name = \"recorded\"\ndialect = \"msnp\"\ncases = \"{}\"\n[variables]\nemail = \"harness@hotmail.com\"\n", out.path().display()),
    )
    .unwrap();
    let replay = harness(&[
        "run",
        &suite.display().to_string(),
        "--target",
        &served.addr,
        "--format",
        "json",
    ]);
    let (results, _) = json_lines(&stdout(&replay));
    let mut verdicts: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    verdicts.sort();
    assert_eq!(
        verdicts,
        [
            (
                "MSNMSGR 6.0.0602 (captured)".to_string(),
                "admitted".to_string()
            ),
            (
                "macmsgs 3.0.1 (captured)".to_string(),
                "locked-out".to_string()
            ),
        ]
    );
    assert!(
        results
            .iter()
            .all(|r| r["divergences"].as_array().unwrap().is_empty()),
        "{results:?}"
    );
}

/// tshark, a real pcapng reader, opens the file and finds the one TCP conversation. `.ci/run`
/// installs it; elsewhere the check is skipped with a note unless CI is set.
fn tshark_sees_one_conversation(pcapng: &std::path::Path, port: u16) {
    let Ok(output) = Command::new("tshark")
        .args(["-r", &pcapng.display().to_string(), "-q", "-z", "conv,tcp"])
        .output()
    else {
        assert!(std::env::var_os("CI").is_none(), "tshark is required on CI");
        eprintln!("note: tshark not installed; skipping the Wireshark check");
        return;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let conversations = text.lines().filter(|l| l.contains("<->")).count();
    assert_eq!(conversations, 1, "{text}");
    assert!(text.contains(&format!(":{port} ")), "{text}");
}

/// An upstream that reads until the client closes, then closes: on a thread, killed with the
/// test.
fn draining_upstream() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut stream, &mut std::io::sink());
            });
        }
    });
    addr
}

/// `harness record --sessions N --out DIR` on an upstream, with its banner's proxy address.
fn recorder(
    upstream: &str,
    out: &std::path::Path,
    extra: &[&str],
) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["record", "--dialect", "msnp", "--listen", "127.0.0.1:0"])
        .args(["--upstream", upstream, "--out", &out.display().to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let proxy = banner.split_whitespace().nth(2).unwrap().to_string();
    (child, proxy)
}

/// A second run into the same folder numbers its sessions after the first run's and never
/// writes over them.
#[test]
fn a_new_run_numbers_after_existing_sessions_and_overwrites_nothing() {
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("0000-unknown.toml"), "an earlier session").unwrap();
    std::fs::write(out.path().join("0000-unknown.pcapng"), "its capture").unwrap();
    let (child, proxy) = recorder(&draining_upstream(), out.path(), &["--sessions", "1"]);
    let mut client = std::net::TcpStream::connect(&proxy).unwrap();
    std::io::Write::write_all(&mut client, b"hello\r\n").unwrap();
    drop(client);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();
    assert_eq!(read("0000-unknown.toml"), "an earlier session");
    assert_eq!(read("0000-unknown.pcapng"), "its capture");
    let case = read("0001-unknown.toml");
    assert!(case.contains("hello"), "{case}");
    assert!(out.path().join("0001-unknown.pcapng").exists());
}

/// An upstream that sends back whatever it gets until the client closes, then closes.
fn echo_upstream() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let Ok(mut back) = stream.try_clone() else {
                    return;
                };
                let _ = std::io::copy(&mut stream, &mut back);
            });
        }
    });
    addr
}

/// A client through the proxy that has said `line` and heard it echoed, so the proxy has
/// recorded both; still open.
fn said(proxy: &str, line: &str) -> std::net::TcpStream {
    let mut client = std::net::TcpStream::connect(proxy).unwrap();
    std::io::Write::write_all(&mut client, line.as_bytes()).unwrap();
    let mut echo = vec![0u8; line.len()];
    std::io::Read::read_exact(&mut client, &mut echo).unwrap();
    client
}

/// Waits (up to 10 s) for the recorder to exit by itself; its output.
fn exited(mut child: std::process::Child) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the recorder did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Each written case's `ended_by`, sorted.
fn endings(out: &std::path::Path) -> Vec<String> {
    let mut ends: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().unwrap() == "toml")
        .map(|p| {
            let case: harness::capture::CaptureFile =
                toml::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            assert!(
                case.messages
                    .iter()
                    .any(|m| m.text.as_deref().is_some_and(|t| t.starts_with("VER"))),
                "{} lost what was said",
                p.display()
            );
            case.capture.ended_by
        })
        .collect();
    ends.sort();
    ends
}

/// SIGINT or SIGTERM with sessions open: each is written as far as it got, and the recorder
/// exits 0.
#[test]
fn a_signal_writes_every_open_session() {
    for signal in ["INT", "TERM"] {
        let out = tempfile::tempdir().unwrap();
        let (child, proxy) = recorder(&echo_upstream(), out.path(), &[]);
        let open = [
            said(&proxy, "VER 1 MSNP8 CVR0\r\n"),
            said(&proxy, "VER 2 MSNP8 CVR0\r\n"),
        ];
        let kill = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let output = exited(child);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "SIG{signal}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            endings(out.path()),
            ["stopped", "stopped"],
            "SIG{signal}: {stdout}"
        );
        drop(open);
    }
}

/// At the session limit, a session still open is written too, not cut and lost.
#[test]
fn at_the_session_limit_open_sessions_are_written_too() {
    let out = tempfile::tempdir().unwrap();
    let (child, proxy) = recorder(&echo_upstream(), out.path(), &["--sessions", "1"]);
    let open = said(&proxy, "VER 1 MSNP8 CVR0\r\n");
    drop(said(&proxy, "VER 2 MSNP8 CVR0\r\n"));
    let output = exited(child);
    assert!(output.status.success());
    assert_eq!(endings(out.path()), ["fin", "stopped"]);
    drop(open);
}

/// A session whose upstream never closes is written once nothing has passed for the idle
/// timeout.
#[test]
fn an_idle_session_is_written_after_the_idle_timeout() {
    let out = tempfile::tempdir().unwrap();
    let (child, proxy) = recorder(
        &echo_upstream(),
        out.path(),
        &["--sessions", "1", "--idle-timeout", "300ms"],
    );
    let open = said(&proxy, "VER 1 MSNP8 CVR0\r\n");
    let output = exited(child);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(endings(out.path()), ["idle"]);
    drop(open);
}

/// Past the per-direction byte cap (8 MiB) the record stops, says it was cut and how many
/// bytes it did not keep; the proxy still forwards them all.
#[test]
fn past_the_byte_cap_the_record_says_truncated_and_counts_the_rest() {
    let out = tempfile::tempdir().unwrap();
    let (child, proxy) = recorder(&draining_upstream(), out.path(), &["--sessions", "1"]);
    let mut client = std::net::TcpStream::connect(&proxy).unwrap();
    let mut line = vec![b'x'; 1022];
    line.extend_from_slice(b"\r\n");
    for _ in 0..9 * 1024 {
        std::io::Write::write_all(&mut client, &line).unwrap();
    }
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut client, &mut rest);
    let output = exited(child);
    assert!(output.status.success());
    let case = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().unwrap() == "toml")
        .unwrap();
    let text = std::fs::read_to_string(case).unwrap();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name}"))
            .to_string()
    };
    assert_eq!(field("ended_by ="), "ended_by = \"truncated\"");
    assert_eq!(field("omitted_bytes ="), "omitted_bytes = 1048576");
}

/// `--name` names what is recorded: the case says `name = ...` and a suite that replays it
/// reports it by that name.
#[test]
fn a_recording_named_on_the_command_line_is_reported_by_that_name() {
    let policy = seed_suite().join("policy.toml").display().to_string();
    let served = Served::start(&policy, "2003-10-16");
    let out = tempfile::tempdir().unwrap();
    let cases = out.path().join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let (child, proxy) = recorder(
        &served.addr,
        &cases,
        &["--sessions", "1", "--name", "Field laptop 6.0"],
    );
    let run = harness(&[
        "run",
        &seed_suite().display().to_string(),
        "--target",
        &proxy,
        "--case",
        "msn-messenger-6.0",
    ]);
    assert!(
        run.status.code().is_some_and(|c| c <= 1),
        "{}",
        stdout(&run)
    );
    let output = exited(child);
    assert!(output.status.success());
    let case = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "toml"))
        .unwrap();
    let text = std::fs::read_to_string(&case).unwrap();
    assert!(text.contains("name = \"Field laptop 6.0\""), "{text}");
    std::fs::write(
        out.path().join("suite.toml"),
        format!(
            "name = \"named\"\ndialect = \"msnp\"\ncases = \"cases\"\n[variables]\nemail = \"harness@hotmail.com\"\n[[target]]\nname = \"t\"\npolicy = \"{policy}\"\nas_of = 2003-10-16\n"
        ),
    )
    .unwrap();
    let replay = harness(&["run", &out.path().display().to_string(), "--format", "json"]);
    let (results, _) = json_lines(&stdout(&replay));
    assert_eq!(
        results[0]["name"],
        "Field laptop 6.0",
        "{}",
        stderr(&replay)
    );
}

/// An upstream that reads one line, answers it, and closes first.
fn closing_upstream() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let _ = BufReader::new(&stream).read_line(&mut line);
            let _ = std::io::Write::write_all(&mut stream, line.as_bytes());
        }
    });
    addr
}

/// Who closed first is the side that did: the recorder says the client when the client hung
/// up, and the server when the server did (it had left it unsaid).
#[test]
fn each_close_is_put_down_to_the_side_that_made_it() {
    for (upstream, closer) in [(echo_upstream(), "client"), (closing_upstream(), "server")] {
        let out = tempfile::tempdir().unwrap();
        let (child, proxy) = recorder(&upstream, out.path(), &["--sessions", "1"]);
        let mut client = said(&proxy, "VER 1 MSNP8 CVR0\r\n");
        if closer == "server" {
            // Wait for the server's close to reach the client before closing too.
            let mut rest = Vec::new();
            let _ = std::io::Read::read_to_end(&mut client, &mut rest);
        }
        drop(client);
        assert!(exited(child).status.success());
        let case = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().unwrap() == "toml")
            .unwrap();
        let case: harness::capture::CaptureFile =
            toml::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
        let closed_by = case
            .capture
            .closed_by
            .map(|d| format!("{d:?}").to_lowercase());
        assert_eq!(closed_by.as_deref(), Some(closer));
        assert_eq!(
            (case.capture.closed_by_reset, case.capture.reset_by),
            (false, None)
        );
    }
}
