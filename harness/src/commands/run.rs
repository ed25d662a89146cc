//! `harness run`: every case of a suite against every target, compared with the suite's
//! expectations and snapshots, written as a table or JSON Lines.

use super::{Failure, plan};
use crate::cli::{Format, RunArgs};
use crate::exit;
use crate::report::{self, CaseResult, Summary};
use crate::runner::Settings;
use crate::snapshot::{self, Check};
use crate::suite::load_suite;
use std::io::Write;
use std::time::Duration;

pub async fn run(args: &RunArgs) -> Result<i32, Failure> {
    if args.accept && std::env::var_os("CI").is_some() {
        return Err(Failure::Usage(
            "--accept: snapshots are never written on CI (the CI variable is set)".to_string(),
        ));
    }
    let suite = load_suite(&args.suite).map_err(|e| Failure::Usage(e.to_string()))?;
    let settings = Settings {
        step_timeout: args
            .timeout
            .or(suite.timeout)
            .unwrap_or(Duration::from_secs(5)),
        ..Settings::default()
    };
    let endpoints = plan::endpoints(&suite, &args.target, args.expect.as_deref()).await?;
    let cases = plan::select(&suite, &args.cases)?;
    let results = plan::execute(
        &suite,
        &cases,
        &endpoints.list,
        args.jobs as usize,
        &settings,
    )
    .await?;
    let full_run = args.cases.is_empty() && args.target.is_empty();
    let snapshots = snapshot::check(&suite, &results, full_run, args.accept)
        .map_err(|e| Failure::Runtime(format!("cannot write snapshots: {e}")))?;

    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Table => report::write_table(&mut out, &results)
            .and_then(|()| write_snapshots(&mut out, &snapshots)),
        Format::Json => report::write_jsonl(&mut out, &results)
            .and_then(|()| write_snapshots(&mut std::io::stderr().lock(), &snapshots)),
    }
    .and_then(|()| out.flush());
    match written {
        // A closed pipe (`harness run ... | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(Failure::Runtime(format!("cannot write the report: {e}")));
        }
        _ => {}
    }
    Ok(exit_code(&results, &snapshots))
}

/// Runtime errors outrank mismatches; a failed snapshot check is a mismatch.
fn exit_code(results: &[CaseResult], snapshots: &Check) -> i32 {
    match Summary::exit_code(results) {
        exit::SUCCESS if snapshots.failed() => exit::MISMATCH,
        code => code,
    }
}

/// Every changed snapshot as a diff, then the new, changed and obsolete ones listed.
fn write_snapshots(out: &mut dyn Write, check: &Check) -> std::io::Result<()> {
    for (name, diff) in &check.changed {
        writeln!(out, "\nsnapshot {name} changed (- stored, + this run):")?;
        for line in diff.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    let list = |names: &[String]| match names.len() {
        0 => String::new(),
        1..=8 => format!(": {}", names.join(", ")),
        n => format!(": {}, … and {} more", names[..6].join(", "), n - 6),
    };
    let changed: Vec<String> = check.changed.iter().map(|(n, _)| n.clone()).collect();
    let total = check.matched + check.new.len() + check.changed.len();
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
