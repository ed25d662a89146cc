//! `harness import`: a pcap/pcapng file into capture cases, one per client connection.

use super::Failure;
use crate::capture::{self, ImportReport, output};
use crate::cli::{ImportArgs, ImportFrom};
use crate::exit;
use std::path::PathBuf;

pub fn import(args: &ImportArgs) -> Result<i32, Failure> {
    if args.from == ImportFrom::Testssl {
        return super::import_testssl::import_testssl(args);
    }
    let dialect = super::dialect(args.dialect.as_deref().unwrap_or_default())?;
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)
            .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", out.display())))?;
    }
    let mut written: Vec<PathBuf> = Vec::new();
    let mut no_handshake: Vec<String> = Vec::new();
    let limits = capture::Limits {
        max_open: args.max_connections,
        idle_ns: u64::try_from(args.idle_timeout.as_nanos()).unwrap_or(u64::MAX),
        ..capture::Limits::default()
    };
    let imported = capture::import_with(&args.file, args.port, limits, dialect, |id, case| {
        if let Some(why) = case.missing_handshake(dialect) {
            no_handshake.push(format!(
                "#{id} {} → {}: {why}",
                case.capture.client, case.capture.server
            ));
        }
        let Some(out) = &args.out else {
            return Ok(());
        };
        let source = capture::Source {
            name: &case.capture.source,
            sha256: case.capture.sha256.as_deref(),
        };
        let name = capture::file::source_prefix(&source) + &case.file_name(id);
        written.push(output::write_new(
            out,
            &name,
            case.to_toml().as_bytes(),
            args.force,
        )?);
        Ok(())
    });
    for path in &written {
        crate::outln!("wrote {}", path.display());
    }
    for session in &no_handshake {
        crate::outln!(
            "no {} handshake in {session}: no verdict can be claimed from it, and a suite that includes it will not load",
            dialect.name()
        );
    }
    let report = match imported {
        Ok(report) => report,
        // An existing file in the way is the user's to decide about, like a bad argument.
        Err(capture::ImportError::Sink(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failure::Usage(e.to_string()));
        }
        // A capture that cannot be opened is a bad argument, like a missing suite.
        Err(e @ capture::ImportError::Open { .. }) => return Err(Failure::Usage(e.to_string())),
        Err(e) => return Err(Failure::Runtime(e.to_string())),
    };
    print_report(&report);
    if let Some(error) = &report.error {
        return Err(Failure::Usage(format!(
            "{}: {error}; everything before it was imported",
            args.file.display()
        )));
    }
    match report.nothing_decoded() {
        Some(why) => Err(Failure::Usage(format!("{}: {why}", args.file.display()))),
        None => Ok(exit::SUCCESS),
    }
}

pub fn print_report(report: &ImportReport) {
    let seconds = report.elapsed.as_secs_f64().max(1e-9);
    crate::outln!(
        "{} packets, {} bytes in {:.3}s ({:.1} MB/s): {} TCP segments, {} connections ({} without data), {} gaps, {} bytes retransmitted; skipped {} not TCP, {} other ports, {} undecodable, {} unsupported link; at most {} connections open at once",
        report.packets,
        report.file_bytes,
        seconds,
        report.file_bytes as f64 / 1e6 / seconds,
        report.tcp_segments,
        report.connections,
        report.empty_connections,
        report.gaps,
        report.retransmitted_bytes,
        report.not_tcp,
        report.other_ports,
        report.undecodable,
        report.unsupported_link,
        report.peak_open_connections,
    );
    let cut = report.ended_idle
        + report.evicted_at_cap
        + report.evicted_for_memory
        + report.truncated_connections;
    if cut > 0 {
        crate::outln!(
            "cut to stay within bounds: {} connections ended idle, {} evicted at the open-connection limit, {} evicted for memory; {} truncated ({} bytes not kept); at most {:.1} MiB held at once",
            report.ended_idle,
            report.evicted_at_cap,
            report.evicted_for_memory,
            report.truncated_connections,
            report.omitted_bytes,
            report.peak_held_bytes as f64 / f64::from(1 << 20),
        );
    }
    if report.ip_fragments > 0 {
        crate::outln!(
            "{} IP fragments: {} datagrams put back together, {} incomplete (their bytes are gaps)",
            report.ip_fragments,
            report.reassembled_datagrams,
            report.incomplete_datagrams,
        );
    }
}
