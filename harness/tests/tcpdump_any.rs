//! Real Linux cooked captures: `tcpdump -i any` while a client talks to a server on loopback,
//! in both cooked formats tcpdump writes (SLL, hardware type 772 for loopback, and SLL2), then
//! `harness import` of the file. Needs tcpdump and the right to capture (root); skipped with a
//! note without them, except on CI (`CI` set), where that is a failure.

mod common;

use common::fixtures::{EXCHANGES, client_bytes, server_bytes};
use harness::capture::CaptureFile;
use harness::direction::Direction;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Skips (with a note) unless on CI, where the check must run.
fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}: tcpdump capture is required on CI"
    );
    eprintln!("note: {why}; skipping the tcpdump -i any check");
}

/// Starts tcpdump on every interface and waits until it listens; `Err` says why it could not.
fn start_tcpdump(format: &str, port: u16, file: &std::path::Path) -> Result<Child, String> {
    let mut child = Command::new("tcpdump")
        // A small snap length: in immediate mode the kernel's ring holds buffer/snaplen
        // packets, and at tcpdump's default (256 KiB) a burst of eight fills it.
        .args(["-i", "any", "-y", format, "-s", "4096", "-B", "8192"])
        .args(["--immediate-mode", "-U", "-w"])
        .arg(file)
        .args(["tcp", "port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tcpdump cannot run ({e})"))?;
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.wait();
            return Err(format!("tcpdump could not capture: {said}"));
        }
        said.push_str(&line);
        if line.contains("listening on") {
            // Keep draining its stderr so it never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return Ok(child);
        }
    }
}

/// The fixtures' MSNP handshake over real loopback sockets: each side sends its messages in
/// turn, reading the other's before answering.
fn talk(listener: TcpListener) {
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        for (from, bytes) in EXCHANGES {
            match from {
                Direction::Client => read_exactly(&mut stream, bytes.len()),
                Direction::Server => stream.write_all(bytes).unwrap(),
            }
        }
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    for (from, bytes) in EXCHANGES {
        match from {
            Direction::Client => client.write_all(bytes).unwrap(),
            Direction::Server => read_exactly(&mut client, bytes.len()),
        }
    }
    drop(client);
    server.join().unwrap();
}

fn read_exactly(stream: &mut TcpStream, n: usize) {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).unwrap();
}

/// tcpdump writes each packet as it gets it, but on a busy machine it gets the last ones late:
/// waits (up to 10 s) until the file holds the connection's close.
fn wait_for_the_closing_packets(file: &std::path::Path, port: u16) {
    let msnp = harness::dialect::by_name("msnp").unwrap();
    for _ in 0..200 {
        let mut closed = false;
        let _ = harness::capture::import(file, Some(port), msnp, |_, case| {
            closed |= case.capture.ended_by == "fin";
            Ok(())
        });
        if closed {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tcpdump_any_on_loopback_imports_the_whole_session() {
    for format in ["LINUX_SLL", "LINUX_SLL2"] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("any-{format}.pcap"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut tcpdump = match start_tcpdump(format, port, &file) {
            Ok(child) => child,
            Err(why) => return skip(&why),
        };
        talk(listener);
        wait_for_the_closing_packets(&file, port);
        let stopped = Command::new("kill")
            .args(["-INT", &tcpdump.id().to_string()])
            .status()
            .unwrap();
        assert!(stopped.success());
        tcpdump.wait().unwrap();

        let out = dir.path().join("cases");
        let run = common::harness(&[
            "import",
            &file.display().to_string(),
            "--dialect",
            "msnp",
            "--port",
            &port.to_string(),
            "--out",
            &out.display().to_string(),
        ]);
        let stdout = common::stdout(&run);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{format}: {stdout}{}",
            common::stderr(&run)
        );
        assert!(stdout.contains(" 1 connections "), "{format}: {stdout}");
        assert!(stdout.contains(" 0 undecodable"), "{format}: {stdout}");
        let cases: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(cases.len(), 1, "{format}: {cases:?}");
        let case: CaptureFile =
            toml::from_str(&std::fs::read_to_string(&cases[0]).unwrap()).unwrap();
        let sent = |from| {
            case.messages
                .iter()
                .filter(|m| m.from == from)
                .flat_map(|m| m.bytes().expect("no gap"))
                .collect::<Vec<u8>>()
        };
        assert_eq!(sent(Direction::Client), client_bytes(), "{format}");
        assert_eq!(sent(Direction::Server), server_bytes(), "{format}");
        assert_eq!(case.capture.ended_by, "fin", "{format}");
        assert_eq!(case.capture.server, format!("127.0.0.1:{port}"), "{format}");
    }
}
