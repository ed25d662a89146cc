//! `harness merge`: the JSON results of partitioned runs joined into one report, in the
//! order one whole run would have given.

use super::{Failure, reports};
use crate::cli::MergeArgs;
use crate::report::{self, CaseResult, Summary};
use crate::snapshot::Check;
use std::path::Path;

pub fn read(path: &Path) -> Result<Vec<CaseResult>, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    report::read_jsonl(std::io::BufReader::new(file))
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
}

pub fn merge(args: &MergeArgs) -> Result<i32, Failure> {
    let context = report::RunContext::now();
    let mut results = Vec::new();
    for file in &args.files {
        results.extend(read(file)?);
    }
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
    let suite = args.files[0]
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let run = reports::Run {
        suite: &suite,
        results: &results,
        impact: &[],
        traffic: &[],
        snapshots: &Check::default(),
        color: args.reports.color.enabled(),
        context: &context,
    };
    run.emit(&args.reports)?;
    Ok(Summary::exit_code(&results))
}
