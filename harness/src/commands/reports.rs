//! Writes a run's reports: the chosen format on stdout, and each `--report-*` file, all from
//! the same results, impact and snapshot check.

use super::Failure;
use crate::cli::{Format, ReportArgs};
use crate::judge::TrafficImpact;
use crate::report::{self, CaseResult, Impact, RunContext, RunInfo, SnapshotProblems};
use crate::snapshot::Check;
use std::io::{self, Write};
use std::path::Path;

/// Everything a report may show.
pub struct Run<'a> {
    pub suite: &'a str,
    pub results: &'a [CaseResult],
    pub impact: &'a [Impact],
    /// Impact counted from recorded traffic (`harness judge`).
    pub traffic: &'a [TrafficImpact],
    pub snapshots: &'a Check,
    /// Colour the table's verdicts (ANSI).
    pub color: bool,
    /// When and where the run happened.
    pub context: &'a RunContext,
    /// What ran, for the JSON Lines header (`harness merge` checks shards against it).
    pub info: Option<&'a RunInfo>,
}

impl Run<'_> {
    fn problems(&self) -> SnapshotProblems {
        let mut problems: SnapshotProblems = self.snapshots.changed.iter().cloned().collect();
        for name in &self.snapshots.new {
            problems.insert(name.clone(), "no snapshot stored yet".to_string());
        }
        if self.snapshots.accepted {
            problems.clear();
        }
        problems
    }

    /// The HTML page's view of the run.
    fn page(&self) -> report::Page<'_> {
        static NONE: std::sync::LazyLock<std::collections::BTreeMap<String, f64>> =
            std::sync::LazyLock::new(Default::default);
        static NO_NOTES: std::sync::LazyLock<std::collections::BTreeMap<String, String>> =
            std::sync::LazyLock::new(Default::default);
        report::Page {
            suite: self.suite,
            results: self.results,
            impact: self.impact,
            shares: self.info.map_or(&*NONE, |i| &i.population),
            target_notes: self.info.map_or(&*NO_NOTES, |i| &i.target_notes),
            made: self.context.describe(),
            suite_sha256: self.info.map(|i| i.suite_sha256.as_str()),
        }
    }

    /// One report document in `format`: what stdout shows and what a `--report-*` file holds.
    fn document(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Table => {
                report::write_table(out, self.results, self.color)?;
                for line in self.impact {
                    writeln!(out, "impact {}", line.sentence())?;
                }
                for line in self.traffic {
                    writeln!(out, "impact: {}", line.sentence())?;
                }
                Ok(())
            }
            Format::Json => report::write_jsonl(
                out,
                self.results,
                self.info,
                Some(self.snapshots),
                self.traffic,
            ),
            Format::Junit => report::write_junit(
                out,
                self.suite,
                self.results,
                &self.problems(),
                self.context,
            ),
            Format::Markdown => {
                report::write_markdown(out, self.suite, self.results, self.impact)?;
                for line in self.traffic {
                    writeln!(out, "- {}", line.sentence())?;
                }
                Ok(())
            }
        }
    }

    /// The document, then the snapshot check: after the table, or on stderr beside a
    /// machine-readable format.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        self.document(format, out)?;
        match format {
            Format::Table => write_snapshots(out, self.snapshots),
            Format::Json | Format::Junit | Format::Markdown => {
                write_snapshots(&mut io::stderr().lock(), self.snapshots)
            }
        }
    }

    /// The report files, then the chosen format on stdout.
    pub fn emit(&self, args: &ReportArgs) -> Result<(), Failure> {
        // A report file that cannot be written loses neither the others nor stdout's.
        let files = self
            .write_files(args)
            .map_err(|e| Failure::Runtime(format!("cannot write a report file: {e}")));
        let mut out = io::stdout().lock();
        match self.write(args.format, &mut out).and_then(|()| out.flush()) {
            // A closed pipe (`harness run ... | head`) is the reader's choice, not a failure.
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                Err(Failure::Runtime(format!("cannot write the report: {e}")))
            }
            _ => files,
        }
    }

    /// The `--report-*` files: each is tried, whatever happened to the others; the ones that
    /// failed are named.
    pub fn write_files(&self, args: &ReportArgs) -> io::Result<()> {
        type Writer<'w> = &'w dyn Fn(&mut dyn Write) -> io::Result<()>;
        let html = args.report_html.as_ref().map(|dir| dir.join("index.html"));
        let files: [(Option<&Path>, Writer); 4] = [
            (args.report_junit.as_deref(), &|out| {
                self.document(Format::Junit, out)
            }),
            (args.report_json.as_deref(), &|out| {
                self.document(Format::Json, out)
            }),
            (args.report_markdown.as_deref(), &|out| {
                self.document(Format::Markdown, out)
            }),
            (html.as_deref(), &|out| {
                report::write_html(out, &self.page())
            }),
        ];
        let mut failed = Vec::new();
        for (path, write) in files {
            let Some(path) = path else { continue };
            let written = (|| -> io::Result<()> {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let mut file = io::BufWriter::new(std::fs::File::create(path)?);
                write(&mut file)?;
                file.flush()
            })();
            if let Err(e) = written {
                failed.push(format!("{}: {e}", path.display()));
            }
        }
        match failed.is_empty() {
            true => Ok(()),
            false => Err(io::Error::other(failed.join("; "))),
        }
    }
}

/// Every changed snapshot as a diff, then the new, changed and obsolete ones listed.
fn write_snapshots(out: &mut dyn Write, check: &Check) -> io::Result<()> {
    const SHOWN: usize = 5;
    for (name, diff) in check.changed.iter().take(SHOWN) {
        writeln!(out, "\nsnapshot {name} changed (- stored, + this run):")?;
        for line in diff.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    if check.changed.len() > SHOWN {
        writeln!(
            out,
            "\n… and {} more changed snapshots (listed below)",
            check.changed.len() - SHOWN
        )?;
    }
    let list = |names: &[String]| match names.len() {
        0 => String::new(),
        1..=8 => format!(": {}", names.join(", ")),
        n => format!(": {}, … and {} more", names[..6].join(", "), n - 6),
    };
    let changed: Vec<String> = check.changed.iter().map(|(n, _)| n.clone()).collect();
    let total = check.matched + check.new.len() + check.changed.len() + check.skipped_errors;
    if total == 0 && check.obsolete.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "snapshots in {}: {} matched",
        check.dir.display(),
        check.matched
    )?;
    writeln!(out, "  {} new{}", check.new.len(), list(&check.new))?;
    writeln!(out, "  {} changed{}", changed.len(), list(&changed))?;
    writeln!(
        out,
        "  {} obsolete{}",
        check.obsolete.len(),
        list(&check.obsolete)
    )?;
    if check.skipped_errors > 0 {
        writeln!(
            out,
            "  {} not compared: the harness could not judge them",
            check.skipped_errors
        )?;
    }
    if check.accepted {
        writeln!(
            out,
            "  recorded the new and changed snapshots; removed the obsolete ones"
        )?;
    } else if check.failed() {
        writeln!(
            out,
            "  review the differences, then record them with --accept"
        )?;
    }
    Ok(())
}
