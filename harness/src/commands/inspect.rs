//! `harness inspect`: the decoded view of a capture case or a pcap/pcapng file.

use super::Failure;
use crate::capture::{self, CaptureFile};
use crate::cli::InspectArgs;
use crate::direction::Direction;
use crate::exit;
use crate::render;
use std::io::Write;

pub fn inspect(args: &InspectArgs) -> Result<i32, Failure> {
    let keylog = super::keylog(args.keylog.as_deref())?;
    let keylog = keylog.as_ref();
    let is_case = args.file.extension().is_some_and(|e| e == "toml");
    let mut out = std::io::stdout().lock();
    if is_case {
        let text = std::fs::read_to_string(&args.file)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", args.file.display())))?;
        let case: CaptureFile = toml::from_str(&text).map_err(|e| {
            Failure::Usage(crate::source::from_toml(&args.file, &text, &e).to_string())
        })?;
        if let Some(name) = &args.dialect {
            super::dialect(name)?;
        }
        let case = match crate::dialect::by_name(&case.capture.dialect) {
            Some(dialect) => read_through(dialect, case, keylog),
            None => case,
        };
        show(&mut out, None, &case).map_err(write_failure)?;
        return Ok(exit::SUCCESS);
    }
    let Some(name) = &args.dialect else {
        return Err(Failure::Usage(format!(
            "inspect {}: give --dialect NAME for a pcap (known: {})",
            args.file.display(),
            crate::dialect::names().join(", ")
        )));
    };
    let dialect = super::dialect(name)?;
    let imported = capture::import(&args.file, args.port, dialect, |id, case| {
        show(&mut out, Some(id), &read_through(dialect, case, keylog))
    });
    let report = match imported {
        Ok(report) => report,
        // A closed pipe (`harness inspect ... | head`) is the reader's choice, not a failure.
        Err(capture::ImportError::Sink(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(exit::SUCCESS);
        }
        Err(e @ capture::ImportError::Open { .. }) => return Err(Failure::Usage(e.to_string())),
        Err(e) => return Err(Failure::Runtime(e.to_string())),
    };
    drop(out);
    super::import::print_report(&report);
    if let Some(error) = report.error {
        return Err(Failure::Usage(format!("{}: {error}", args.file.display())));
    }
    match report.nothing_decoded() {
        Some(why) => Err(Failure::Usage(format!("{}: {why}", args.file.display()))),
        None => Ok(exit::SUCCESS),
    }
}

/// The case with its TLS session decrypted where `keylog` is given (or marked encrypted).
fn read_through(
    dialect: &dyn crate::dialect::Dialect,
    case: CaptureFile,
    keylog: Option<&crate::decrypt::KeyLog>,
) -> CaptureFile {
    crate::decrypt::read_through(dialect, case, &crate::dialect::Settings::none(), keylog)
}

fn write_failure(e: std::io::Error) -> Failure {
    Failure::Runtime(format!("cannot write: {e}"))
}

/// A connection: who, what the dialect found, then each message as the dialect describes it.
fn show(out: &mut dyn Write, id: Option<u64>, case: &CaptureFile) -> std::io::Result<()> {
    let c = &case.capture;
    let number = id.map_or_else(String::new, |id| format!("#{id} "));
    writeln!(
        out,
        "{number}{} → {} ({}, from {}, ended by {})",
        c.client, c.server, c.dialect, c.first_timestamp, c.ended_by
    )?;
    let client = match (&c.client_name, &c.client_version) {
        (Some(name), Some(version)) => format!("{name} {version}"),
        _ => "unstated".to_string(),
    };
    writeln!(
        out,
        "  identity: {client}; versions offered: {}; account: {}",
        c.versions.as_deref().unwrap_or("none"),
        c.account.as_deref().unwrap_or("none")
    )?;
    let dialect = crate::dialect::by_name(&c.dialect);
    // Captures imported before fingerprints were kept get theirs from their messages.
    let fingerprint = c.fingerprint.clone().or_else(|| {
        let client = crate::capture::file::client_messages(&case.messages, 1);
        let refs: Vec<&[u8]> = client.iter().map(|m| &**m).collect();
        dialect.and_then(|d| d.fingerprint(&refs))
    });
    if let Some(fingerprint) = fingerprint {
        writeln!(out, "  fingerprint: {fingerprint}")?;
    }
    if c.mid_stream {
        writeln!(out, "  the capture starts mid-connection (no SYN)")?;
    }
    if let Some(tls) = &c.tls {
        if let Some(decrypted) = &tls.decrypted {
            writeln!(
                out,
                "  TLS: decrypted {decrypted}; the inner messages follow"
            )?;
        }
        if let Some(stopped) = &tls.stopped {
            writeln!(out, "  TLS: {stopped}")?;
        }
    }
    for message in &case.messages {
        let arrow = match message.from {
            Direction::Client => "C→S",
            Direction::Server => "S→C",
        };
        let at = format!("{:>10.3}ms", message.at_ms);
        if let Some(missing) = message.gap {
            writeln!(out, "  {at} {arrow} [gap: {missing} bytes never captured]")?;
            continue;
        }
        let Some(bytes) = message.bytes() else {
            continue;
        };
        let described = render::describe(dialect, message.from, &bytes);
        for (i, line) in described.split('\n').enumerate() {
            let at = if i == 0 { at.as_str() } else { "            " };
            writeln!(out, "  {at} {arrow} {line}")?;
        }
    }
    writeln!(out)
}
