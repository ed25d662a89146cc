//! The subcommands: each turns parsed arguments into work and an exit code.

mod bless;
mod check;
mod dialects;
mod diff;
mod import;
mod import_grouped;
mod import_testssl;
mod inspect;
mod judge;
mod load;
mod merge;
mod merge_judged;
mod new;
pub mod plan;
mod private_folder;
mod progress;
mod record;
mod reports;
mod review;
mod run;
mod serve;
mod server_process;
mod verify_bundle;
mod whatif;

pub use check::check;
pub use dialects::dialects;
pub use diff::diff;
pub use import::import;
pub use inspect::inspect;
pub use judge::judge;
pub use merge::merge;
pub use new::{new, starter_workflow};
pub use record::record;
pub use review::review;
pub use run::run;
pub use serve::serve;
pub use verify_bundle::verify_bundle;
pub use whatif::whatif;

use crate::exit;

/// The suite at `path`, which must speak `dialect` (`what` says why it was given).
fn suite_speaking(
    path: &std::path::Path,
    dialect: &dyn crate::dialect::Dialect,
    what: &str,
) -> Result<crate::suite::Suite, Failure> {
    let suite = crate::suite::load_suite(path).map_err(|e| Failure::Usage(e.to_string()))?;
    if suite.dialect.name() != dialect.name() {
        return Err(Failure::Usage(format!(
            "{what} {}: a {} suite, and the capture is read as {}",
            path.display(),
            suite.dialect.name(),
            dialect.name()
        )));
    }
    Ok(suite)
}

/// The key log `--keylog` names, read and checked before any work (a bad line is the
/// command line's fault: exit 2, naming the file, line and column).
fn keylog(path: Option<&std::path::Path>) -> Result<Option<crate::decrypt::KeyLog>, Failure> {
    path.map(|p| crate::decrypt::KeyLog::read(p).map_err(|e| Failure::Usage(e.to_string())))
        .transpose()
}

/// The dialect named on the command line: a name, or a dialect file (`PATH.toml`), loaded
/// and registered so the captures and reports that name it find it.
fn dialect(name: &str) -> Result<&'static dyn crate::dialect::Dialect, Failure> {
    use crate::dialect::declarative;
    if declarative::is_path(name) {
        return declarative::load(std::path::Path::new(name))
            .map_err(|errors| Failure::Usage(crate::suite::LoadError { errors }.to_string()));
    }
    crate::dialect::by_name(name).ok_or_else(|| Failure::Usage(crate::dialect::unknown(name)))
}

/// Why a command could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The command line or a file could not be understood.
    #[error("{0}")]
    Usage(String),
    /// Something failed at run time (a socket could not be bound, output could not be written).
    #[error("{0}")]
    Runtime(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => exit::USAGE,
            Failure::Runtime(_) => exit::RUNTIME,
        }
    }
}
