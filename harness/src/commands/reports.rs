//! The sinks a command's report options ask for: the chosen format on stdout (the snapshot
//! check after the table, or on stderr beside a machine-readable format) and each
//! `--report-*` file, all fed by the same [`Reporter`].

use super::Failure;
use crate::cli::{Format, ReportArgs};
use crate::report::held_back::{Gate, HeldBack, Patched};
use crate::report::{
    Html, JsonLines, Junit, Markdown, Outcome, Reporter, Sink, SnapshotSection, Table,
};
use std::io::{self, Write};
use std::path::Path;

/// A report document in `format` written to `out`.
fn document<'a>(format: Format, out: Box<dyn Write + 'a>, color: bool) -> Box<dyn Sink + 'a> {
    match format {
        Format::Table => Box::new(Table::new(out, color)),
        Format::Json => Box::new(JsonLines::new(out)),
        Format::Junit => Box::new(Junit::new(out)),
        Format::Markdown => Box::new(Markdown::new(out)),
    }
}

/// A report file, its folder made first; written through a buffer.
fn create(path: &Path) -> io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::File::create(path)
}

/// Each `--report-*` file: one that cannot be created is named, and the others still written.
pub fn add_files(reporter: &mut Reporter<'_>, args: &ReportArgs) {
    add_files_through(reporter, args, |file| Box::new(io::BufWriter::new(file)));
}

/// [`add_files`], each file written through `through`.
fn add_files_through(
    reporter: &mut Reporter<'_>,
    args: &ReportArgs,
    through: impl Fn(std::fs::File) -> Box<dyn Write>,
) {
    let html = args.report_html.as_ref().map(|dir| dir.join("index.html"));
    let files = [
        (args.report_junit.as_deref(), Some(Format::Junit)),
        (args.report_json.as_deref(), Some(Format::Json)),
        (args.report_markdown.as_deref(), Some(Format::Markdown)),
        (html.as_deref(), None),
    ];
    for (path, format) in files {
        let Some(path) = path else { continue };
        let what = format!("cannot write a report file: {}", path.display());
        match create(path) {
            Ok(out) => {
                let out = through(out);
                let sink = match format {
                    Some(format) => document(format, out, false),
                    None => Box::new(Html::new(out)),
                };
                reporter.add(sink, what);
            }
            Err(e) => reporter.failed(format!("{what}: {e}")),
        }
    }
}

/// The report files, then the chosen format on stdout and the snapshot check.
pub fn add_sinks(reporter: &mut Reporter<'_>, args: &ReportArgs) {
    add_files(reporter, args);
    reporter.add_stdout(document(
        args.format,
        Box::new(io::stdout()),
        args.color.enabled(),
    ));
    let snapshots: Box<dyn Write> = match args.format {
        Format::Table => Box::new(io::stdout()),
        Format::Json | Format::Junit | Format::Markdown => Box::new(io::stderr()),
    };
    reporter.add_stdout(Box::new(SnapshotSection::new(snapshots)));
}

/// `harness judge`'s sinks: JSON Lines (stdout's format and `--report-json`) to `streaming`,
/// which gets every session, held back until `gate` opens (the header's sha256 is known); the
/// others to `by_client`, which gets a row per client. Whether each has any.
pub fn add_judged_sinks<'a>(
    streaming: &mut Reporter<'a>,
    by_client: &mut Reporter<'a>,
    args: &ReportArgs,
    gate: &Gate,
) -> (bool, bool) {
    let json_file = ReportArgs {
        report_junit: None,
        report_markdown: None,
        report_html: None,
        ..args.clone()
    };
    let others = ReportArgs {
        report_json: None,
        ..args.clone()
    };
    // A file is written as the results come, its header's placeholder overwritten once the
    // hash is known; stdout, which cannot be written back into, holds them back until then.
    add_files_through(streaming, &json_file, |file| {
        Box::new(Patched::new(file, gate.clone()))
    });
    let held =
        |out: Box<dyn Write>| -> Box<dyn Write> { Box::new(HeldBack::new(out, gate.clone())) };
    add_files(by_client, &others);
    let streams = args.format == Format::Json;
    match streams {
        true => streaming.add_stdout(document(
            args.format,
            held(Box::new(io::stdout())),
            args.color.enabled(),
        )),
        false => by_client.add_stdout(document(
            args.format,
            Box::new(io::stdout()),
            args.color.enabled(),
        )),
    }
    (
        streams || args.report_json.is_some(),
        !streams
            || others.report_junit.is_some()
            || others.report_markdown.is_some()
            || others.report_html.is_some(),
    )
}

/// What could not be written fails the command (exit 3), after everything else was.
pub fn failures(outcome: &Outcome) -> Result<(), Failure> {
    match outcome.failures.is_empty() {
        true => Ok(()),
        false => Err(Failure::Runtime(outcome.failures.join("; "))),
    }
}
