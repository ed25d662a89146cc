//! `harness run`: every case of a suite against every target, compared with the suite's
//! expectations and snapshots, written as a table or JSON Lines.

use super::{Failure, plan, reports};
use crate::cli::RunArgs;
use crate::exit;
use crate::report::{self, CaseResult, Summary};
use crate::runner::Settings;
use crate::snapshot::{self, Check};
use crate::suite::load_suite;
use std::time::Duration;

pub async fn run(args: &RunArgs) -> Result<i32, Failure> {
    let context = report::RunContext::now();
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
    let cases = plan::select(&suite, &args.cases, args.partition)?;
    if let Some(repeat) = args.repeat {
        let load = super::load::Load {
            repeat,
            rate: args.rate.filter(|r| *r > 0.0),
            concurrency: args.concurrency.unwrap_or(args.jobs as usize),
            duration: args.duration,
        };
        let settings = Settings {
            dialect: suite.dialect_settings.clone(),
            ..settings
        };
        return super::load::run_load(&suite, &cases, &endpoints.list, &load, &settings).await;
    }
    let progress = progress_bar(args.reports.format, cases.len() * endpoints.list.len());
    let results = plan::execute(
        &suite,
        &cases,
        &endpoints.list,
        args.jobs as usize,
        &settings,
        &|| progress.inc(1),
    )
    .await?;
    progress.finish_and_clear();
    let full_run = args.cases.is_empty() && args.target.is_empty() && args.partition.is_none();
    let snapshots = snapshot::check(&suite, &results, full_run, args.accept)
        .map_err(|e| Failure::Runtime(format!("cannot write snapshots: {e}")))?;

    if let Some(path) = &args.bundle {
        let bundle = crate::bundle::make(&suite, &results)
            .map_err(|e| Failure::Runtime(format!("cannot make the bundle: {e}")))?;
        let text = serde_json::to_string_pretty(&bundle).unwrap_or_default();
        std::fs::write(path, text + "\n")
            .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", path.display())))?;
    }
    let impact = report::impact(&results, &suite.population);
    let info = report::RunInfo {
        suite: suite.name.clone(),
        suite_sha256: crate::bundle::manifest(&suite)
            .map(|(_, hash)| hash)
            .map_err(|e| Failure::Runtime(format!("cannot hash the suite's files: {e}")))?,
        cases: suite.cases.len(),
        partition: args.partition,
        population: suite.population.clone(),
        target_notes: target_notes(&suite, &endpoints.list),
        narrowed: !args.cases.is_empty() || !args.target.is_empty(),
    };
    let run = reports::Run {
        suite: &suite.name,
        results: &results,
        impact: &impact,
        traffic: &[],
        snapshots: &snapshots,
        color: args.reports.color.enabled(),
        context: &context,
        info: Some(&info),
    };
    run.emit(&args.reports)?;
    Ok(exit_code(&results, &snapshots))
}

/// Runtime errors outrank mismatches; a failed snapshot check is a mismatch.
fn exit_code(results: &[CaseResult], snapshots: &Check) -> i32 {
    match Summary::exit_code(results) {
        exit::SUCCESS if snapshots.failed() => exit::MISMATCH,
        code => code,
    }
}

/// A progress bar on stderr for people watching a terminal; hidden for machine-readable
/// formats and when stderr is not a terminal (CI logs, pipes).
fn progress_bar(format: crate::cli::Format, total: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if format != crate::cli::Format::Table || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} results {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// What each endpoint enforces, for report headings: a reference server's policy phase, a
/// started server's command, or the suite target a given address is compared with.
fn target_notes(
    suite: &crate::suite::Suite,
    endpoints: &[super::plan::Endpoint],
) -> std::collections::BTreeMap<String, String> {
    use crate::suite::TargetKind;
    endpoints
        .iter()
        .filter_map(|endpoint| {
            let target = suite.target(endpoint.suite_target.as_deref()?)?;
            let note = match (&target.kind, endpoint.name == target.name) {
                (_, false) => format!("compared with {}", target.name),
                (TargetKind::Reference { policy, as_of, .. }, true) => policy.phase(*as_of)?,
                (TargetKind::Command { argv, .. }, true) => argv.join(" "),
            };
            Some((endpoint.name.clone(), note))
        })
        .collect()
}
