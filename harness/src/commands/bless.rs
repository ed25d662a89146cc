//! `harness run --bless`: a reviewed run's verdicts become the suite's expectations, per
//! target, written into suite.toml's [expect] with everything else in the file kept.

use super::Failure;
use crate::exit;
use crate::report::{CaseResult, Outcome};
use crate::verdict::VerdictKind;
use std::path::Path;

/// The verdicts to bless, and those that cannot be (errors, results of no suite target).
#[derive(Default)]
pub struct Blessing {
    verdicts: Vec<(String, String, &'static str)>,
    errors: usize,
}

impl Blessing {
    pub fn add(&mut self, result: &CaseResult) {
        let Some(target) = &result.suite_target else {
            return;
        };
        match result.verdict.kind {
            // What the harness could not judge is no expectation to hold a server to.
            VerdictKind::Error | VerdictKind::Undecided => self.errors += 1,
            kind => self
                .verdicts
                .push((result.case.clone(), target.clone(), kind.as_str())),
        }
    }

    /// Writes the expectations; the run's exit code, less the mismatches the blessing ends.
    pub fn write(self, suite: &Path, outcome: &Outcome) -> Result<i32, Failure> {
        let file = match suite.is_dir() {
            true => suite.join("suite.toml"),
            false => suite.to_path_buf(),
        };
        crate::suite::edit::write_expectations(&file, &self.verdicts)
            .map_err(|e| Failure::Runtime(e.to_string()))?;
        crate::outln!(
            "blessed {} verdicts as the expectations in {}{}",
            self.verdicts.len(),
            file.display(),
            match self.errors {
                0 => String::new(),
                n => format!(" ({n} errors not blessed: their expectations are unchanged)"),
            }
        );
        Ok(match outcome.exit_code {
            exit::MISMATCH if !outcome.snapshots_failed => exit::SUCCESS,
            code => code,
        })
    }
}
