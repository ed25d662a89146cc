//! JSON Lines for machines: a `{"type":"run",...}` object saying what ran (the suite, its
//! content hash and case count, the partition, the population shares), one
//! `{"type":"result",...}` object per result as it finishes, the population impact per target
//! (`{"type":"impact",...}`), the traffic impact and the snapshot check, then one
//! `{"type":"summary",...}`; and reading them back, for
//! `harness merge` and `harness diff`.

use super::{CaseResult, Check, Event, Sink, Summary};
use crate::runner::{Divergence, Transcript};
use crate::verdict::{Verdict, VerdictKind};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
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
    /// What `population` counts: users (by hand) or sessions (counted in traffic).
    #[serde(default)]
    pub population_unit: crate::report::PopulationUnit,
    /// Distinct accounts per case, where traffic showed them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub population_accounts: BTreeMap<String, f64>,
    /// Sessions of clients with no case, counted in every target's total.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub population_not_run: f64,
    /// Target → what it enforces (its policy phase), for the reports' column headings.
    #[serde(default)]
    pub target_notes: BTreeMap<String, String>,
    /// The run was narrowed (`--case`, `--target`): not a shard of a whole run.
    #[serde(default)]
    pub narrowed: bool,
    /// Recorded traffic judged (`harness judge`), not a suite's run: such files merge only
    /// with each other, into one traffic impact.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub judged: bool,
    /// The judged capture's BLAKE3 (hex, as `b3sum` prints it): how `merge` tells the same
    /// capture judged twice. Empty for a suite's run, a merge, and a folder of cases.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub capture_blake3: String,
}

impl RunInfo {
    /// The header of recorded traffic judged (`harness judge`, or a merge of judged files):
    /// not a suite's run, and the number of sessions not known when it is written.
    pub fn judged(title: &str) -> RunInfo {
        RunInfo {
            suite: title.to_string(),
            suite_sha256: String::new(),
            cases: 0,
            partition: None,
            population: BTreeMap::new(),
            population_unit: Default::default(),
            population_accounts: BTreeMap::new(),
            population_not_run: 0.0,
            target_notes: BTreeMap::new(),
            narrowed: true,
            judged: true,
            capture_blake3: String::new(),
        }
    }

    /// The hash that names what ran: the suite's sha256, or the judged capture's BLAKE3
    /// (`None` for what has neither, a merge of judged files).
    pub fn named_hash(&self) -> Option<NamedHash<'_>> {
        let (of, algorithm, hex) = match (self.capture_blake3.as_str(), self.suite_sha256.as_str())
        {
            ("", "") => return None,
            ("", suite) => ("suite", "sha256", suite),
            (capture, _) => ("capture", "blake3", capture),
        };
        Some(NamedHash { of, algorithm, hex })
    }

    pub fn population(&self) -> crate::report::Population {
        crate::report::Population {
            unit: self.population_unit,
            shares: self.population.clone(),
            accounts: self.population_accounts.clone(),
            not_run: self.population_not_run,
        }
    }
}

/// A hash that names what ran: `suite sha256 …` or `capture blake3 …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedHash<'a> {
    /// What it is the hash of: `suite` or `capture`.
    pub of: &'static str,
    pub algorithm: &'static str,
    pub hex: &'a str,
}

fn is_zero(share: &f64) -> bool {
    *share == 0.0
}

#[derive(Serialize, Deserialize)]
struct RunLine {
    r#type: String,
    #[serde(flatten)]
    info: RunInfo,
}

/// A result's line: borrowed from the result when written (no copy of its transcript for
/// every session judged), owned when read back.
#[derive(Serialize, Deserialize)]
struct ResultLine<'a> {
    r#type: Cow<'a, str>,
    case: Cow<'a, str>,
    name: Cow<'a, str>,
    target: Cow<'a, str>,
    suite_target: Option<Cow<'a, str>>,
    case_index: usize,
    target_index: usize,
    dialect: Cow<'a, str>,
    verdict: VerdictKind,
    expected: Option<VerdictKind>,
    matches: Option<bool>,
    stage: Cow<'a, str>,
    reason: Cow<'a, str>,
    decided_by: Option<Cow<'a, str>>,
    /// Present when the server was busy: an error counted apart, with its Retry-After.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    busy: Option<crate::verdict::Busy>,
    duration_ms: f64,
    divergences: Cow<'a, [Divergence]>,
    transcript: Cow<'a, Transcript>,
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

/// A result as its JSON line (without the newline).
pub fn result_json(r: &CaseResult) -> String {
    serde_json::to_string(&result_line(r)).unwrap_or_default()
}

fn result_line(r: &CaseResult) -> ResultLine<'_> {
    ResultLine {
        r#type: Cow::Borrowed("result"),
        case: Cow::Borrowed(&r.case),
        name: Cow::Borrowed(&r.name),
        target: Cow::Borrowed(&r.target),
        suite_target: r.suite_target.as_deref().map(Cow::Borrowed),
        case_index: r.case_index,
        target_index: r.target_index,
        dialect: Cow::Borrowed(r.dialect),
        verdict: r.verdict.kind,
        expected: r.expected,
        matches: match r.check() {
            Check::AsExpected => Some(true),
            Check::Mismatch => Some(false),
            Check::Unchecked => None,
        },
        stage: Cow::Borrowed(&r.verdict.stage),
        reason: Cow::Borrowed(&r.verdict.reason),
        decided_by: r.verdict.decided_by.as_deref().map(Cow::Borrowed),
        busy: r.verdict.busy,
        duration_ms: (r.duration.as_secs_f64() * 1e6).round() / 1e3,
        divergences: Cow::Borrowed(&r.divergences),
        transcript: Cow::Borrowed(&r.transcript),
    }
}

/// How long a judged session's result line may wait before it is flushed.
const JUDGED_FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// JSON Lines as a streaming sink: each line is written and flushed as its event arrives, so
/// a run cut short (Ctrl-C, a crash) leaves every result it obtained on disk. A judged
/// capture's results, which come thousands a second and can be judged again at will, are
/// flushed every [`JUDGED_FLUSH_EVERY`] instead of a write(2) each.
pub struct JsonLines<'a> {
    out: Box<dyn Write + 'a>,
    /// A result's line, built here and written at once; kept for the next one.
    line: Vec<u8>,
    /// The run judges recorded traffic (its header says so).
    judged: bool,
    flushed_at: Option<std::time::Instant>,
}

impl<'a> JsonLines<'a> {
    pub fn new(out: Box<dyn Write + 'a>) -> JsonLines<'a> {
        JsonLines {
            out,
            line: Vec::new(),
            judged: false,
            flushed_at: None,
        }
    }

    /// Flushes a result line: at once, or for a judged capture once a while has passed.
    fn flush_result(&mut self) -> io::Result<()> {
        let now = std::time::Instant::now();
        let due = !self.judged
            || self
                .flushed_at
                .is_none_or(|at| now.duration_since(at) >= JUDGED_FLUSH_EVERY);
        if due {
            self.flushed_at = Some(now);
            self.out.flush()?;
        }
        Ok(())
    }

    fn line(&mut self, value: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

impl Sink for JsonLines<'_> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started(header) => {
                if let Some(info) = &header.info {
                    self.judged = info.judged;
                    self.line(&RunLine {
                        r#type: "run".to_string(),
                        info: info.clone(),
                    })?;
                }
            }
            Event::CaseFinished(result) => {
                self.line.clear();
                if serde_json::to_writer(&mut self.line, &result_line(result)).is_err() {
                    self.line.clear();
                }
                self.line.push(b'\n');
                self.out.write_all(&self.line)?;
                self.flush_result()?;
            }
            Event::Traffic(lines) => {
                #[derive(Serialize)]
                struct TrafficLine<'a> {
                    r#type: &'static str,
                    #[serde(flatten)]
                    impact: &'a crate::judge::TrafficImpact,
                }
                for impact in lines.iter() {
                    self.line(&TrafficLine {
                        r#type: "traffic",
                        impact,
                    })?;
                }
            }
            Event::Snapshots(check) => self.line(&SnapshotsLine {
                r#type: "snapshots".to_string(),
                check: (*check).clone(),
            })?,
            Event::Finished(finished) => self.line(&SummaryLine {
                r#type: "summary",
                summary: finished.summary.clone(),
                exit_code: finished.exit_code,
            })?,
            Event::Impact(lines) => {
                #[derive(Serialize)]
                struct ImpactLine<'a> {
                    r#type: &'static str,
                    #[serde(flatten)]
                    impact: &'a super::impact::Impact,
                    sentence: String,
                }
                for impact in lines.iter() {
                    self.line(&ImpactLine {
                        r#type: "impact",
                        impact,
                        sentence: impact.sentence(),
                    })?;
                }
            }
            Event::TargetDone { .. } => {}
        }
        Ok(())
    }
}

/// What a JSON Lines report holds.
#[derive(Debug, Default)]
pub struct ReadBack {
    pub info: Option<RunInfo>,
    /// The traffic impact lines (`harness judge`), per client.
    pub traffic: Vec<crate::judge::TrafficImpact>,
    /// Result lines read (kept in `results` unless reading only counted them).
    pub read: usize,
    /// How many results the summary line says the file holds, when it has one.
    pub summarized: Option<usize>,
    pub results: Vec<CaseResult>,
    pub snapshots: Option<crate::snapshot::Check>,
}

/// The run, results and snapshot check in a JSON Lines report; an unreadable line is an
/// error naming its number.
pub fn read_jsonl(input: impl BufRead) -> Result<ReadBack, String> {
    read_jsonl_keeping(input, true)
}

/// [`read_jsonl`], keeping the results only when `keep_results` (a judged capture's sessions
/// are counted, not kept: only its traffic lines merge).
pub fn read_jsonl_keeping(input: impl BufRead, keep_results: bool) -> Result<ReadBack, String> {
    let mut results = Vec::new();
    let mut traffic = Vec::new();
    let mut read = 0;
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
            let line: crate::judge::TrafficImpact =
                serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", number + 1))?;
            traffic.push(line);
            continue;
        }
        // Impact is recomputed from the results and the run's population shares.
        if line.starts_with("{\"type\":\"impact\"") {
            continue;
        }
        if line.starts_with("{\"type\":\"snapshots\"") {
            let line: SnapshotsLine =
                serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", number + 1))?;
            snapshots = Some(line.check);
            continue;
        }
        read += 1;
        if !keep_results {
            continue;
        }
        let r: ResultLine =
            serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", number + 1))?;
        let dialect = dialect_name(&r.dialect);
        results.push(CaseResult {
            case_index: r.case_index,
            target_index: r.target_index,
            case: r.case.into_owned(),
            name: r.name.into_owned(),
            target: r.target.into_owned(),
            suite_target: r.suite_target.map(Cow::into_owned),
            dialect,
            verdict: Verdict {
                busy: r.busy,
                ..Verdict::new(
                    r.verdict,
                    r.stage.into_owned(),
                    r.reason.into_owned(),
                    r.decided_by.map(Cow::into_owned),
                )
            }
            .bounded(),
            expected: r.expected,
            duration: crate::runner::transcript::millis_to_duration(r.duration_ms),
            transcript: r.transcript.into_owned(),
            divergences: r.divergences.into_owned(),
            exchanges: Vec::new(),
            sessions: None,
        });
    }
    Ok(ReadBack {
        info,
        traffic,
        read,
        summarized,
        results,
        snapshots,
    })
}

/// A result's dialect as its name: a known dialect's, or (a file dialect this process has not
/// loaded, in a shard being merged) the name kept as written; at most a few such names are
/// kept, each once, and past them, or for one no dialect could have, `unknown`.
fn dialect_name(name: &str) -> &'static str {
    if let Some(dialect) = crate::dialect::by_name(name) {
        return dialect.name();
    }
    static KEPT: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let plausible = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !plausible {
        return "unknown";
    }
    let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = kept.iter().find(|k| **k == name) {
        return known;
    }
    if kept.len() >= 32 {
        return "unknown";
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    kept.push(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::dialect_name;

    #[test]
    fn a_dialect_this_process_has_not_loaded_keeps_its_name() {
        assert_eq!(dialect_name("tls"), "tls");
        assert_eq!(dialect_name("smtp-file"), "smtp-file");
        assert!(std::ptr::eq(
            dialect_name("smtp-file"),
            dialect_name("smtp-file")
        ));
        assert_eq!(dialect_name("not a name"), "unknown");
        assert_eq!(dialect_name(""), "unknown");
    }
}
