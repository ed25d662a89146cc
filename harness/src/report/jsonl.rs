//! JSON Lines for machines: a `{"type":"run",...}` object saying what ran (the suite, its
//! content hash and case count, the partition, the population shares), one
//! `{"type":"result",...}` object per result, then one `{"type":"summary",...}`; and reading
//! them back, for `harness merge` and `harness diff`.

use super::{CaseResult, Check, Summary};
use crate::runner::{Divergence, Transcript};
use crate::verdict::{Verdict, VerdictKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

/// What a run was: enough for `harness merge` to check that its shards belong together and
/// to write the reports (impact included) one whole run would have written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub suite: String,
    /// The sha256 over the suite's files (as the bundle's manifest computes it).
    pub suite_sha256: String,
    /// Cases in the whole suite, not only this partition.
    pub cases: usize,
    /// `[K, N]` for `--partition K/N`.
    pub partition: Option<(usize, usize)>,
    pub population: BTreeMap<String, f64>,
    /// Target → what it enforces (its policy phase), for the reports' column headings.
    #[serde(default)]
    pub target_notes: BTreeMap<String, String>,
    /// The run was narrowed (`--case`, `--target`): not a shard of a whole run.
    #[serde(default)]
    pub narrowed: bool,
}

#[derive(Serialize, Deserialize)]
struct RunLine {
    r#type: String,
    #[serde(flatten)]
    info: RunInfo,
}

#[derive(Serialize, Deserialize)]
struct ResultLine {
    r#type: String,
    case: String,
    name: String,
    target: String,
    suite_target: Option<String>,
    case_index: usize,
    target_index: usize,
    dialect: String,
    verdict: VerdictKind,
    expected: Option<VerdictKind>,
    matches: Option<bool>,
    stage: String,
    reason: String,
    decided_by: Option<String>,
    duration_ms: f64,
    divergences: Vec<Divergence>,
    transcript: Transcript,
}

#[derive(Serialize, Deserialize)]
struct SnapshotsLine {
    r#type: String,
    #[serde(flatten)]
    check: crate::snapshot::Check,
}

#[derive(Serialize)]
struct SummaryLine {
    r#type: &'static str,
    #[serde(flatten)]
    summary: Summary,
    exit_code: i32,
}

pub fn write_jsonl(
    out: &mut dyn Write,
    results: &[CaseResult],
    info: Option<&RunInfo>,
    snapshots: Option<&crate::snapshot::Check>,
    traffic: &[crate::judge::TrafficImpact],
) -> io::Result<()> {
    if let Some(info) = info {
        let line = RunLine {
            r#type: "run".to_string(),
            info: info.clone(),
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    for r in results {
        let line = ResultLine {
            r#type: "result".to_string(),
            case: r.case.clone(),
            name: r.name.clone(),
            target: r.target.clone(),
            suite_target: r.suite_target.clone(),
            case_index: r.case_index,
            target_index: r.target_index,
            dialect: r.dialect.to_string(),
            verdict: r.verdict.kind,
            expected: r.expected,
            matches: match r.check() {
                Check::AsExpected => Some(true),
                Check::Mismatch => Some(false),
                Check::Unchecked => None,
            },
            stage: r.verdict.stage.clone(),
            reason: r.verdict.reason.clone(),
            decided_by: r.verdict.decided_by.clone(),
            duration_ms: (r.duration.as_secs_f64() * 1e6).round() / 1e3,
            divergences: r.divergences.clone(),
            transcript: r.transcript.clone(),
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    for line in traffic {
        #[derive(Serialize)]
        struct TrafficLine<'a> {
            r#type: &'static str,
            #[serde(flatten)]
            impact: &'a crate::judge::TrafficImpact,
        }
        serde_json::to_writer(
            &mut *out,
            &TrafficLine {
                r#type: "traffic",
                impact: line,
            },
        )?;
        writeln!(out)?;
    }
    if let Some(check) = snapshots {
        let line = SnapshotsLine {
            r#type: "snapshots".to_string(),
            check: check.clone(),
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    let summary = SummaryLine {
        r#type: "summary",
        summary: Summary::of(results),
        exit_code: Summary::exit_code(results),
    };
    serde_json::to_writer(&mut *out, &summary)?;
    writeln!(out)
}

/// What a JSON Lines report holds.
#[derive(Debug, Default)]
pub struct ReadBack {
    pub info: Option<RunInfo>,
    /// How many results the summary line says the file holds, when it has one.
    pub summarized: Option<usize>,
    pub results: Vec<CaseResult>,
    pub snapshots: Option<crate::snapshot::Check>,
}

/// The run, results and snapshot check in a JSON Lines report; an unreadable line is an
/// error naming its number.
pub fn read_jsonl(input: impl BufRead) -> Result<ReadBack, String> {
    let mut results = Vec::new();
    let mut info = None;
    let mut snapshots = None;
    let mut summarized = None;
    for (number, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", number + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with("{\"type\":\"summary\"") {
            let summary: serde_json::Value =
                serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", number + 1))?;
            summarized = summary["results"].as_u64().map(|n| n as usize);
            continue;
        }
        if line.starts_with("{\"type\":\"run\"") {
            let run: RunLine =
                serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", number + 1))?;
            info = Some(run.info);
            continue;
        }
        if line.starts_with("{\"type\":\"traffic\"") {
            continue;
        }
        if line.starts_with("{\"type\":\"snapshots\"") {
            let line: SnapshotsLine =
                serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", number + 1))?;
            snapshots = Some(line.check);
            continue;
        }
        let r: ResultLine =
            serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", number + 1))?;
        let dialect = crate::dialect::by_name(&r.dialect).map_or("unknown", |d| d.name());
        results.push(CaseResult {
            case_index: r.case_index,
            target_index: r.target_index,
            case: r.case,
            name: r.name,
            target: r.target,
            suite_target: r.suite_target,
            dialect,
            verdict: Verdict::new(r.verdict, r.stage, r.reason, r.decided_by),
            expected: r.expected,
            duration: crate::runner::transcript::millis_to_duration(r.duration_ms),
            transcript: r.transcript,
            divergences: r.divergences,
        });
    }
    Ok(ReadBack {
        info,
        summarized,
        results,
        snapshots,
    })
}
