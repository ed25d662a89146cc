//! The reference server under abuse: more idle connections than its connection limit,
//! malformed and oversized commands, clients that never read. It keeps serving well-behaved clients (whose handshake
//! latency is measured and printed) and never crashes.

mod common;

use common::*;
use harness::case::parse_case;
use harness::runner::{Settings, Target, drive};
use harness::verdict::VerdictKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// How many descriptors this process may open (`Max open files` in /proc/self/limits).
fn open_file_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_keeps_serving_well_behaved_clients_under_abuse() {
    let idle_count = 10_000.min(open_file_limit().saturating_sub(1_000));
    let policy = seed_suite().join("policy.toml").display().to_string();
    // The default limit (4096): past it, the server closes the connection quiet longest to
    // admit each newcomer, so 10,000 idle connections cannot lock real clients out.
    let served = Served::start(&policy, "2003-10-16");
    let addr = served.addr.clone();

    // Idle connections that never say anything.
    let mut idle = Vec::with_capacity(idle_count);
    for _ in 0..idle_count {
        if let Ok(stream) = TcpStream::connect(&addr).await {
            // Closed with a reset, so the test leaves no TIME_WAIT behind for the next run.
            let _ = stream.set_zero_linger();
            idle.push(stream);
        }
    }
    // A real server sees its idle connections age; a burst all accepted within the last
    // second is not yet evictable (MIN_QUIET_TO_EVICT), and newcomers then wait or are refused.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // Malformed, oversized and never-reading clients, all at once.
    let mut abusers = tokio::task::JoinSet::new();
    for i in 0..300 {
        let addr = addr.clone();
        abusers.spawn(async move {
            let Ok(mut s) = TcpStream::connect(&addr).await else {
                return;
            };
            let _ = s.set_zero_linger();
            let payload: Vec<u8> = match i % 3 {
                0 => b"\x00\xff garbage \x16\x03\x01\r\n".to_vec(),
                1 => vec![b'V'; 100_000],
                // PNG asks for a QNG each time; this client never reads them.
                _ => b"PNG\r\n".repeat(20_000),
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), s.write_all(&payload)).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        });
    }

    // Well-behaved clients, one after another, while the abuse goes on.
    let case = parse_case(
        Path::new("msn-messenger-6.0.toml"),
        "[[step]]\nsend = \"VER {trid} MSNP9 MSNP8 CVR0\"\n[[step]]\nsend = \"CVR {trid} 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS {email}\"\n[[step]]\nsend = \"USR {trid} TWN I {email}\"\n",
        &BTreeSet::from(["email".to_string()]),
        harness::dialect::by_name("msnp").unwrap(),
    )
    .unwrap();
    let target = Target::plain(addr.clone());
    let variables = BTreeMap::from([("email".to_string(), "a@hotmail.com".to_string())]);
    let mut latencies = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let run = drive(&target, &case, &variables, &Settings::default()).await;
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(run.verdict.kind, VerdictKind::Admitted, "{:?}", run.verdict);
    }
    latencies.sort_by(f64::total_cmp);
    let p = |q: f64| {
        latencies[((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "under abuse ({} idle connections, 300 abusive clients): 200 handshakes, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        idle.len(),
        p(0.5),
        p(0.99),
        p(1.0)
    );
    assert!(
        idle.len() >= idle_count * 9 / 10,
        "only {} idle connections opened",
        idle.len()
    );
    assert!(
        p(0.99) < 1_000.0,
        "well-behaved clients slowed to p99 {:.0} ms",
        p(0.99)
    );
    while abusers.join_next().await.is_some() {}
    drop(idle);
    let mut served = served;
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "the server died"
    );
}
