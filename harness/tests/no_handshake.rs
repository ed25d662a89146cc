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
