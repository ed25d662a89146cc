//! `harness check`: load a suite and report what it holds, or every error in it.

use super::Failure;
use crate::cli::CheckArgs;
use crate::exit;
use crate::suite::load_suite;

pub fn check(args: &CheckArgs) -> Result<i32, Failure> {
    let suite = load_suite(&args.suite).map_err(|e| Failure::Usage(e.to_string()))?;
    let expected = suite.expectations.len();
    let possible = suite.cases.len() * suite.targets.len();
    crate::outln!(
        "suite {}: {} cases, {} targets, {expected} of {possible} expectations given",
        suite.name,
        suite.cases.len(),
        suite.targets.len()
    );
    for case in &suite.cases {
        for target in &suite.targets {
            if suite.expected(&case.id, &target.name).is_none() {
                crate::outln!(
                    "  no expectation for case {} at target {}",
                    case.id,
                    target.name
                );
            }
        }
    }
    Ok(exit::SUCCESS)
}
