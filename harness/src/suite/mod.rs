//! Suites: a folder with `suite.toml` (dialect, variables, targets, expected verdicts) and a
//! `cases/` folder of case files.

pub mod edit;
mod load;
mod population;
mod targets;

pub(crate) use load::file_name_part;
pub use load::{LoadError, load_suite};

use crate::case::Case;
use crate::date::Date;
use crate::dialect::{self, Dialect};
use crate::runner::TlsClient;
use crate::server::ServerPolicy;
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
    pub dialect: &'static dyn Dialect,
    pub timeout: Option<Duration>,
    pub variables: BTreeMap<String, String>,
    pub cases: Vec<Arc<Case>>,
    pub targets: Vec<SuiteTarget>,
    /// (case id, target name) → the verdict the suite expects.
    pub expectations: BTreeMap<(String, String), VerdictKind>,
    /// Case id → its share of the population (users by hand, or sessions counted in traffic;
    /// reports normalise), and its distinct accounts where traffic showed them.
    pub population: crate::report::Population,
    /// `[dialect_settings]`, as the suite's dialect typed them when the suite loaded.
    pub dialect_settings: dialect::Settings,
}

/// An endpoint the suite runs against when no `--target` is given.
#[derive(Debug, Clone)]
pub struct SuiteTarget {
    pub name: String,
    pub kind: TargetKind,
    /// Speak TLS from the first byte (`tls = true`).
    pub tls_from_start: bool,
    /// How TLS is spoken there (`server_name`, `ca`), from the start or after an upgrade.
    pub tls: TlsClient,
    /// At most this many cases at once against it (`max_connections`).
    pub max_connections: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum TargetKind {
    /// The dialect's reference server, enforcing `policy` as of `as_of`.
    Reference {
        policy: Arc<dyn ServerPolicy>,
        /// The policy file, for a `harness serve` of the same policy.
        policy_path: PathBuf,
        as_of: Date,
    },
    /// A real server started by this command (run in `dir`), `{port}` replaced by a free port.
    Command {
        argv: Vec<String>,
        dir: PathBuf,
        /// Ready once a line of its stderr matches (`ready_when`), not merely once its port
        /// accepts: PostgreSQL accepts connections while it starts, to refuse them.
        ready_when: Option<regex::Regex>,
    },
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
