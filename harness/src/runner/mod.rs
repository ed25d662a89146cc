//! The runner: drives cases against endpoints concurrently on tokio and hands on each result
//! as soon as it can in a deterministic order, whatever order they finish in.

mod connection;
mod drive;
mod retry;
pub mod transcript;

pub use connection::{Connection, Target, TlsClient};
pub use drive::{CaseRun, Divergence, Exchange, Settings, drive, show};
pub use transcript::{Data, Entry, Transcript};

use crate::case::Case;
use crate::verdict::Verdict;
use std::collections::{BTreeMap, HashMap};
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

/// Runs every job, at most `concurrency` at once, and hands each run to `on_run` with its
/// job's index as soon as it and every job before it have finished: in the order of `jobs`
/// (deterministic reports), each as early as that order allows.
pub async fn run_all(
    jobs: Vec<Job>,
    concurrency: usize,
    settings: &Settings,
    on_run: &mut dyn FnMut(usize, CaseRun),
) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let settings = Arc::new(settings.clone());
    let mut set = JoinSet::new();
    let mut tasks = HashMap::new();
    let mut done = InOrder::default();
    for (index, job) in jobs.into_iter().enumerate() {
        // Taken here, in job order, so cases start in suite order (one at a time with
        // concurrency 1: the traffic is as repeatable as the results).
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let settings = settings.clone();
        let task = set.spawn(async move {
            let run = retry::drive_retrying_busy(&job, &settings).await;
            drop(slot);
            (index, run)
        });
        tasks.insert(task.id(), index);
        // Hand on what has finished meanwhile.
        while let Some(joined) = set.try_join_next() {
            done.finished(joined, &tasks, on_run);
        }
    }
    while let Some(joined) = set.join_next().await {
        done.finished(joined, &tasks, on_run);
    }
}

/// Runs that finished before an earlier job, waiting for it.
#[derive(Default)]
struct InOrder {
    next: usize,
    waiting: BTreeMap<usize, CaseRun>,
}

impl InOrder {
    fn finished(
        &mut self,
        joined: Result<(usize, CaseRun), tokio::task::JoinError>,
        tasks: &HashMap<tokio::task::Id, usize>,
        on_run: &mut dyn FnMut(usize, CaseRun),
    ) {
        let (index, run) = match joined {
            Ok(done) => done,
            // A job that panicked leaves no run; report it rather than lose the row.
            Err(e) => match tasks.get(&e.id()) {
                Some(index) => (*index, panicked()),
                None => return,
            },
        };
        self.waiting.insert(index, run);
        while let Some(run) = self.waiting.remove(&self.next) {
            on_run(self.next, run);
            self.next += 1;
        }
    }
}

fn panicked() -> CaseRun {
    CaseRun {
        verdict: Verdict::error(
            "harness",
            "the harness failed while running this case (a bug: please report it)",
        ),
        transcript: Transcript::new(0),
        duration: Duration::ZERO,
        divergences: Vec::new(),
        exchanges: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicked_job_is_an_error_row_in_its_place_and_later_runs_wait_for_it() {
        let mut set = JoinSet::new();
        let mut tasks = HashMap::new();
        let second = set.spawn(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            (
                1,
                CaseRun {
                    verdict: Verdict::error("x", "the second job"),
                    ..panicked()
                },
            )
        });
        tasks.insert(second.id(), 1);
        let broken = set.spawn(async {
            // Job 0 fails after job 1 has finished: job 1 waits for its row.
            tokio::time::sleep(Duration::from_millis(50)).await;
            if always() {
                panic!("a bug in one case");
            }
            (0, panicked())
        });
        tasks.insert(broken.id(), 0);
        let mut order = InOrder::default();
        let mut seen = Vec::new();
        while let Some(joined) = set.join_next().await {
            order.finished(joined, &tasks, &mut |i, run| {
                seen.push((i, run.verdict.reason))
            });
        }
        assert_eq!(
            seen,
            [
                (
                    0,
                    "the harness failed while running this case (a bug: please report it)"
                        .to_string()
                ),
                (1, "the second job".to_string())
            ]
        );
    }

    /// A condition the compiler cannot see through, so the panic is not unreachable code.
    fn always() -> bool {
        std::hint::black_box(true)
    }
}
