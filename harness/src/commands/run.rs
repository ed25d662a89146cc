//! `harness run`: every case of a suite against every target, compared with the suite's
//! expectations and snapshots, each result sent to every report as its case finishes.

use super::{Failure, plan, reports};
use crate::cli::RunArgs;
use crate::report::{Header, Reporter, RunInfo};
use crate::runner::Settings;
use crate::snapshot::Checker;
use crate::suite::load_suite;
use std::time::Duration;

pub async fn run(args: &RunArgs) -> Result<i32, Failure> {
    if args.accept && std::env::var_os("CI").is_some() {
        return Err(Failure::Usage(
            "--accept: snapshots are never written on CI (the CI variable is set)".to_string(),
        ));
    }
    if args.bless && std::env::var_os("CI").is_some() {
        return Err(Failure::Usage(
            "--bless: expectations are never written on CI (the CI variable is set)".to_string(),
        ));
    }
    if args.bless && args.repeat.is_some() {
        return Err(Failure::Usage(
            "--bless writes a run's verdicts, not load mode's".to_string(),
        ));
    }
    if args.bless && !args.target.is_empty() && args.expect.is_none() {
        return Err(Failure::Usage(
            "--bless writes the expectations of the suite's targets: with --target, say whose with --expect NAME".to_string(),
        ));
    }
    let suite = load_suite(&args.suite).map_err(|e| Failure::Usage(e.to_string()))?;
    run_suite(&suite, args, true).await
}

/// Runs a loaded suite as `args` say, its results checked against its snapshots when
/// `snapshots` is set.
pub async fn run_suite(
    suite: &crate::suite::Suite,
    args: &RunArgs,
    snapshots: bool,
) -> Result<i32, Failure> {
    let context = crate::report::RunContext::now();
    let settings = Settings {
        step_timeout: args
            .replay
            .timeout
            .or(suite.timeout)
            .unwrap_or(Duration::from_secs(5)),
        retry_busy: args.replay.retry_busy,
        ..Settings::default()
    };
    let endpoints = plan::endpoints(suite, &args.target, args.expect.as_deref()).await?;
    let cases = plan::select(suite, &args.cases, args.partition)?;
    if let Some(repeat) = args.repeat {
        let load = super::load::Load {
            repeat,
            rate: args.rate.filter(|r| *r > 0.0),
            concurrency: args.concurrency.unwrap_or(args.replay.jobs as usize),
            duration: args.duration,
        };
        let settings = Settings {
            dialect: suite.dialect_settings.clone(),
            ..settings
        };
        return super::load::run_load(
            suite,
            &cases,
            &endpoints.list,
            &load,
            &settings,
            &args.reports,
            context,
        )
        .await;
    }
    let full_run = args.cases.is_empty() && args.target.is_empty() && args.partition.is_none();
    let header = Header {
        suite: suite.name.clone(),
        info: Some(run_info(suite, &endpoints.list, args)?),
        context,
        expected_results: Some(cases.len() * endpoints.list.len()),
    };
    let mut reporter = Reporter::new();
    if let Some(progress) = super::progress::Progress::for_terminal(args.reports.format) {
        reporter.add(Box::new(progress), "cannot draw the progress bar");
    }
    if let Some(path) = &args.bundle {
        reporter.add(
            Box::new(crate::bundle::Writer::new(suite, path)),
            format!("cannot write the bundle {}", path.display()),
        );
    }
    reports::add_sinks(&mut reporter, &args.reports);
    if snapshots {
        reporter.check_snapshots(Checker::new(suite, full_run, args.accept));
    }
    reporter.start(&header);
    let mut blessed = super::bless::Blessing::default();
    plan::stream(
        suite,
        &cases,
        &endpoints.list,
        args.replay.jobs as usize,
        &settings,
        &mut |result| {
            if args.bless {
                blessed.add(&result);
            }
            reporter.case(result)
        },
    )
    .await;
    let outcome = reporter.finish();
    reports::failures(&outcome)?;
    if args.bless {
        return blessed.write(&args.suite, &outcome);
    }
    Ok(outcome.exit_code)
}

/// What ran, for the reports' headers (and `harness merge`'s checks).
fn run_info(
    suite: &crate::suite::Suite,
    endpoints: &[super::plan::Endpoint],
    args: &RunArgs,
) -> Result<RunInfo, Failure> {
    Ok(RunInfo {
        suite: suite.name.clone(),
        suite_sha256: crate::bundle::manifest(suite)
            .map(|(_, hash)| hash)
            .map_err(|e| Failure::Runtime(format!("cannot hash the suite's files: {e}")))?,
        cases: suite.cases.len(),
        partition: args.partition,
        population: suite.population.shares.clone(),
        population_unit: suite.population.unit,
        population_accounts: suite.population.accounts.clone(),
        population_not_run: suite.population.not_run,
        target_notes: target_notes(suite, endpoints),
        narrowed: !args.cases.is_empty() || !args.target.is_empty(),
        judged: false,
        capture_blake3: String::new(),
    })
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
