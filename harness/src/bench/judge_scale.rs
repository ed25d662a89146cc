//! Judge at production scale: `harness judge` on a capture of many short synthetic sessions
//! (ten million by default: each one's handshake, 64 in flight at once), with its peak memory
//! beside the target. Its results stream to JSON Lines; only per-client tallies stay.

use super::scratch::ScratchFile;
use crate::capture::synth::{self, Amount};
use crate::cli::BenchArgs;
use crate::commands::Failure;
use crate::dialect::Dialect;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The messages of each synthetic session kept: its handshake, up to the server's decision.
const HANDSHAKE_MESSAGES: usize = 6;

/// Peak memory that judging any capture must stay under.
const TARGET_MIB: f64 = 256.0;

pub fn measure(args: &BenchArgs, exe: &Path, dialect: &dyn Dialect) -> Result<(), Failure> {
    let capture = args.judge_capture.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("harness-judge-{}.pcap", args.judge_sessions))
    });
    if !capture.exists() {
        let started = Instant::now();
        let amount = Amount::Sessions {
            count: args.judge_sessions,
            messages: HANDSHAKE_MESSAGES,
        };
        synth::write(dialect, &capture, amount)
            .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", capture.display())))?;
        crate::outln!(
            "   wrote {} in {:.1}s",
            capture.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&capture).map_or(0, |m| m.len()) as f64 / 1e6;
    let peak_file = ScratchFile::named("harness-judge-peak");
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(peak_file.path())
        .arg(exe)
        .args(["judge"])
        .arg(&capture)
        .args(["--dialect", dialect.name(), "--format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| Failure::Runtime(format!("cannot run /usr/bin/time: {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_mib = std::fs::read_to_string(peak_file.path())
        .ok()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0);
    crate::outln!(
        "4. judge at scale ({} sessions of {}, {size:.0} MB, {}): exit {}, {seconds:.1}s ({:.0} MB/s)",
        args.judge_sessions,
        dialect.name(),
        capture.display(),
        status
            .code()
            .map_or("by a signal".into(), |c| c.to_string()),
        size / seconds.max(1e-9)
    );
    match peak_mib {
        Some(peak) => crate::outln!(
            "   peak RSS {peak:.1} MiB (target: under {TARGET_MIB:.0} MiB) {}",
            super::verdict(peak < TARGET_MIB)
        ),
        None => crate::outln!("   peak RSS not measured (is /usr/bin/time installed?)"),
    }
    Ok(())
}
