//! The runner: drives cases against endpoints concurrently on tokio and returns results in a
//! deterministic order, whatever order they finish in.

mod connection;
mod drive;
pub mod transcript;

pub use connection::{Connection, Target, TlsClient};
pub use drive::{CaseRun, Divergence, Exchange, Settings, drive, show};
pub use transcript::{Data, Entry, Transcript};

use crate::case::Case;
use crate::verdict::Verdict;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// One case to run against one endpoint.
#[derive(Clone)]
pub struct Job {
    pub case: Arc<Case>,
    pub target: Arc<Target>,
    pub variables: Arc<BTreeMap<String, String>>,
}

/// Runs every job, at most `concurrency` at once; results are in the order of `jobs`.
/// `on_done` is called as each job finishes (a progress bar).
pub async fn run_all(
    jobs: Vec<Job>,
    concurrency: usize,
    settings: &Settings,
    on_done: &dyn Fn(),
) -> Vec<CaseRun> {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let settings = Arc::new(settings.clone());
    let mut set = JoinSet::new();
    let count = jobs.len();
    for (index, job) in jobs.into_iter().enumerate() {
        // Taken here, in job order, so cases start in suite order (one at a time with
        // concurrency 1: the traffic is as repeatable as the results).
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let settings = settings.clone();
        set.spawn(async move {
            let run = drive(&job.target, &job.case, &job.variables, &settings).await;
            drop(slot);
            (index, run)
        });
    }
    let mut runs: Vec<Option<CaseRun>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((index, run)) = joined {
            runs[index] = Some(run);
        }
        on_done();
    }
    // A job that panicked leaves no run; report it rather than lose the row.
    runs.into_iter()
        .map(|run| {
            run.unwrap_or_else(|| CaseRun {
                verdict: Verdict::error(
                    "harness",
                    "the harness failed while running this case (a bug: please report it)",
                ),
                transcript: Transcript::new(0),
                duration: Duration::ZERO,
                divergences: Vec::new(),
                exchanges: Vec::new(),
            })
        })
        .collect()
}
