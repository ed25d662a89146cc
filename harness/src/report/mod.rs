//! Reports: every writer reads the same [`CaseResult`] list and [`Summary`].

mod clients;
mod html;
mod impact;
mod jsonl;
mod junit;
mod markdown;
mod table;

pub use html::{Page, write_html};
pub use impact::{Impact, impact};
pub use jsonl::{ReadBack, RunInfo, read_jsonl, write_jsonl};
pub use junit::{RunContext, SnapshotProblems, transcript_text, write_junit};
pub use markdown::write_markdown;
pub use table::write_table;

use crate::exit;
use crate::runner::{Divergence, Transcript};
use crate::verdict::{Verdict, VerdictKind};
use serde::Serialize;
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub results: usize,
    pub admitted: usize,
    pub warned: usize,
    pub locked_out: usize,
    pub errors: usize,
    /// Recorded sessions that ended before any decision (`harness judge` only).
    #[serde(skip_serializing_if = "is_zero")]
    pub undecided: usize,
    pub as_expected: usize,
    pub mismatched: usize,
    pub unchecked: usize,
}

impl Summary {
    pub fn of(results: &[CaseResult]) -> Summary {
        let mut summary = Summary {
            results: results.len(),
            ..Summary::default()
        };
        for result in results {
            match result.verdict.kind {
                VerdictKind::Admitted => summary.admitted += 1,
                VerdictKind::Warned => summary.warned += 1,
                VerdictKind::LockedOut => summary.locked_out += 1,
                VerdictKind::Error => summary.errors += 1,
                VerdictKind::Undecided => summary.undecided += 1,
            }
            match result.check() {
                Check::AsExpected => summary.as_expected += 1,
                Check::Mismatch => summary.mismatched += 1,
                Check::Unchecked => summary.unchecked += 1,
            }
        }
        summary
    }

    /// `129 results: 72 admitted, ...; 129 as expected, 0 mismatched.`
    pub fn sentence(&self) -> String {
        format!(
            "{} results: {}; {} as expected, {} mismatched.",
            self.results,
            self.verdict_counts(),
            self.as_expected,
            self.mismatched
        )
    }

    /// `72 admitted, 27 warned, 30 locked out, 0 errors` (and undecided ones, when any).
    pub fn verdict_counts(&self) -> String {
        let mut text = format!(
            "{} admitted, {} warned, {} locked out, {} errors",
            self.admitted, self.warned, self.locked_out, self.errors
        );
        if self.undecided > 0 {
            text.push_str(&format!(", {} undecided", self.undecided));
        }
        text
    }

    /// The process exit code for these results (see [`crate::exit`]).
    pub fn exit_code(results: &[CaseResult]) -> i32 {
        if results.iter().any(CaseResult::is_unexpected_error) {
            exit::RUNTIME
        } else if results.iter().any(|r| r.check() == Check::Mismatch) {
            exit::MISMATCH
        } else {
            exit::SUCCESS
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
