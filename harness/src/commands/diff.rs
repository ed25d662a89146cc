//! `harness diff`: which clients changed verdict between two runs (two server builds, two
//! policy dates), as a table; exit 1 when any did.

use super::Failure;
use super::merge::read;
use crate::cli::DiffArgs;
use crate::exit;
use crate::report::CaseResult;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

pub fn diff(args: &DiffArgs) -> Result<i32, Failure> {
    let old = read(&args.old)?.results;
    let new = read(&args.new)?.results;
    for (file, results) in [(&args.old, &old), (&args.new, &new)] {
        refuse_duplicates(file, results)?;
    }
    let targets = |results: &[CaseResult]| -> BTreeSet<String> {
        results.iter().map(|r| r.target.clone()).collect()
    };
    let (old_targets, new_targets) = (targets(&old), targets(&new));
    // Two single-target runs (two server builds, two addresses) compare case by case; else
    // the targets both runs have compare, and the others are named, not listed case by case.
    let by_case = old_targets.len() == 1 && new_targets.len() == 1;
    let compared =
        |target: &str| by_case || (old_targets.contains(target) && new_targets.contains(target));
    let key = |r: &CaseResult| {
        (
            r.case.clone(),
            if by_case {
                String::new()
            } else {
                r.target.clone()
            },
        )
    };
    let before: BTreeMap<_, _> = old
        .iter()
        .filter(|r| compared(&r.target))
        .map(|r| (key(r), r))
        .collect();
    let after: BTreeMap<_, _> = new
        .iter()
        .filter(|r| compared(&r.target))
        .map(|r| (key(r), r))
        .collect();
    let mut notes = Vec::new();
    if !by_case {
        for (run, only, others) in [
            ("old", &old_targets, &new_targets),
            ("new", &new_targets, &old_targets),
        ] {
            for target in only.difference(others) {
                notes.push(format!(
                    "target {target} is only in the {run} run: not compared"
                ));
            }
        }
    }
    let mut rows: Vec<[String; 5]> = Vec::new();
    for (k, n) in &after {
        match before.get(k) {
            Some(o) if o.verdict.kind == n.verdict.kind => {}
            Some(o) => rows.push([
                k.0.clone(),
                n.target.clone(),
                o.verdict.kind.to_string(),
                n.verdict.kind.to_string(),
                n.verdict.reason.clone(),
            ]),
            None => rows.push([
                k.0.clone(),
                n.target.clone(),
                "-".into(),
                n.verdict.kind.to_string(),
                "only in the new run".into(),
            ]),
        }
    }
    for (k, o) in &before {
        if !after.contains_key(k) {
            rows.push([
                k.0.clone(),
                o.target.clone(),
                o.verdict.kind.to_string(),
                "-".into(),
                "only in the old run".into(),
            ]);
        }
    }
    let mut out = std::io::stdout().lock();
    let written = (|| -> std::io::Result<()> {
        for note in &notes {
            writeln!(out, "{note}")?;
        }
        if rows.is_empty() {
            return writeln!(out, "no verdict changed ({} results compared)", after.len());
        }
        let header = ["CASE", "TARGET", "BEFORE", "AFTER", "REASON NOW"].map(String::from);
        let widths: Vec<usize> = (0..4)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                line.push_str(&format!("{:<w$}  ", row[i], w = width));
            }
            writeln!(out, "{line}{}", row[4])?;
        }
        writeln!(
            out,
            "\n{} of {} results changed verdict",
            rows.len(),
            before
                .keys()
                .chain(after.keys())
                .collect::<BTreeSet<_>>()
                .len()
        )
    })();
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Failure::Runtime(format!("cannot write: {e}")));
    }
    Ok(if rows.is_empty() {
        exit::SUCCESS
    } else {
        exit::MISMATCH
    })
}

/// A results file holding the same (case, target) twice cannot be compared with another.
fn refuse_duplicates(file: &std::path::Path, results: &[CaseResult]) -> Result<(), Failure> {
    let mut seen = BTreeSet::new();
    for r in results {
        if !seen.insert((&r.case, &r.target)) {
            return Err(Failure::Usage(format!(
                "{}: {} at {} appears twice: one run's results hold each (case, target) once",
                file.display(),
                r.case,
                r.target
            )));
        }
    }
    Ok(())
}
