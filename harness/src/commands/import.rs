//! `harness import`: a pcap/pcapng file into capture cases, one per client connection (or,
//! with `--group`, one per distinct client: see [`super::import_grouped`]).

use super::Failure;
use crate::capture::{self, CaptureFile, ImportReport, SessionNumber, output};
use crate::cli::{ImportArgs, ImportFrom};
use crate::dialect::Dialect;
use crate::exit;
use std::path::PathBuf;

pub fn import(args: &ImportArgs) -> Result<i32, Failure> {
    if args.from == ImportFrom::Testssl {
        return super::import_testssl::import_testssl(args);
    }
    let dialect = super::dialect(args.dialect.as_deref().unwrap_or_default())?;
    if args.group {
        return super::import_grouped::import_grouped(args, dialect);
    }
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)
            .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", out.display())))?;
    }
    let keylog = super::keylog(args.keylog.as_deref())?;
    let mut written: Vec<PathBuf> = Vec::new();
    let mut sessions = Sessions::default();
    let mut encrypted = Encrypted::default();
    let imported = import_sessions(args, dialect, |id, case| {
        let case = read_through(dialect, case, keylog.as_ref());
        encrypted.note(id, &case);
        // A session with no handshake is written too, and named below.
        sessions.count(id, &case, dialect);
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
    sessions.print(dialect);
    encrypted.print();
    let report = imported_report(imported)?;
    print_report(&report);
    match damage(args, dialect, &report, &sessions) {
        Some(failure) => Err(failure),
        None => Ok(exit::SUCCESS),
    }
}

/// A session's TLS session read through with the key log, where it holds one (and marked
/// encrypted where there is no key log).
pub fn read_through(
    dialect: &dyn Dialect,
    case: CaptureFile,
    keylog: Option<&crate::decrypt::KeyLog>,
) -> CaptureFile {
    crate::decrypt::read_through(dialect, case, &crate::dialect::Settings::none(), keylog)
}

/// Sessions whose TLS session could not be read (named, up to a bound): what an import of
/// them holds is not the inner protocol, and the user is told why and how to decrypt them.
#[derive(Default)]
pub struct Encrypted {
    pub count: u64,
    named: Vec<String>,
}

impl Encrypted {
    pub fn note(&mut self, id: u64, case: &CaptureFile) {
        let c = &case.capture;
        let Some(why) = c.tls.as_ref().and_then(|t| t.stopped.as_ref()) else {
            return;
        };
        self.count += 1;
        if self.named.len() < NAMED_WITHOUT_HANDSHAKE {
            self.named.push(format!(
                "{} {} → {}: {why}",
                SessionNumber(id),
                c.client,
                c.server
            ));
        }
    }

    pub fn print(&self) {
        for session in &self.named {
            crate::outln!("TLS not read through in {session}");
        }
        let more = self.count - self.named.len() as u64;
        if more > 0 {
            crate::outln!("{more} more sessions whose TLS was not read through");
        }
    }
}

/// The capture's sessions with data, each handed to `sink` as its connection ends; the file
/// is hashed for the cases' provenance only when they are written (`--out`).
pub fn import_sessions(
    args: &ImportArgs,
    dialect: &dyn Dialect,
    sink: impl FnMut(u64, CaptureFile) -> std::io::Result<()>,
) -> Result<ImportReport, capture::ImportError> {
    match args.out {
        Some(_) => capture::import_with(&args.file, args.port, limits(args), dialect, sink),
        None => capture::import_counting(&args.file, args.port, limits(args), dialect, sink),
    }
}

/// The import's bounds on open connections, as the options set them.
pub fn limits(args: &ImportArgs) -> capture::Limits {
    capture::Limits {
        max_open: args.max_connections,
        idle_ns: u64::try_from(args.idle_timeout.as_nanos()).unwrap_or(u64::MAX),
        ..capture::Limits::default()
    }
}

/// Sessions seen, and those that hold no handshake of the dialect (named, up to a bound).
#[derive(Default)]
pub struct Sessions {
    pub seen: u64,
    pub without_handshake: u64,
    named: Vec<String>,
}

/// Sessions without a handshake named one by one; the rest are counted.
const NAMED_WITHOUT_HANDSHAKE: usize = 32;

impl Sessions {
    /// Counts session `id`; whether it opens the dialect's handshake.
    pub fn count(&mut self, id: u64, case: &CaptureFile, dialect: &dyn Dialect) -> bool {
        let c = &case.capture;
        // A session encrypted from its first byte may well be the dialect's: it is named as
        // encrypted (and judged undecided), not as traffic of another protocol.
        let encrypted = !dialect.speaks_tls()
            && case
                .first_client_message()
                .is_some_and(|m| crate::decrypt::is_client_hello(&m));
        let missing = case.missing_handshake(dialect).filter(|_| !encrypted);
        self.count_why(id, &c.client, &c.server, missing)
    }

    /// Counts session `id` between `client` and `server`, which holds no handshake for the
    /// reason `missing` gives, if any; whether it opens one.
    pub fn count_why(
        &mut self,
        id: u64,
        client: &dyn std::fmt::Display,
        server: &dyn std::fmt::Display,
        missing: Option<&str>,
    ) -> bool {
        self.seen += 1;
        let Some(why) = missing else {
            return true;
        };
        self.without_handshake += 1;
        if self.named.len() < NAMED_WITHOUT_HANDSHAKE {
            self.named
                .push(format!("{} {client} → {server}: {why}", SessionNumber(id)));
        }
        false
    }

    pub fn handshakes(&self) -> u64 {
        self.seen - self.without_handshake
    }

    /// Names the sessions that hold no handshake, when some do but not all (when none does,
    /// [`damage`] says so once).
    pub fn print(&self, dialect: &dyn Dialect) {
        if self.handshakes() == 0 {
            return;
        }
        for session in &self.named {
            crate::outln!(
                "no {} handshake in {session}: no verdict can be claimed from it, and a suite that includes it will not load",
                dialect.name()
            );
        }
        let more = self.without_handshake - self.named.len() as u64;
        if more > 0 {
            crate::outln!("{more} more sessions without a handshake");
        }
    }
}

/// The import's counts, or the failure that stopped it.
pub fn imported_report(
    imported: Result<ImportReport, capture::ImportError>,
) -> Result<ImportReport, Failure> {
    match imported {
        Ok(report) => Ok(report),
        // An existing file in the way is the user's to decide about, like a bad argument.
        Err(capture::ImportError::Sink(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(Failure::Usage(e.to_string()))
        }
        // A capture that cannot be opened is a bad argument, like a missing suite.
        Err(e @ capture::ImportError::Open { .. }) => Err(Failure::Usage(e.to_string())),
        Err(e) => Err(Failure::Runtime(e.to_string())),
    }
}

/// What makes an import that read to its end exit 2: damage to the file (everything before
/// it was imported), nothing decodable, or nothing of the dialect on the port.
pub fn damage(
    args: &ImportArgs,
    dialect: &dyn Dialect,
    report: &ImportReport,
    sessions: &Sessions,
) -> Option<Failure> {
    let file = args.file.display();
    if let Some(error) = &report.error {
        return Some(Failure::Usage(format!(
            "{file}: {error}; everything before it was imported"
        )));
    }
    if let Some(why) = report.nothing_decoded() {
        return Some(Failure::Usage(format!("{file}: {why}")));
    }
    let port = args.port.unwrap_or_else(|| dialect.default_port());
    report
        .nothing_on_port(dialect.name(), port, sessions.handshakes(), sessions.seen)
        .map(|why| Failure::Usage(format!("{file}: {why}")))
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
