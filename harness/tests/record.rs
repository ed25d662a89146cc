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
