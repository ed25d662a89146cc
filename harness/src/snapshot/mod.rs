//! Snapshots: one file per (case, target) holding the verdict, its reason and the transcript
//! with volatile values redacted, in insta's `.snap` format so `cargo test` (through insta) and
//! `harness run` check the same files.

mod check;
mod render;
mod store;

pub use check::{Check, Checker};
pub use render::render;
pub use store::{Outcome, Store, diff};
