//! `harness merge`: the JSON results of partitioned runs joined into one report, in the
//! order one whole run would have given.

use super::{Failure, reports};
use crate::cli::MergeArgs;
use crate::report::{self, RunInfo};
use crate::snapshot::Check;
use std::path::Path;

/// A results file: its run header, results and snapshot check.
pub fn read(path: &Path) -> Result<report::ReadBack, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    report::read_jsonl(std::io::BufReader::new(file))
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
}

pub fn merge(args: &MergeArgs) -> Result<i32, Failure> {
    let context = report::RunContext::now();
    if super::merge_judged::any_judged(&args.files)? {
        return super::merge_judged::merge_judged(args, context);
    }
    let mut results = Vec::new();
    let mut runs = Vec::new();
    let mut checks = Vec::new();
    for file in &args.files {
        let report::ReadBack {
            info,
            summarized,
            results: more,
            snapshots,
            ..
        } = read(file)?;
        checks.extend(snapshots);
        let info = info.ok_or_else(|| {
            Failure::Usage(format!(
                "{}: no run header: not the JSON results of a harness run, or empty",
                file.display()
            ))
        })?;
        if summarized != Some(more.len()) {
            return Err(Failure::Usage(format!(
                "{}: {} results but {}: the file is cut short or was edited",
                file.display(),
                more.len(),
                summarized.map_or_else(
                    || "no summary line".to_string(),
                    |n| format!("its summary says {n}")
                )
            )));
        }
        runs.push((file.as_path(), info));
        results.extend(more);
    }
    let whole = shards_of_one_run(&runs)?;
    results.sort_by_key(|r| (r.case_index, r.target_index));
    let duplicate = results
        .windows(2)
        .find(|w| w[0].case == w[1].case && w[0].target == w[1].target);
    if let Some(w) = duplicate {
        return Err(Failure::Usage(format!(
            "{} at {} appears in more than one file: were the partitions overlapping?",
            w[0].case, w[0].target
        )));
    }
    let snapshots = Check::merge(checks);
    let header = report::Header {
        suite: whole.suite.clone(),
        info: Some(RunInfo {
            partition: None,
            ..whole.clone()
        }),
        context,
        expected_results: Some(results.len()),
    };
    // The shards' results replayed as one run's stream: every report, the summary and the
    // impact come out as the whole run's did.
    let mut reporter = report::Reporter::new();
    reports::add_sinks(&mut reporter, &args.reports);
    reporter.start(&header);
    for result in results {
        reporter.case(result);
    }
    reporter.snapshots(snapshots);
    let outcome = reporter.finish();
    reports::failures(&outcome)?;
    Ok(outcome.exit_code)
}

/// The shards must be one run's: the same suite (by content), every partition K of N once,
/// none narrowed to some cases or other targets.
fn shards_of_one_run<'a>(runs: &'a [(&Path, RunInfo)]) -> Result<&'a RunInfo, Failure> {
    let (first_file, first) = &runs[0];
    for (file, info) in runs {
        if info.narrowed {
            return Err(Failure::Usage(format!(
                "{} is a run narrowed by --case or --target: it is not a shard of a whole run",
                file.display()
            )));
        }
        if let Some((k, n)) = info.partition
            && !(1 <= k && k <= n && n <= info.cases.max(1))
        {
            return Err(Failure::Usage(format!(
                "{}: partition {k}/{n} is not one of a {}-case suite",
                file.display(),
                info.cases
            )));
        }
    }
    let short = |hash: &str| hash.chars().take(12).collect::<String>();
    for (file, info) in &runs[1..] {
        if info.suite_sha256 != first.suite_sha256 || info.cases != first.cases {
            return Err(Failure::Usage(format!(
                "{} ran suite {} ({} cases, sha256 {}), but {} ran {} ({} cases, sha256 {}): shards of different suites do not merge",
                first_file.display(),
                first.suite,
                first.cases,
                short(&first.suite_sha256),
                file.display(),
                info.suite,
                info.cases,
                short(&info.suite_sha256)
            )));
        }
    }
    let Some((_, n)) = first.partition else {
        if runs.len() > 1 {
            return Err(Failure::Usage(format!(
                "{} is a whole run (no --partition), so nothing merges with it",
                first_file.display()
            )));
        }
        return Ok(first);
    };
    let mut seen = vec![None; n];
    for (file, info) in runs {
        let Some((k, of)) = info.partition.filter(|(_, of)| *of == n) else {
            return Err(Failure::Usage(format!(
                "{} is not a partition of {n} like {}",
                file.display(),
                first_file.display()
            )));
        };
        if let Some(earlier) = seen[k - 1].replace(*file) {
            return Err(Failure::Usage(format!(
                "partition {k}/{of} is given twice: {} and {}",
                earlier.display(),
                file.display()
            )));
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_none())
        .map(|(k, _)| format!("{}/{n}", k + 1))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::Usage(format!(
            "partition {} missing: a merge of part of a run would report fewer results than it had",
            missing.join(", ")
        )));
    }
    Ok(first)
}
