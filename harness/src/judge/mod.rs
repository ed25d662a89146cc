//! Judging recordings as they happened: each recorded session's client messages are noted as
//! sent and its server messages fed to the dialect's classifier, in order, so the verdict is
//! the one the server's own replies justify, with no live target. Sessions that never reached
//! a decision (the client left, the capture ended, it began mid-connection) are undecided,
//! never lockouts.

mod impact;
pub mod order;
mod session;
mod tls_opening;

pub use impact::{OTHER_CLIENTS, TrafficImpact, TrafficTally, sort as sort_traffic, totals};
pub use order::InOrder;
pub use session::{Judged, Read, judge, judge_read};
