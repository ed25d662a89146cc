//! A recorded session that does not start with its dialect's handshake (the capture began
//! mid-connection, or it is other traffic on the port) gets no verdict: loading it is an
//! error that says why, so `harness check` flags it and no run claims a lockout from it.

mod common;

use common::*;
use harness::exit;

/// A suite of `dialect` including one capture case whose messages are `messages`.
fn suite_with_capture(dialect: &str, mid_stream: bool, messages: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("suite.toml"),
        format!("name = \"s\"\ndialect = \"{dialect}\"\n[variables]\nemail = \"a@b.c\"\n"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::write(
        dir.path().join("cases/session.toml"),
        format!(
            "[capture]\ndialect = \"{dialect}\"\nsource = \"x.pcap\"\nclient = \"10.0.0.2:5000\"\nserver = \"10.0.0.1:1863\"\nfirst_timestamp = \"2003-10-16T00:00:00Z\"\nmid_stream = {mid_stream}\nended_by = \"fin\"\n{messages}"
        ),
    )
    .unwrap();
    dir
}

fn message(from: &str, field: &str, value: &str) -> String {
    format!("[[message]]\nfrom = \"{from}\"\nat_ms = 0.0\n{field} = \"{value}\"\n")
}

#[test]
fn switchboard_traffic_mid_connection_is_flagged_not_judged() {
    let messages =
        message("client", "text", "MSG 5 A 3\\r\\nhi!") + &message("server", "text", "715 5\\r\\n");
    let dir = suite_with_capture("msnp", true, &messages);
    let out = harness(&["check", &dir.path().display().to_string()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(exit::USAGE), "{err}");
    assert!(
        err.contains("this session has no msnp handshake (the capture starts mid-connection)"),
        "{err}"
    );
}

#[test]
fn tls_application_data_is_flagged_not_judged() {
    let messages = message("client", "hex", "17030300050102030405");
    let dir = suite_with_capture("tls", false, &messages);
    let out = harness(&["check", &dir.path().display().to_string()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(exit::USAGE), "{err}");
    assert!(
        err.contains("no tls handshake (the client's first message does not open a handshake)"),
        "{err}"
    );
}

#[test]
fn a_session_that_opens_with_its_handshake_loads() {
    let messages = message("client", "text", "VER 1 MSNP8 CVR0\\r\\n")
        + &message("server", "text", "VER 1 MSNP8 CVR0\\r\\n");
    let dir = suite_with_capture("msnp", true, &messages);
    let out = harness(&["check", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{}", stderr(&out));
}

/// `harness import` says which sessions have no handshake, so nobody adds them to a suite
/// expecting a verdict.
#[test]
fn import_flags_a_session_that_starts_mid_connection() {
    use harness::capture::pcapng::{Link, PcapWriter, TcpSession};
    use harness::direction::Direction::{Client, Server};
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("mid.pcap");
    let mut writer = PcapWriter::new(
        std::fs::File::create(&pcap).unwrap(),
        Link::Ethernet.linktype(),
        false,
    )
    .unwrap();
    let mut whole = TcpSession::new(
        "10.0.0.2:40000".parse().unwrap(),
        "10.0.0.1:1863".parse().unwrap(),
        1,
        2,
    );
    let mut mid = TcpSession::new(
        "10.0.0.3:40001".parse().unwrap(),
        "10.0.0.1:1863".parse().unwrap(),
        100,
        200,
    );
    let mut packets = whole.whole(&[
        (Client, b"VER 1 MSNP8 CVR0\r\n"),
        (Server, b"VER 1 MSNP8 CVR0\r\n"),
    ]);
    packets.push(mid.data(Client, b"MSG 9 A 2\r\nhi"));
    packets.push(mid.data(Server, b"ACK 9\r\n"));
    packets.extend(mid.close());
    for (i, packet) in packets.iter().enumerate() {
        writer
            .packet(1_000_000 * i as u64, &Link::Ethernet.frame(packet))
            .unwrap();
    }
    drop(writer);
    let out = harness(&["import", &pcap.display().to_string(), "--dialect", "msnp"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{text}");
    assert!(
        text.contains("no msnp handshake in #2 10.0.0.3:40001 → 10.0.0.1:1863: the capture starts mid-connection"),
        "{text}"
    );
    assert_eq!(text.matches("no msnp handshake").count(), 1, "{text}");
}
