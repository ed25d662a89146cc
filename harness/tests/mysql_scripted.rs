//! A scripted MySQL 8.4 server, from the protocol documentation: it greets every client with
//! caching_sha2_password, has mysql_native_password disabled (ERR 1524 for an account still
//! on it), answers a client without CLIENT_PLUGIN_AUTH with ERR 1251, checks caching_sha2
//! scrambles as the server does (fast authentication for a cached account, full
//! authentication otherwise, which needs TLS or the RSA key), and can be too busy (ERR
//! 1040). Scripted clients old and new meet it: each verdict, and the packet that decided it.

use harness::case::parse_case;
use harness::dialect;
use harness::runner::{Settings, Target, drive};
use harness::verdict::VerdictKind;
use ring::digest::{SHA256, digest};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const NONCE: &[u8; 20] = b"0123456789abcdefghij";
const PROTOCOL_41: u32 = 1 << 9;
const SECURE_CONNECTION: u32 = 1 << 15;
const PLUGIN_AUTH: u32 = 1 << 19;
const PLUGIN_AUTH_LENENC: u32 = 1 << 21;

fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_le_bytes()[..3].to_vec();
    out.push(seq);
    out.extend_from_slice(payload);
    out
}

fn greeting(plugin: &str) -> Vec<u8> {
    let flags = PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | PLUGIN_AUTH_LENENC | (1 << 20);
    let mut g = vec![10];
    g.extend_from_slice(b"8.4.3\0");
    g.extend_from_slice(&42u32.to_le_bytes());
    g.extend_from_slice(&NONCE[..8]);
    g.push(0);
    g.extend_from_slice(&(flags as u16).to_le_bytes());
    g.push(255);
    g.extend_from_slice(&2u16.to_le_bytes());
    g.extend_from_slice(&((flags >> 16) as u16).to_le_bytes());
    g.push(21);
    g.extend_from_slice(&[0; 10]);
    g.extend_from_slice(&NONCE[8..]);
    g.push(0);
    g.extend_from_slice(plugin.as_bytes());
    g.push(0);
    packet(0, &g)
}

fn err(seq: u8, code: u16, message: &str) -> Vec<u8> {
    let mut p = vec![0xff];
    p.extend_from_slice(&code.to_le_bytes());
    p.extend_from_slice(b"#HY000");
    p.extend_from_slice(message.as_bytes());
    packet(seq, &p)
}

async fn read_packet(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await.ok()?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload).await.ok()?;
    Some((header[3], payload))
}

/// The user, auth response and plugin of a HandshakeResponse41, and its flags.
fn response(p: &[u8]) -> (u32, String, Vec<u8>, String) {
    let flags = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
    let rest = &p[32..];
    let user_end = rest.iter().position(|&b| b == 0).unwrap();
    let user = String::from_utf8_lossy(&rest[..user_end]).into_owned();
    let rest = &rest[user_end + 1..];
    let n = rest[0] as usize;
    let auth = rest[1..1 + n].to_vec();
    let rest = &rest[1 + n..];
    let plugin_end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    (
        flags,
        user,
        auth,
        String::from_utf8_lossy(&rest[..plugin_end]).into_owned(),
    )
}

/// The server's check: SHA256(answer XOR SHA256(SHA256(SHA256(pw)) + nonce)) = SHA256(SHA256(pw)).
fn sha2_scramble_ok(answer: &[u8], password: &[u8]) -> bool {
    let stored = digest(&SHA256, digest(&SHA256, password).as_ref());
    let salted = digest(&SHA256, &[stored.as_ref(), &NONCE[..]].concat());
    if answer.len() != 32 {
        return false;
    }
    let stage1: Vec<u8> = answer
        .iter()
        .zip(salted.as_ref())
        .map(|(a, b)| a ^ b)
        .collect();
    digest(&SHA256, &stage1).as_ref() == stored.as_ref()
}

/// One connection, as MySQL 8.4 with `mysql_native_password=OFF` would take it. Accounts:
/// `cached` and `uncached` (caching_sha2_password, password `pw`), `legacy` (still on
/// mysql_native_password); `busy` is the server with max_connections reached.
async fn serve(mut stream: TcpStream, busy: bool) {
    if busy {
        let _ = stream
            .write_all(&err(0, 1040, "Too many connections"))
            .await;
        return;
    }
    let _ = stream.write_all(&greeting("caching_sha2_password")).await;
    let Some((seq, p)) = read_packet(&mut stream).await else {
        return;
    };
    let (flags, user, mut auth, plugin) = response(&p);
    let mut seq = seq + 1;
    let reply = if flags & PLUGIN_AUTH == 0 {
        err(
            seq,
            1251,
            "Client does not support authentication protocol requested by server; consider upgrading MySQL client",
        )
    } else if user == "legacy" {
        err(seq, 1524, "Plugin 'mysql_native_password' is not loaded")
    } else {
        if plugin != "caching_sha2_password" {
            let mut switch = b"\xfecaching_sha2_password\0".to_vec();
            switch.extend_from_slice(NONCE);
            switch.push(0);
            let _ = stream.write_all(&packet(seq, &switch)).await;
            let Some((s, answer)) = read_packet(&mut stream).await else {
                return;
            };
            seq = s + 1;
            auth = answer;
        }
        if !sha2_scramble_ok(&auth, b"pw") {
            err(
                seq,
                1045,
                &format!("Access denied for user '{user}'@'localhost' (using password: YES)"),
            )
        } else if user == "cached" {
            let _ = stream.write_all(&packet(seq, b"\x01\x03")).await;
            packet(seq + 1, b"\x00\x00\x00\x02\x00\x00\x00")
        } else {
            // Full authentication: the client must send the password over TLS or ask for the
            // RSA key; a client that can do neither hangs up.
            packet(seq, b"\x01\x04")
        }
    };
    let _ = stream.write_all(&reply).await;
    let _ = read_packet(&mut stream).await;
}

async fn mysql84(busy: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, busy));
        }
    });
    addr
}

async fn run(addr: &str, case: &str) -> harness::verdict::Verdict {
    let mysql = dialect::by_name("mysql").unwrap();
    let case = parse_case(Path::new("case.toml"), case, &BTreeSet::new(), mysql).unwrap();
    let run = drive(
        &Target::plain(addr),
        &case,
        &BTreeMap::new(),
        &Settings::default(),
    )
    .await;
    run.verdict
}

#[tokio::test]
async fn mysql_84_admits_caching_sha2_drivers_and_locks_out_the_old_ones() {
    let addr = mysql84(false).await;
    let modern = run(
        &addr,
        "[variables]\npassword = \"pw\"\n[[step]]\nsend = \"handshake user=cached plugin=caching_sha2_password\"\n",
    )
    .await;
    assert_eq!(modern.kind, VerdictKind::Admitted, "{modern:?}");
    assert_eq!(modern.decided_by.as_deref(), Some("OK"));

    let native_only = run(
        &addr,
        "[variables]\npassword = \"pw\"\nclient_plugins = \"mysql_native_password\"\n[[step]]\nsend = \"handshake user=cached plugin=mysql_native_password\"\n",
    )
    .await;
    assert_eq!(native_only.kind, VerdictKind::LockedOut);
    assert_eq!(
        native_only.decided_by.as_deref(),
        Some("AuthSwitchRequest caching_sha2_password")
    );

    let switching = run(
        &addr,
        "[variables]\npassword = \"pw\"\n[[step]]\nsend = \"handshake user=cached plugin=mysql_native_password\"",
    )
    .await;
    assert_eq!(switching.kind, VerdictKind::Admitted, "{switching:?}");

    let legacy = run(
        &addr,
        "[variables]\npassword = \"pw\"\n[[step]]\nsend = \"handshake user=legacy plugin=mysql_native_password\"\n",
    )
    .await;
    assert_eq!(legacy.kind, VerdictKind::LockedOut);
    assert!(legacy.decided_by.unwrap().starts_with("ERR 1524"));

    let no_plugin_auth = run(
        &addr,
        "[variables]\npassword = \"pw\"\n[[step]]\nsend = \"handshake user=cached capabilities=0x0000a201\"\n",
    )
    .await;
    assert_eq!(no_plugin_auth.kind, VerdictKind::LockedOut);
    assert!(no_plugin_auth.decided_by.unwrap().starts_with("ERR 1251"));
}

#[tokio::test]
async fn full_authentication_without_tls_needs_the_rsa_key() {
    let addr = mysql84(false).await;
    let verdict = run(
        &addr,
        "[variables]\npassword = \"pw\"\n[[step]]\nsend = \"handshake user=uncached plugin=caching_sha2_password\"\n",
    )
    .await;
    assert_eq!(verdict.kind, VerdictKind::LockedOut);
    assert_eq!(
        verdict.decided_by.as_deref(),
        Some("AuthMoreData 04 (full authentication)")
    );
    assert!(verdict.reason.contains("needs TLS or the server's RSA key"));
}

#[tokio::test]
async fn a_wrong_password_is_a_set_up_error_and_no_password_decides_at_the_request() {
    let addr = mysql84(false).await;
    let wrong = run(
        &addr,
        "[variables]\npassword = \"nope\"\n[[step]]\nsend = \"handshake user=cached plugin=caching_sha2_password\"\n",
    )
    .await;
    assert_eq!(wrong.kind, VerdictKind::Error);
    assert!(
        wrong
            .reason
            .contains("wrong password: the server refused the suite's password"),
        "{}",
        wrong.reason
    );

    let unscripted = run(
        &addr,
        "[[step]]\nsend = \"handshake user=cached plugin=caching_sha2_password\"\n",
    )
    .await;
    assert_eq!(unscripted.kind, VerdictKind::Admitted);
    assert_eq!(
        unscripted.decided_by.as_deref(),
        Some("AuthSwitchRequest caching_sha2_password")
    );
    assert!(unscripted.reason.contains("no password given"));
}

#[tokio::test]
async fn too_many_connections_is_busy_never_a_lockout() {
    let addr = mysql84(true).await;
    let verdict = run(&addr, "[[step]]\nsend = \"handshake user=cached\"\n").await;
    assert_eq!(verdict.kind, VerdictKind::Error);
    assert!(verdict.busy.is_some());
    assert_eq!(
        verdict.decided_by.as_deref(),
        Some("ERR 1040 (HY000) Too many connections")
    );
}
