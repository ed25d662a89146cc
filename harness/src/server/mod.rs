//! The reference server: an MSNP notification server that enforces an admission policy file,
//! for suites to run against and for client vendors to point real clients at.

mod activity;
mod listener;
pub mod policy;
mod session;

pub use listener::{RunningServer, ServerConfig, StartError, start};
pub use policy::{BelowMinimum, Policy};
pub use session::{Action, Decision, Session};
