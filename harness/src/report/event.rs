//! The one stream of results every report reads, as cargo-nextest's reporters read its
//! events: the run's header, each result as its case finishes, then what is known only at the
//! end (impact, the snapshot check) and the run's totals. `harness run`, `judge`, `merge` and
//! load mode all emit it; each report is a [`Sink`] of it.

use super::{CaseResult, Impact, MatrixRow, RunContext, RunInfo, Summary};
use crate::judge::TrafficImpact;
use crate::snapshot::Check;
use std::io;
use std::time::Duration;

/// What a run is, known before its first result.
pub struct Header {
    /// How reports title the run: the suite's name, or `judge FILE`.
    pub suite: String,
    /// What ran, for the JSON Lines header (`harness merge` checks shards against it).
    pub info: Option<RunInfo>,
    /// When and where.
    pub context: RunContext,
    /// How many results are coming, when known (a progress bar's length).
    pub expected_results: Option<usize>,
}

/// The end of a run: its totals, and every result for the sinks that asked to keep them.
pub struct Finished<'a> {
    pub summary: &'a Summary,
    pub exit_code: i32,
    /// Every result, in order; empty unless some sink's [`Sink::keeps_results`] is true.
    pub results: &'a [CaseResult],
    /// The results as a matrix (targets across, cases down), over `results`.
    pub matrix: &'a (Vec<String>, Vec<MatrixRow>),
}

/// One event, in this order: `Started`, `CaseFinished` per result (and `TargetDone` after
/// each target of a load run), `Impact`, `Traffic`, `Snapshots` (when snapshots were
/// checked), `Finished`.
pub enum Event<'a> {
    Started(&'a Header),
    CaseFinished(&'a CaseResult),
    /// Load mode: every handshake against this target has finished, after `elapsed`.
    TargetDone {
        target: &'a str,
        elapsed: Duration,
    },
    /// Shares of the suite's users per verdict and target (empty without a population).
    Impact(&'a [Impact]),
    /// Sessions and accounts per client in recorded traffic (`harness judge`).
    Traffic(&'a [TrafficImpact]),
    Snapshots(&'a Check),
    Finished(&'a Finished<'a>),
}

/// A consumer of the stream: a report on stdout or in a file, the progress bar, the bundle.
/// Streaming sinks write as events arrive; sinks that need every result (a matrix, an XML
/// document) say so and read them at `Finished`.
pub trait Sink {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()>;

    /// Whether this sink reads [`Finished::results`].
    fn keeps_results(&self) -> bool {
        false
    }
}
