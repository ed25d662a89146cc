//! `harness diff`: which clients changed verdict between two runs (two server builds, two
//! policy dates), as a table; exit 1 when any did.

use super::Failure;
use super::merge::read;
use crate::cli::DiffArgs;
use crate::exit;
use std::collections::BTreeMap;
use std::io::Write;

pub fn diff(args: &DiffArgs) -> Result<i32, Failure> {
    let old = read(&args.old)?;
    let new = read(&args.new)?;
    // Two single-target runs (two server builds, two addresses) compare case by case.
    let single = |results: &[crate::report::CaseResult]| {
        results.iter().all(|r| r.target == results[0].target)
    };
    let by_case = !old.is_empty() && !new.is_empty() && single(&old) && single(&new);
    let key = |r: &crate::report::CaseResult| {
        (
            r.case.clone(),
            if by_case {
                String::new()
            } else {
                r.target.clone()
            },
        )
    };
    let before: BTreeMap<_, _> = old.iter().map(|r| (key(r), r)).collect();
    let after: BTreeMap<_, _> = new.iter().map(|r| (key(r), r)).collect();
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
                .collect::<std::collections::BTreeSet<_>>()
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
