//! Process exit codes: the contract with CI scripts, listed in the README.

/// Every result matched its expectation (or none was asked for) and no harness error occurred.
pub const SUCCESS: i32 = 0;
/// At least one verdict differed from its expectation.
pub const MISMATCH: i32 = 1;
/// The command line, a suite, case or policy file could not be understood.
pub const USAGE: i32 = 2;
/// The harness could not judge at least one result (refused, timeout, garbage), or failed to run.
/// Outranks [`MISMATCH`]: a run with errors proves nothing about verdicts.
pub const RUNTIME: i32 = 3;
