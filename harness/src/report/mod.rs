//! Reports: every writer is a [`Sink`] of one stream of [`Event`]s, the results as their
//! cases finish, which the [`Reporter`] tallies once (summary, impact, snapshot check).

mod clients;
mod event;
pub mod held_back;
mod html;
mod impact;
mod jsonl;
mod junit;
mod load;
mod markdown;
mod reporter;
mod snapshots;
mod summary;
mod table;

pub use event::{Event, Finished, Header, Sink};
pub use html::Html;
pub use impact::{ClientImpact, Impact, ImpactTally, Population, PopulationUnit, Shares};
pub use jsonl::{JsonLines, ReadBack, RunInfo, read_jsonl, read_jsonl_keeping, result_json};
pub use junit::{Junit, RunContext, transcript_text};
pub use load::{LoadFigures, LoadParameters};
pub use markdown::Markdown;
pub use reporter::{Outcome, Reporter};
pub use snapshots::SnapshotSection;
pub use summary::Summary;
pub use table::Table;

use crate::runner::{Divergence, Exchange, Transcript};
use crate::verdict::{Verdict, VerdictKind};
use std::time::Duration;

/// One case run against one target, with what the suite expected.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Positions of the case in its suite and of the target in the run, so results of
    /// partitioned runs merge back into the order of one whole run.
    pub case_index: usize,
    pub target_index: usize,
    pub case: String,
    pub name: String,
    pub target: String,
    /// The suite target whose expectations and snapshots apply, if any.
    pub suite_target: Option<String>,
    /// The dialect the case spoke (it redacts the case's snapshot).
    pub dialect: &'static str,
    pub verdict: Verdict,
    pub expected: Option<VerdictKind>,
    pub duration: Duration,
    pub transcript: Transcript,
    pub divergences: Vec<Divergence>,
    /// Each request's stage and the time to its reply (load mode's latencies); not reported.
    pub exchanges: Vec<Exchange>,
    /// In judged traffic, the sessions of its client this row stands for (its verdict's).
    pub sessions: Option<SessionCount>,
}

/// `2 of 3 sessions`: a judged row's sessions with its verdict, of all its client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCount {
    pub with_verdict: usize,
    pub of_client: usize,
}

impl std::fmt::Display for SessionCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {} sessions", self.with_verdict, self.of_client)
    }
}

/// How a result compares with its expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    AsExpected,
    Mismatch,
    Unchecked,
}

impl CaseResult {
    pub fn check(&self) -> Check {
        match self.expected {
            None => Check::Unchecked,
            Some(kind) if kind == self.verdict.kind => Check::AsExpected,
            Some(_) => Check::Mismatch,
        }
    }

    /// A harness error the suite did not expect.
    pub fn is_unexpected_error(&self) -> bool {
        self.verdict.kind == VerdictKind::Error && self.expected != Some(VerdictKind::Error)
    }
}

/// A case and, for each target, the index of its result (`None` where it did not run there).
pub type MatrixRow = (String, Vec<Option<usize>>);

/// The results as a matrix: targets in order of first appearance, and one row per case (in
/// order of first appearance) with its result index for each target. Linear in the results.
pub fn matrix(results: &[CaseResult]) -> (Vec<String>, Vec<MatrixRow>) {
    let mut targets: Vec<String> = Vec::new();
    let mut cases: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (i, r) in results.iter().enumerate() {
        if !targets.contains(&r.target) {
            targets.push(r.target.clone());
        }
        index
            .entry((r.case.as_str(), r.target.as_str()))
            .or_insert(i);
    }
    let mut seen = std::collections::HashSet::new();
    for r in results {
        if seen.insert(r.case.as_str()) {
            cases.push(r.case.clone());
        }
    }
    let rows = cases
        .into_iter()
        .map(|case| {
            let cells = targets
                .iter()
                .map(|t| index.get(&(case.as_str(), t.as_str())).copied())
                .collect();
            (case, cells)
        })
        .collect();
    (targets, rows)
}
