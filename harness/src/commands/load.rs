//! Load mode (`harness run --repeat N`): the suite's clients replayed as load against each
//! endpoint, picked in proportion to their population shares, paced to a rate, at most C at
//! once. Each handshake is a result of the one stream; the load figures (handshakes per
//! second, per-stage latency percentiles, as SIPp gives for calls) are a sink of it.

use super::Failure;
use super::plan::Endpoint;
use super::reports as report;
use crate::case::Case;
use crate::cli::ReportArgs;
use crate::report::{
    CaseResult, Header, LoadFigures, LoadParameters, Reporter, RunContext, RunInfo,
};
use crate::runner::{Settings, drive};
use crate::suite::Suite;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Load parameters: `repeat` handshakes in all, started at `rate` per second (unpaced when
/// `None`), at most `concurrency` in flight, none started after `duration`.
pub struct Load {
    pub repeat: u64,
    pub rate: Option<f64>,
    pub concurrency: usize,
    pub duration: Option<Duration>,
}

/// The case for the i-th handshake: cases in proportion to their weights, spread evenly
/// (a low-discrepancy sequence), so every run of the same load picks the same cases.
fn pick(weights: &[f64], i: u64) -> usize {
    let total: f64 = weights.iter().sum();
    let point = ((i as f64 * 0.618_033_988_749_895).fract()) * total;
    let mut acc = 0.0;
    for (index, w) in weights.iter().enumerate() {
        acc += w;
        if point < acc {
            return index;
        }
    }
    weights.len() - 1
}

pub async fn run_load(
    suite: &Suite,
    cases: &[Arc<Case>],
    endpoints: &[Endpoint],
    load: &Load,
    settings: &Settings,
    reports: &ReportArgs,
    context: RunContext,
) -> Result<i32, Failure> {
    let mut weighted: Vec<(Arc<Case>, f64)> = cases
        .iter()
        .map(|c| {
            (
                c.clone(),
                if suite.population.is_empty() {
                    1.0
                } else {
                    suite.population.shares.get(&c.id).copied().unwrap_or(0.0)
                },
            )
        })
        .filter(|(_, w)| *w > 0.0)
        .collect();
    if weighted.is_empty() {
        weighted = cases.iter().map(|c| (c.clone(), 1.0)).collect();
    }
    let weights: Vec<f64> = weighted.iter().map(|(_, w)| *w).collect();
    let case_indices: std::collections::HashMap<&str, usize> = suite
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    // Every handshake is a result of the stream: the load figures on stdout, and any
    // `--report-*` file beside them (JSON Lines written as each handshake ends).
    let mut reporter = Reporter::new();
    report::add_files(&mut reporter, reports);
    reporter.add_stdout(Box::new(LoadFigures::new(
        Box::new(std::io::stdout()),
        load.parameters(),
    )));
    reporter.start(&Header {
        suite: suite.name.clone(),
        info: Some(RunInfo {
            suite: suite.name.clone(),
            suite_sha256: crate::bundle::manifest(suite)
                .map(|(_, hash)| hash)
                .map_err(|e| Failure::Runtime(format!("cannot hash the suite's files: {e}")))?,
            cases: suite.cases.len(),
            partition: None,
            population: suite.population.shares.clone(),
            population_unit: suite.population.unit,
            population_accounts: suite.population.accounts.clone(),
            population_not_run: suite.population.not_run,
            target_notes: Default::default(),
            // Not a shard of a whole run.
            narrowed: true,
            judged: false,
            capture_blake3: String::new(),
        }),
        context,
        expected_results: None,
    });
    for (target_index, endpoint) in endpoints.iter().enumerate() {
        let slots = Arc::new(Semaphore::new(load.concurrency.max(1)));
        let started = tokio::time::Instant::now();
        let mut set = tokio::task::JoinSet::new();
        let deadline = load.duration.map(|d| started + d);
        for i in 0..load.repeat {
            if let Some(rate) = load.rate {
                let after = Duration::try_from_secs_f64(i as f64 / rate).unwrap_or(Duration::MAX);
                let Some(due) = started.checked_add(after) else {
                    break;
                };
                if deadline.is_some_and(|d| due >= d) {
                    break;
                }
                tokio::time::sleep_until(due).await;
            }
            let permit = match deadline {
                Some(deadline) => {
                    match tokio::time::timeout_at(deadline, slots.clone().acquire_owned()).await {
                        Ok(permit) => permit,
                        Err(_) => break,
                    }
                }
                None => slots.clone().acquire_owned().await,
            }
            .map_err(|e| Failure::Runtime(e.to_string()))?;
            if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                break;
            }
            let case = weighted[pick(&weights, i)].0.clone();
            let case_index = case_indices.get(case.id.as_str()).copied().unwrap_or(0);
            let (target, variables, settings) = (
                endpoint.target.clone(),
                suite.variables.clone(),
                settings.clone(),
            );
            set.spawn(async move {
                let run = drive(&target, &case, &variables, &settings).await;
                drop(permit);
                (case, case_index, run)
            });
            // Hand on what has finished meanwhile.
            while let Some(joined) = set.try_join_next() {
                if let Ok((case, case_index, run)) = joined {
                    reporter.case(result(
                        suite,
                        &case,
                        case_index,
                        endpoint,
                        target_index,
                        run,
                    ));
                }
            }
        }
        while let Some(joined) = set.join_next().await {
            if let Ok((case, case_index, run)) = joined {
                reporter.case(result(
                    suite,
                    &case,
                    case_index,
                    endpoint,
                    target_index,
                    run,
                ));
            }
        }
        reporter.target_done(&endpoint.name, started.elapsed());
    }
    let outcome = reporter.finish();
    report::failures(&outcome)?;
    Ok(outcome.exit_code)
}

/// A handshake's result: load measures, it checks no expectation (only harness errors fail it).
fn result(
    suite: &Suite,
    case: &Case,
    case_index: usize,
    endpoint: &Endpoint,
    target_index: usize,
    run: crate::runner::CaseRun,
) -> CaseResult {
    CaseResult {
        expected: None,
        ..super::plan::result(suite, case, case_index, endpoint, target_index, run)
    }
}

impl Load {
    /// What the figures are read against.
    fn parameters(&self) -> LoadParameters {
        LoadParameters {
            repeat: self.repeat,
            rate: self.rate,
            concurrency: self.concurrency,
            duration: self.duration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_follow_the_weights() {
        let weights = [1.0, 3.0];
        let picks: Vec<usize> = (0..1000).map(|i| pick(&weights, i)).collect();
        let second = picks.iter().filter(|&&p| p == 1).count();
        assert!((700..=800).contains(&second), "{second}");
    }
}
