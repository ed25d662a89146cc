//! Load mode (`harness run --repeat N`): the suite's clients replayed as load against each
//! endpoint, picked in proportion to their population shares, paced to a rate, at most C at
//! once; reports handshakes per second and per-stage latency percentiles, as SIPp does for calls.

use super::Failure;
use super::plan::Endpoint;
use crate::case::Case;
use crate::exit;
use crate::runner::{Settings, drive};
use crate::suite::Suite;
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
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

/// The value at quantile `q` of sorted samples.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Sample {
    kind: VerdictKind,
    total_ms: f64,
    /// Stage (as the dialect names it) → time from request to its reply.
    stages: Vec<(String, f64)>,
}

pub async fn run_load(
    suite: &Suite,
    cases: &[Arc<Case>],
    endpoints: &[Endpoint],
    load: &Load,
    settings: &Settings,
) -> Result<i32, Failure> {
    let mut weighted: Vec<(Arc<Case>, f64)> = cases
        .iter()
        .map(|c| {
            (
                c.clone(),
                if suite.population.is_empty() {
                    1.0
                } else {
                    suite.population.get(&c.id).copied().unwrap_or(0.0)
                },
            )
        })
        .filter(|(_, w)| *w > 0.0)
        .collect();
    if weighted.is_empty() {
        weighted = cases.iter().map(|c| (c.clone(), 1.0)).collect();
    }
    let weights: Vec<f64> = weighted.iter().map(|(_, w)| *w).collect();
    let mut code = exit::SUCCESS;
    for endpoint in endpoints {
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
            let (target, variables, settings) = (
                endpoint.target.clone(),
                suite.variables.clone(),
                settings.clone(),
            );
            set.spawn(async move {
                let run = drive(&target, &case, &variables, &settings).await;
                drop(permit);
                sample(&run)
            });
        }
        let mut samples = Vec::new();
        while let Some(joined) = set.join_next().await {
            if let Ok(s) = joined {
                samples.push(s);
            }
        }
        let seconds = Instant::now()
            .duration_since(started.into_std())
            .as_secs_f64();
        if samples.iter().any(|s| s.kind == VerdictKind::Error) {
            code = exit::RUNTIME;
        }
        report(endpoint, load, &samples, seconds);
    }
    Ok(code)
}

fn sample(run: &crate::runner::CaseRun) -> Sample {
    Sample {
        kind: run.verdict.kind,
        total_ms: run.duration.as_secs_f64() * 1e3,
        stages: run
            .exchanges
            .iter()
            .map(|e| (e.stage.clone(), e.latency.as_secs_f64() * 1e3))
            .collect(),
    }
}

fn report(endpoint: &Endpoint, load: &Load, samples: &[Sample], seconds: f64) {
    let rate = load
        .rate
        .map_or_else(|| "unpaced".to_string(), |r| format!("rate {r}/s"));
    crate::outln!(
        "load against {}: {} handshakes in {:.2}s = {:.1}/s ({rate}, at most {} at once)",
        endpoint.name,
        samples.len(),
        seconds,
        samples.len() as f64 / seconds.max(1e-9),
        load.concurrency
    );
    if (samples.len() as u64) < load.repeat
        && let Some(duration) = load.duration
    {
        crate::outln!(
            "  stopped at --duration {duration:?}: {} of {} handshakes started",
            samples.len(),
            load.repeat
        );
    }
    let count = |k: VerdictKind| samples.iter().filter(|s| s.kind == k).count();
    crate::outln!(
        "  verdicts: {} admitted, {} warned, {} locked out, {} errors",
        count(VerdictKind::Admitted),
        count(VerdictKind::Warned),
        count(VerdictKind::LockedOut),
        count(VerdictKind::Error)
    );
    let mut by_stage: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for s in samples {
        for (stage, ms) in &s.stages {
            by_stage.entry(stage.clone()).or_default().push(*ms);
        }
        by_stage
            .entry("(whole handshake)".to_string())
            .or_default()
            .push(s.total_ms);
    }
    crate::outln!(
        "  {:<18} {:>8} {:>9} {:>9} {:>9}",
        "stage",
        "count",
        "p50 ms",
        "p90 ms",
        "p99 ms"
    );
    for (stage, mut values) in by_stage {
        values.sort_by(f64::total_cmp);
        crate::outln!(
            "  {:<18} {:>8} {:>9.3} {:>9.3} {:>9.3}",
            stage,
            values.len(),
            percentile(&values, 0.5),
            percentile(&values, 0.9),
            percentile(&values, 0.99)
        );
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

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(
            (
                percentile(&v, 0.5),
                percentile(&v, 0.9),
                percentile(&v, 0.99)
            ),
            (50.0, 90.0, 99.0)
        );
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
