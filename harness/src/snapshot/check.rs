//! Compares a run's results with the suite's snapshots; with `accept`, records new and changed
//! ones and removes obsolete ones.

use super::{Outcome, Store, diff, render};
use crate::dialect;
use crate::report::CaseResult;
use crate::suite::Suite;
use std::collections::BTreeSet;
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

    /// New or changed snapshots that were not accepted fail the run.
    pub fn failed(&self) -> bool {
        !self.accepted && (!self.new.is_empty() || !self.changed.is_empty())
    }
}

/// Checks every result that belongs to a suite target. `full_run`: every case ran against
/// every suite target, so stored snapshots nobody produced are obsolete.
pub fn check(
    suite: &Suite,
    results: &[CaseResult],
    full_run: bool,
    accept: bool,
) -> io::Result<Check> {
    let store = Store::of_suite(&suite.dir);
    let mut check = Check {
        accepted: accept,
        dir: store.dir().to_path_buf(),
        ..Check::default()
    };
    let mut produced = BTreeSet::new();
    for result in results {
        let (Some(target), Some(dialect)) =
            (&result.suite_target, dialect::by_name(result.dialect))
        else {
            continue;
        };
        let name = Store::name(&result.case, target);
        produced.insert(name.clone());
        if result.is_unexpected_error() {
            check.skipped_errors += 1;
            continue;
        }
        let actual = render(result, dialect);
        match store.compare(&name, &actual) {
            Outcome::Matched => check.matched += 1,
            Outcome::New { actual } => {
                if accept {
                    store.write(&name, &actual)?;
                }
                check.new.push(name.clone());
            }
            Outcome::Changed { stored, actual } => {
                if accept {
                    store.write(&name, &actual)?;
                }
                check.changed.push((name.clone(), diff(&stored, &actual)));
            }
        }
    }
    if full_run {
        for name in store.names().difference(&produced) {
            if accept {
                store.remove(name)?;
            }
            check.obsolete.push(name.clone());
        }
    }
    Ok(check)
}
