//! Suites: a folder with `suite.toml` (dialect, variables, targets, expected verdicts) and a
//! `cases/` folder of case files.

mod load;

pub use load::{LoadError, load_suite};

use crate::case::Case;
use crate::date::Date;
use crate::server::Policy;
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub description: Option<String>,
    pub dir: PathBuf,
    pub dialect: String,
    pub timeout: Option<Duration>,
    pub variables: BTreeMap<String, String>,
    pub cases: Vec<Arc<Case>>,
    pub targets: Vec<SuiteTarget>,
    /// (case id, target name) → the verdict the suite expects.
    pub expectations: BTreeMap<(String, String), VerdictKind>,
    /// Case id → its share of the user population (any unit; reports normalise).
    pub population: BTreeMap<String, f64>,
    /// `[dialect_settings]`, handed to the dialect (TLS: what counts as deprecated).
    pub dialect_settings: toml::Table,
}

/// An endpoint the suite runs against when no `--target` is given.
#[derive(Debug, Clone)]
pub struct SuiteTarget {
    pub name: String,
    pub kind: TargetKind,
}

#[derive(Debug, Clone)]
pub enum TargetKind {
    /// The embedded reference server, enforcing `policy` as of `as_of`.
    Reference { policy: Arc<Policy>, as_of: Date },
    /// A real server started by this command (run in `dir`), `{port}` replaced by a free port.
    Command { argv: Vec<String>, dir: PathBuf },
}

impl Suite {
    pub fn expected(&self, case: &str, target: &str) -> Option<VerdictKind> {
        self.expectations
            .get(&(case.to_string(), target.to_string()))
            .copied()
    }

    pub fn target(&self, name: &str) -> Option<&SuiteTarget> {
        self.targets.iter().find(|t| t.name == name)
    }
}
