//! `harness merge` of judged captures (`harness judge ... --format json`), several captures
//! judged on several machines: their traffic lines joined by client (by its key, so a client
//! is one line whatever name each capture gave it), into one traffic impact. Sessions and
//! verdicts add up; distinct accounts cannot be joined from counts (the same account may be in
//! several captures), so a client's accounts read "at least" the most any capture saw.
//! Sessions are counted, not kept: memory grows with the clients.

use super::{Failure, reports};
use crate::cli::MergeArgs;
use crate::judge::TrafficImpact;
use crate::report::{self, RunInfo};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Whether any of the files is a judged capture, read from its first line.
pub fn any_judged(files: &[PathBuf]) -> Result<bool, Failure> {
    for file in files {
        let opened = std::fs::File::open(file)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
        let mut first = String::new();
        std::io::BufReader::new(opened)
            .read_line(&mut first)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
        if first.starts_with("{\"type\":\"run\"") && first.contains("\"judged\":true") {
            return Ok(true);
        }
    }
    Ok(false)
}

fn read(path: &Path) -> Result<report::ReadBack, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    report::read_jsonl_keeping(std::io::BufReader::new(file), false)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
}

pub fn merge_judged(args: &MergeArgs, context: report::RunContext) -> Result<i32, Failure> {
    let mut joined = Joined::default();
    let mut sessions = 0;
    let mut captures: Vec<(String, &PathBuf)> = Vec::new();
    for file in &args.files {
        let back = read(file)?;
        // The same capture judged twice would count its sessions twice. (Judged files of
        // earlier versions named their capture by its sha256, in `suite_sha256`.)
        if let Some(named) = back.info.as_ref().and_then(RunInfo::named_hash) {
            let key = format!("{} {}", named.algorithm, named.hex);
            if let Some((_, earlier)) = captures.iter().find(|(k, _)| *k == key) {
                return Err(Failure::Usage(format!(
                    "{} and {} judged the same capture ({} {}): its sessions would count twice",
                    earlier.display(),
                    file.display(),
                    named.algorithm,
                    &named.hex[..named.hex.len().min(12)]
                )));
            }
            captures.push((key, file));
        }
        let judged = back.info.as_ref().is_some_and(|i| i.judged);
        if !judged {
            return Err(Failure::Usage(format!(
                "{} is not a judged capture (`harness judge ... --format json`): judged captures merge only with each other",
                file.display()
            )));
        }
        if back.summarized != Some(back.read) {
            return Err(Failure::Usage(format!(
                "{}: {} sessions but {}: the file is cut short or was edited",
                file.display(),
                back.read,
                back.summarized.map_or_else(
                    || "no summary line".to_string(),
                    |n| format!("its summary says {n}")
                )
            )));
        }
        sessions += back.read;
        for line in back.traffic {
            joined.add(line);
        }
    }
    let title = format!(
        "merge of {} judged captures ({sessions} sessions)",
        args.files.len()
    );
    let header = report::Header {
        suite: title.clone(),
        info: Some(RunInfo::judged(&title)),
        context,
        expected_results: None,
    };
    let mut reporter = report::Reporter::new();
    reports::add_sinks(&mut reporter, &args.reports);
    reporter.start(&header);
    reporter.traffic(joined.lines());
    let outcome = reporter.finish();
    reports::failures(&outcome)?;
    Ok(outcome.exit_code)
}

/// Traffic lines by client key (by name for lines without one).
#[derive(Default)]
struct Joined {
    clients: BTreeMap<String, (TrafficImpact, usize)>,
    order: Vec<String>,
}

impl Joined {
    fn add(&mut self, line: TrafficImpact) {
        let key = match line.key.is_empty() {
            true => format!("name {}", line.client),
            false => line.key.clone(),
        };
        let Some((kept, captures)) = self.clients.get_mut(&key) else {
            self.order.push(key.clone());
            self.clients.insert(key, (line, 1));
            return;
        };
        *captures += 1;
        kept.sessions += line.sessions;
        for (verdict, n) in line.verdicts {
            *kept.verdicts.entry(verdict).or_default() += n;
        }
        // The same account may be in both captures: what is known is a lower bound.
        if kept.accounts > 0 && line.accounts > 0 {
            kept.accounts_at_least = true;
        }
        kept.accounts = kept.accounts.max(line.accounts);
        kept.accounts_at_least |= line.accounts_at_least;
        if !line.first_seen.is_empty()
            && (kept.first_seen.is_empty() || line.first_seen < kept.first_seen)
        {
            kept.first_seen = line.first_seen;
        }
        if line.last_seen > kept.last_seen {
            kept.last_seen = line.last_seen;
        }
    }

    /// The joined lines, named apart again (namesakes differ from capture to capture), the
    /// most sessions first.
    fn lines(mut self) -> Vec<TrafficImpact> {
        let mut lines: Vec<TrafficImpact> = self
            .order
            .iter()
            .filter_map(|key| self.clients.remove(key).map(|(line, _)| line))
            .collect();
        let named: Vec<(String, Vec<String>)> = lines
            .iter()
            .map(|l| match l.key.is_empty() {
                true => (l.client.clone(), Vec::new()),
                false => (l.base.clone(), l.traits.clone()),
            })
            .collect();
        for (line, name) in lines
            .iter_mut()
            .zip(crate::clients::distinct_names(&named, true))
        {
            line.client = name;
        }
        crate::judge::sort_traffic(&mut lines);
        lines
    }
}
