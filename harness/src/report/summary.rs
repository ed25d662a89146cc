//! The counts of a run (per verdict, against expectations) and its exit code, tallied once,
//! as results arrive, by the [`super::Reporter`]; every report reads this one tally.

use super::{CaseResult, Check};
use crate::exit;
use crate::verdict::VerdictKind;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub results: usize,
    pub admitted: usize,
    pub warned: usize,
    pub locked_out: usize,
    pub errors: usize,
    /// Of the errors, those where the server was busy (too many connections, rate limited):
    /// the load the run put on it, not a verdict on any client.
    #[serde(skip_serializing_if = "is_zero")]
    pub busy: usize,
    /// Recorded sessions that ended before any decision (`harness judge` only).
    #[serde(skip_serializing_if = "is_zero")]
    pub undecided: usize,
    pub as_expected: usize,
    pub mismatched: usize,
    pub unchecked: usize,
    /// Harness errors the suite did not expect (they outrank mismatches in the exit code).
    #[serde(skip)]
    pub unexpected_errors: usize,
}

impl Summary {
    /// Counts one more result.
    pub fn add(&mut self, result: &CaseResult) {
        self.results += 1;
        match result.verdict.kind {
            VerdictKind::Admitted => self.admitted += 1,
            VerdictKind::Warned => self.warned += 1,
            VerdictKind::LockedOut => self.locked_out += 1,
            VerdictKind::Error => {
                self.errors += 1;
                self.busy += usize::from(result.verdict.is_busy());
            }
            VerdictKind::Undecided => self.undecided += 1,
        }
        match result.check() {
            Check::AsExpected => self.as_expected += 1,
            Check::Mismatch => self.mismatched += 1,
            Check::Unchecked => self.unchecked += 1,
        }
        if result.is_unexpected_error() {
            self.unexpected_errors += 1;
        }
    }

    pub fn of(results: &[CaseResult]) -> Summary {
        let mut summary = Summary::default();
        for result in results {
            summary.add(result);
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

    /// `72 admitted, 27 warned, 30 locked out, 0 errors` (with how many errors were a busy
    /// server, and undecided ones, when any).
    pub fn verdict_counts(&self) -> String {
        let mut text = format!(
            "{} admitted, {} warned, {} locked out, {} errors",
            self.admitted, self.warned, self.locked_out, self.errors
        );
        if self.busy > 0 {
            text.push_str(&format!(" ({} busy)", self.busy));
        }
        if self.undecided > 0 {
            text.push_str(&format!(", {} undecided", self.undecided));
        }
        text
    }

    /// The process exit code for these results (see [`crate::exit`]); a failed snapshot
    /// check is a mismatch, and runtime errors outrank both.
    pub fn exit_code(&self, snapshots_failed: bool) -> i32 {
        if self.unexpected_errors > 0 {
            exit::RUNTIME
        } else if self.mismatched > 0 || snapshots_failed {
            exit::MISMATCH
        } else {
            exit::SUCCESS
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
