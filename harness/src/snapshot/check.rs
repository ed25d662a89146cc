//! Compares a run's results with the suite's snapshots; with `accept`, records new and changed
//! ones and removes obsolete ones; without, leaves each new or changed one beside its snapshot
//! as `CASE@TARGET.snap.new` for review.

use super::{Outcome, Store, diff, render};
use crate::dialect;
use crate::report::CaseResult;
use crate::suite::Suite;
use std::collections::{BTreeMap, BTreeSet};
use std::io;

/// What the snapshot check found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    pub matched: usize,
    pub new: Vec<String>,
    /// Name and a diff of stored against actual.
    pub changed: Vec<(String, String)>,
    /// Stored snapshots no result of this (full) run produced.
    pub obsolete: Vec<String>,
    /// Results not compared: harness errors say nothing about what the server would say.
    pub skipped_errors: usize,
    pub accepted: bool,
    pub dir: std::path::PathBuf,
}

impl Check {
    /// The checks of a run's shards as one: `harness merge` reports what the whole run did.
    pub fn merge(shards: impl IntoIterator<Item = Check>) -> Check {
        let mut whole = Check {
            accepted: true,
            ..Check::default()
        };
        let mut any = false;
        for shard in shards {
            any = true;
            whole.matched += shard.matched;
            whole.new.extend(shard.new);
            whole.changed.extend(shard.changed);
            whole.obsolete.extend(shard.obsolete);
            whole.skipped_errors += shard.skipped_errors;
            whole.accepted &= shard.accepted;
            if whole.dir.as_os_str().is_empty() {
                whole.dir = shard.dir;
            }
        }
        whole.accepted &= any;
        whole.new.sort();
        whole.changed.sort();
        whole.obsolete.sort();
        whole
    }

    /// What fails each result's JUnit test case: by `CASE@TARGET`, its diff, or a note that
    /// none is stored (nothing once accepted).
    pub fn problems(&self) -> BTreeMap<String, String> {
        if self.accepted {
            return BTreeMap::new();
        }
        let mut problems: BTreeMap<String, String> = self.changed.iter().cloned().collect();
        for name in &self.new {
            problems.insert(name.clone(), "no snapshot stored yet".to_string());
        }
        problems
    }

    /// New or changed snapshots that were not accepted fail the run.
    pub fn failed(&self) -> bool {
        !self.accepted && (!self.new.is_empty() || !self.changed.is_empty())
    }
}

/// The snapshot check, made as results arrive: each result is compared with its snapshot
/// (and, with `accept`, recorded) when it comes; obsolete snapshots are found at the end.
pub struct Checker {
    store: Store,
    check: Check,
    /// Every result of this (full) run ran: stored snapshots nobody produced are obsolete.
    full_run: bool,
    produced: BTreeSet<String>,
}

impl Checker {
    pub fn new(suite: &Suite, full_run: bool, accept: bool) -> Checker {
        let store = Store::of_suite(&suite.dir);
        Checker {
            check: Check {
                accepted: accept,
                dir: store.dir().to_path_buf(),
                ..Check::default()
            },
            store,
            full_run,
            produced: BTreeSet::new(),
        }
    }

    /// Compares a result that belongs to a suite target with its snapshot.
    pub fn add(&mut self, result: &CaseResult) -> io::Result<()> {
        let (Some(target), Some(dialect)) =
            (&result.suite_target, dialect::by_name(result.dialect))
        else {
            return Ok(());
        };
        let name = Store::name(&result.case, target);
        self.produced.insert(name.clone());
        if result.is_unexpected_error() {
            self.check.skipped_errors += 1;
            return Ok(());
        }
        let actual = render(result, dialect);
        match self.store.compare(&name, &actual) {
            Outcome::Matched => {
                self.check.matched += 1;
                // A result left for review by an earlier run is stale now.
                self.store.reject(&name)?;
            }
            Outcome::New { actual } => {
                self.record(&name, &actual)?;
                self.check.new.push(name);
            }
            Outcome::Changed { stored, actual } => {
                self.record(&name, &actual)?;
                self.check.changed.push((name, diff(&stored, &actual)));
            }
        }
        Ok(())
    }

    /// Stores a new or changed result with `accept`; otherwise leaves it beside its snapshot
    /// as `.snap.new`, for `harness review` or `cargo insta review`.
    fn record(&self, name: &str, actual: &str) -> io::Result<()> {
        match self.check.accepted {
            true => self.store.write(name, actual),
            false => self.store.write_pending(name, actual),
        }
    }

    pub fn finish(mut self) -> io::Result<Check> {
        if self.full_run {
            for name in self.store.names().difference(&self.produced) {
                if self.check.accepted {
                    self.store.remove(name)?;
                }
                self.check.obsolete.push(name.clone());
            }
        }
        Ok(self.check)
    }
}
