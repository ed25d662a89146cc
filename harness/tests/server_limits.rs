//! The reference server's connection limit holds against what would otherwise starve it: a
//! descriptor limit below `--max-connections` (the server sizes its limit to what it can
//! hold, so it evicts instead of failing to accept), and clients that never log in but keep
//! sending cheap messages (past the admission budget they are evictable).

mod common;

use common::*;
use harness::case::parse_case;
use harness::runner::{Settings, Target, drive};
use harness::verdict::VerdictKind;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `harness serve` started through `sh` with `ulimit -n` set, and its address.
struct Limited {
    child: Child,
    addr: String,
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_with(descriptors: Option<u32>, extra: &str) -> Limited {
    let policy = seed_suite().join("policy.toml").display().to_string();
    let ulimit = descriptors.map_or(String::new(), |n| format!("ulimit -n {n} && "));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{ulimit}exec '{}' serve --dialect msnp --policy '{policy}' --as-of 2003-10-16 --listen 127.0.0.1:0 {extra}",
            env!("CARGO_BIN_EXE_harness")
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    log.read_line(&mut banner).unwrap();
    std::thread::spawn(move || for _ in log.lines() {});
    let addr = banner
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_string();
    Limited { child, addr }
}

async fn msn_6_verdict(addr: &str) -> harness::verdict::Verdict {
    let case = parse_case(
        Path::new("msn-messenger-6.0.toml"),
        "[[step]]\nsend = \"VER {trid} MSNP9 MSNP8 CVR0\"\n[[step]]\nsend = \"CVR {trid} 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS a@b.c\"\n[[step]]\nsend = \"USR {trid} TWN I a@b.c\"\n",
        &BTreeSet::new(),
        harness::dialect::by_name("msnp").unwrap(),
    )
    .unwrap();
    let settings = Settings {
        step_timeout: Duration::from_secs(6),
        ..Settings::default()
    };
    drive(&Target::plain(addr), &case, &BTreeMap::new(), &settings)
        .await
        .verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_descriptor_limit_below_the_connection_limit_still_admits_newcomers() {
    let server = serve_with(Some(200), "");
    // More idle connections than the process has descriptors for.
    let mut idle = Vec::new();
    for _ in 0..300 {
        if let Ok(stream) = TcpStream::connect(&server.addr).await {
            idle.push(stream);
        }
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let verdict = msn_6_verdict(&server.addr).await;
    assert_eq!(verdict.kind, VerdictKind::Admitted, "{verdict:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatter_that_never_logs_in_does_not_hold_a_slot() {
    let server = serve_with(None, "--max-connections 20 --admission-budget 1s");
    let mut chatty = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let addr = server.addr.clone();
        chatty.spawn(async move {
            let Ok(mut stream) = TcpStream::connect(&addr).await else {
                return;
            };
            let mut buf = [0u8; 256];
            // PNG every 200 ms, reading the QNG answers, for as long as the server lets it.
            for _ in 0..50 {
                if stream.write_all(b"PNG\r\n").await.is_err() {
                    return;
                }
                match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await
                {
                    Ok(Ok(0) | Err(_)) => return,
                    _ => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let verdict = msn_6_verdict(&server.addr).await;
    assert_eq!(verdict.kind, VerdictKind::Admitted, "{verdict:?}");
    chatty.abort_all();
}
