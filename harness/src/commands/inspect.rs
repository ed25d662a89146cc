//! `harness inspect`: the decoded view of a capture case or a pcap/pcapng file.

use super::Failure;
use crate::capture::{self, CaptureFile};
use crate::cli::InspectArgs;
use crate::exit;
use std::io::Write;

pub fn inspect(args: &InspectArgs) -> Result<i32, Failure> {
    let is_case = args.file.extension().is_some_and(|e| e == "toml");
    let mut out = std::io::stdout().lock();
    if is_case {
        let text = std::fs::read_to_string(&args.file)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", args.file.display())))?;
        let case: CaptureFile = toml::from_str(&text).map_err(|e| {
            Failure::Usage(crate::source::from_toml(&args.file, &text, &e).to_string())
        })?;
        show(&mut out, None, &case).map_err(write_failure)?;
        return Ok(exit::SUCCESS);
    }
    let dialect = super::dialect(&args.dialect)?;
    let imported = capture::import(&args.file, args.port, dialect, |id, case| {
        show(&mut out, Some(id), &case)
    });
    let report = match imported {
        Ok(report) => report,
        // A closed pipe (`harness inspect ... | head`) is the reader's choice, not a failure.
        Err(capture::ImportError::Sink(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(exit::SUCCESS);
        }
        Err(e) => return Err(Failure::Runtime(e.to_string())),
    };
    drop(out);
    super::import::print_report(&report);
    match report.error {
        Some(error) => Err(Failure::Usage(format!("{}: {error}", args.file.display()))),
        None => Ok(exit::SUCCESS),
    }
}

fn write_failure(e: std::io::Error) -> Failure {
    Failure::Runtime(format!("cannot write: {e}"))
}

/// A connection: who, what the dialect found, then each message; binary ones as a hex dump.
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
    if c.mid_stream {
        writeln!(out, "  the capture starts mid-connection (no SYN)")?;
    }
    for message in &case.messages {
        let arrow = match message.from {
            crate::dialect::Direction::Client => "C→S",
            crate::dialect::Direction::Server => "S→C",
        };
        match (&message.text, &message.hex, message.gap) {
            (_, _, Some(missing)) => writeln!(
                out,
                "  {:>10.3}ms {arrow} [gap: {missing} bytes never captured]",
                message.at_ms
            )?,
            (Some(text), _, _) => {
                for (i, line) in text.trim_end_matches("\r\n").split("\r\n").enumerate() {
                    let at = if i == 0 {
                        format!("{:>10.3}ms", message.at_ms)
                    } else {
                        " ".repeat(12)
                    };
                    writeln!(out, "  {at} {arrow} {line}")?;
                }
            }
            (None, Some(hex), _) => {
                writeln!(
                    out,
                    "  {:>10.3}ms {arrow} [{} bytes, binary]",
                    message.at_ms,
                    hex.len() / 2
                )?;
                let bytes = hex::decode(hex).unwrap_or_default();
                for (row, chunk) in bytes.chunks(16).enumerate() {
                    let ascii: String = chunk
                        .iter()
                        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
                        .collect();
                    writeln!(
                        out,
                        "  {:>12} {:08x}  {:<48} {ascii}",
                        "",
                        row * 16,
                        hex::encode(chunk)
                            .as_bytes()
                            .chunks(2)
                            .map(|p| std::str::from_utf8(p).unwrap_or(""))
                            .collect::<Vec<_>>()
                            .join(" ")
                    )?;
                }
            }
            (None, None, None) => {}
        }
    }
    writeln!(out)
}
