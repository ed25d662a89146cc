//! `harness check`: load a suite and report what it holds, or every error in it.

use super::Failure;
use crate::cli::CheckArgs;
use crate::exit;
use crate::suite::load_suite;

pub fn check(args: &CheckArgs) -> Result<i32, Failure> {
    if is_dialect_file(&args.suite) {
        let dialect = crate::dialect::declarative::parse(&args.suite)
            .map_err(|errors| Failure::Usage(crate::suite::LoadError { errors }.to_string()))?;
        use crate::dialect::Wire;
        crate::outln!(
            "dialect {}: {} step forms, default port {}",
            dialect.name(),
            dialect.step_kinds().len(),
            dialect.default_port()
        );
        return Ok(exit::SUCCESS);
    }
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

/// A `.toml` file (not a suite's) in a `dialects` folder, or whose top level has a
/// `[framing]` table: what only a dialect file has.
fn is_dialect_file(path: &std::path::Path) -> bool {
    if path.is_dir() || path.file_name().is_some_and(|n| n == "suite.toml") {
        return false;
    }
    let in_dialects = path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "dialects");
    if in_dialects && path.extension().is_some_and(|e| e == "toml") {
        return true;
    }
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|table| table.contains_key("framing"))
}
