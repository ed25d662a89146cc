//! `harness judge` streams: judging 40 times as many sessions takes no more memory to speak
//! of, because each session's result goes out as its connection ends and only the traffic
//! tally stays (it used to keep every session, about 1.5 KiB each here, to the end).
//! `HARNESS_BIN=path/to/harness` measures another build.

use harness::capture::pcapng::{Flags, Link, PcapWriter, TcpSession};
use harness::direction::Direction::{Client, Server};
use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

/// `n` whole handshakes, each admitted, each from its own account, one after another.
fn admitted_sessions(path: &Path, n: u32) {
    let file = BufWriter::new(std::fs::File::create(path).unwrap());
    let mut pcap = PcapWriter::new(file, Link::Ethernet.linktype(), false).unwrap();
    let server: SocketAddr = "10.0.0.1:1863".parse().unwrap();
    let mut ts = 1_066_262_400_000_000_000u64;
    for i in 0..n {
        let client = SocketAddr::new(
            std::net::Ipv4Addr::new(10, 1 + (i >> 16) as u8, (i >> 8) as u8, i as u8).into(),
            20_000 + (i % 40_000) as u16,
        );
        let account = format!("user{i}@hotmail.com");
        let mut tcp = TcpSession::new(client, server, i.wrapping_mul(7919), 5000);
        let mut packets = tcp.open();
        let exchanges: [(_, String); 6] = [
            (Client, "VER 1 MSNP8 CVR0\r\n".into()),
            (Server, "VER 1 MSNP8 CVR0\r\n".into()),
            (Client, format!("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS {account}\r\n")),
            (Server, "CVR 2 6.0.0602 6.0.0602 5.0 http://messenger.msn.com/download/ http://messenger.msn.com\r\n".into()),
            (Client, format!("USR 3 TWN I {account}\r\n")),
            (Server, "USR 3 TWN S lc=1033,id=507,tw=40,fs=1,ct=1062764229,kpp=1,kv=5\r\n".into()),
        ];
        for (from, text) in &exchanges {
            packets.push(tcp.data(*from, text.as_bytes()));
        }
        packets.push(tcp.next(Client, Flags::FIN_ACK, &[]));
        packets.push(tcp.next(Server, Flags::FIN_ACK, &[]));
        packets.push(tcp.next(Client, Flags::ACK, &[]));
        for packet in packets {
            ts += 1_000;
            pcap.packet(ts, &Link::Ethernet.frame(&packet)).unwrap();
        }
    }
    pcap.into_inner()
        .into_inner()
        .map_err(|e| e.into_error())
        .unwrap();
}

/// Peak resident memory of `harness judge FILE --format json` (MiB), and its summary line.
fn judge_peak(capture: &Path) -> (f64, String) {
    let hwm = capture.with_extension("hwm");
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&hwm)
        .arg(std::env::var_os("HARNESS_BIN").unwrap_or(env!("CARGO_BIN_EXE_harness").into()))
        .arg("judge")
        .arg(capture)
        .args(["--dialect", "msnp", "--format", "json"])
        .stderr(Stdio::inherit())
        .output()
        .expect("/usr/bin/time runs (bash ci/install.sh installs it)");
    assert!(out.status.success());
    let kib: f64 = std::fs::read_to_string(&hwm)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    (kib / 1024.0, text.lines().last().unwrap().to_string())
}

#[test]
fn judging_forty_times_the_sessions_takes_no_more_memory() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.pcap");
    let large = dir.path().join("large.pcap");
    admitted_sessions(&small, 1_000);
    admitted_sessions(&large, 40_000);
    let (small_mib, small_summary) = judge_peak(&small);
    let (large_mib, large_summary) = judge_peak(&large);
    assert!(
        small_summary.contains("\"results\":1000,\"admitted\":1000,"),
        "{small_summary}"
    );
    assert!(
        large_summary.contains("\"results\":40000,\"admitted\":40000,"),
        "{large_summary}"
    );
    eprintln!(
        "judge peak memory: 1,000 sessions {small_mib:.1} MiB, 40,000 sessions {large_mib:.1} MiB"
    );
    // Keeping every session would add about 60 MiB; the account tally adds about 1.
    assert!(
        large_mib - small_mib < 12.0,
        "1,000 sessions: {small_mib:.1} MiB; 40,000 sessions: {large_mib:.1} MiB"
    );
}
