//! Real Linux cooked captures: `tcpdump -i any` while a client talks to a server on loopback,
//! in both cooked formats tcpdump writes (SLL, hardware type 772 for loopback, and SLL2), then
//! `harness import` of the file. Needs tcpdump and the right to capture (root); skipped with a
//! note without them, except on CI (`CI` set), where that is a failure.

mod common;

use common::fixtures::{EXCHANGES, client_bytes, server_bytes};
use common::live_tls::Tcpdump;
use harness::capture::CaptureFile;
use harness::direction::Direction;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

/// Skips (with a note) unless on CI, where the check must run.
fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}: tcpdump capture is required on CI"
    );
    eprintln!("note: {why}; skipping the tcpdump -i any check");
}

/// Starts tcpdump on every interface and waits until it listens; `Err` says why it could not.
fn start_tcpdump(format: &str, port: u16, file: &std::path::Path) -> Result<Tcpdump, String> {
    // A small snap length: in immediate mode the kernel's ring holds buffer/snaplen packets,
    // and at tcpdump's default (256 KiB) a burst of eight fills it.
    Tcpdump::start_on(&["-i", "any", "-y", format, "-s", "4096"], port, file)
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

#[test]
fn tcpdump_any_on_loopback_imports_the_whole_session() {
    for format in ["LINUX_SLL", "LINUX_SLL2"] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("any-{format}.pcap"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tcpdump = match start_tcpdump(format, port, &file) {
            Ok(tcpdump) => tcpdump,
            Err(why) => return skip(&why),
        };
        talk(listener);
        // tcpdump may get the last packets late on a busy machine: it is stopped once the
        // file holds the connection's close.
        tcpdump.stop_after("msnp", port, 1);

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
