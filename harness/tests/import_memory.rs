//! Peak memory of `harness import` on two hostile captures, run by hand (ignored by a plain
//! `cargo test`): a million connections that send only a SYN, and one connection whose three
//! million one-byte segments each follow a one-byte hole that never fills. Prints the child's peak resident memory
//! (VmHWM, from /usr/bin/time) and what the import wrote; the figures must not grow with the
//! capture.
//!
//! ```sh
//! cargo build --release
//! HARNESS_BIN=$PWD/target/release/harness cargo test -p harness --test import_memory -- --ignored --nocapture
//! ```
//!
//! `IMPORT_MEMORY_SCALE=0.1` makes both captures ten times smaller.

use harness::capture::pcapng::{Flags, Link, PcapWriter, TcpSession};
use harness::direction::Direction;
use std::io::BufWriter;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

const T0: u64 = 1_066_262_400_000_000_000;

fn scale(n: u64) -> u64 {
    let factor: f64 = std::env::var("IMPORT_MEMORY_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    (n as f64 * factor) as u64
}

fn server() -> SocketAddr {
    "192.0.2.1:1863".parse().unwrap()
}

fn writer(path: &Path) -> PcapWriter<BufWriter<std::fs::File>> {
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    PcapWriter::new(file, Link::RawIp.linktype(), true).unwrap()
}

/// `n` clients, each sending one SYN and nothing more, 1 µs apart.
fn syn_only(path: &Path, n: u64) {
    let mut pcap = writer(path);
    for i in 0..n {
        let client = SocketAddr::new(
            Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8).into(),
            20_000 + (i % 40_000) as u16,
        );
        let tcp = TcpSession::new(client, server(), i as u32, 0);
        let syn = tcp.raw(Direction::Client, i as u32, Flags::SYN, &[]);
        pcap.packet(T0 + i * 1_000, &syn).unwrap();
    }
    pcap.into_inner()
        .into_inner()
        .map_err(|e| e.into_error())
        .unwrap();
}

/// One connection: the handshake, then `n` one-byte segments from the client, every one after
/// a one-byte hole, so all of them wait on holes that never fill.
fn bytes_between_holes(path: &Path, n: u64) {
    let mut pcap = writer(path);
    let client: SocketAddr = "10.0.0.1:40001".parse().unwrap();
    let mut tcp = TcpSession::new(client, server(), 1_000, 5_000_000);
    let mut ts = T0;
    for packet in tcp.open() {
        pcap.packet(ts, &packet).unwrap();
        ts += 1_000;
    }
    let base = tcp.seq(Direction::Client);
    for i in 0..n {
        let byte = [b'a' + (i % 26) as u8];
        let seq = base.wrapping_add(2 * i as u32 + 1);
        let packet = tcp.raw(Direction::Client, seq, Flags::ACK, &byte);
        pcap.packet(ts, &packet).unwrap();
        ts += 1_000;
    }
    pcap.into_inner()
        .into_inner()
        .map_err(|e| e.into_error())
        .unwrap();
}

fn harness_bin() -> PathBuf {
    std::env::var_os("HARNESS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_harness")))
}

/// Runs `harness import` on `capture` into a fresh folder; prints its peak memory, its
/// report and the size of what it wrote.
fn measure(name: &str, capture: &Path) {
    let out = capture.with_extension("cases");
    let _ = std::fs::remove_dir_all(&out);
    let hwm = capture.with_extension("hwm");
    let run = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&hwm)
        .arg(harness_bin())
        .arg("import")
        .arg(capture)
        .args(["--dialect", "msnp", "--out"])
        .arg(&out)
        .output()
        .expect("/usr/bin/time runs");
    let peak_kib: f64 = std::fs::read_to_string(&hwm)
        .ok()
        .and_then(|s| s.lines().last()?.trim().parse().ok())
        .unwrap_or(f64::NAN);
    // SYN-only connections hold no session: import says so and exits 2, having read them all.
    let nothing_to_import = run.status.code() == Some(harness::exit::USAGE)
        && String::from_utf8_lossy(&run.stderr).contains("no msnp session on port");
    assert!(
        run.status.success() || nothing_to_import,
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (files, bytes) = std::fs::read_dir(&out).map_or((0, 0), |dir| {
        dir.filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .fold((0, 0), |(n, b), m| (n + 1, b + m.len()))
    });
    let capture_mb = std::fs::metadata(capture).map_or(0, |m| m.len()) as f64 / 1e6;
    println!(
        "{name}: {capture_mb:.0} MB capture; peak RSS {:.1} MiB; wrote {files} files, {:.1} MB",
        peak_kib / 1024.0,
        bytes as f64 / 1e6,
    );
    print!("{}", String::from_utf8_lossy(&run.stdout));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
#[ignore = "a benchmark run by hand: writes about 300 MB of captures"]
fn import_peak_memory_on_hostile_captures() {
    let dir = tempfile::tempdir().unwrap();
    let syn = dir.path().join("syn-only.pcap");
    let n = scale(1_000_000);
    syn_only(&syn, n);
    measure(&format!("{n} SYN-only connections"), &syn);
    std::fs::remove_file(&syn).unwrap();

    let holes = dir.path().join("bytes-between-holes.pcap");
    let n = scale(3_000_000);
    bytes_between_holes(&holes, n);
    measure(
        &format!("{n} one-byte segments between holes, one connection"),
        &holes,
    );
}
