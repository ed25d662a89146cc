//! `harness judge`: every recorded session of a capture judged by the server's own recorded
//! replies, in connection order, with impact counted from the traffic itself.

use super::{Failure, reports};
use crate::capture::{self, CaptureFile};
use crate::cli::JudgeArgs;
use crate::dialect::{self, Dialect};
use crate::exit;
use crate::judge::{self, TrafficTally};
use crate::report::{CaseResult, Summary};
use crate::snapshot::Check;
use std::path::{Path, PathBuf};

pub fn judge(args: &JudgeArgs) -> Result<i32, Failure> {
    let context = crate::report::RunContext::now();
    let settings = match &args.suite {
        Some(path) => {
            Some(crate::suite::load_suite(path).map_err(|e| Failure::Usage(e.to_string()))?)
        }
        None => None,
    };
    let settings_for = |d: &dyn Dialect| match &settings {
        Some(suite) if suite.dialect.name() == d.name() => suite.dialect_settings.clone(),
        _ => dialect::Settings::none(),
    };
    let mut judged = Judged::default();
    let mut damage = None;
    let mut source_sha256 = None;
    if is_capture_case(&args.path) {
        let mut captures = Vec::new();
        for file in case_files(&args.path)? {
            captures.push((read_case(&file)?, file));
        }
        // In the order the connections began, as a pcap's sessions are.
        captures
            .sort_by(|(a, _), (b, _)| a.capture.first_timestamp.cmp(&b.capture.first_timestamp));
        for (capture, file) in captures {
            let dialect = dialect::by_name(&capture.capture.dialect).ok_or_else(|| {
                Failure::Usage(format!(
                    "{}: {}",
                    file.display(),
                    dialect::unknown(&capture.capture.dialect)
                ))
            })?;
            judged.add(
                judged.results.len() as u64,
                dialect,
                &capture,
                &settings_for(dialect),
            );
        }
    } else {
        let Some(name) = &args.dialect else {
            return Err(Failure::Usage(format!(
                "judge {}: give --dialect NAME for a pcap (known: {})",
                args.path.display(),
                dialect::names().join(", ")
            )));
        };
        let dialect = super::dialect(name)?;
        let settings = settings_for(dialect);
        let report = capture::import(&args.path, args.port, dialect, |id, capture| {
            if source_sha256.is_none() {
                source_sha256.clone_from(&capture.capture.sha256);
            }
            judged.add(id, dialect, &capture, &settings);
            Ok(())
        })
        .map_err(|e| match e {
            capture::ImportError::Open { .. } => Failure::Usage(e.to_string()),
            e => Failure::Runtime(e.to_string()),
        })?;
        // What was read before any damage is judged and reported; the damage is then named
        // and the exit code is 2, as import's is.
        damage = match (&report.error, report.nothing_decoded()) {
            (Some(error), _) => Some(format!(
                "{}: {error}; the sessions before it are judged",
                args.path.display()
            )),
            (None, Some(why)) => Some(format!("{}: {why}", args.path.display())),
            (None, None) => None,
        };
    }
    // The importer hands connections over as they end; reports list them as they began.
    judged.results.sort_by_key(|r| r.case_index);
    for (number, result) in judged.results.iter_mut().enumerate() {
        result.case_index = number + 1;
        result.case = format!("#{} {}", number + 1, result.case);
    }
    let traffic = judged.tally.lines();
    // Judged results are not a suite's run: the header says what was judged, and merge
    // refuses it (narrowed).
    let info = crate::report::RunInfo {
        suite: format!("judge {}", args.path.display()),
        suite_sha256: source_sha256.unwrap_or_default(),
        cases: judged.results.len(),
        partition: None,
        population: Default::default(),
        target_notes: Default::default(),
        narrowed: true,
    };
    let run = reports::Run {
        suite: &format!("judge {}", args.path.display()),
        results: &judged.results,
        impact: &[],
        traffic: &traffic,
        snapshots: &Check::default(),
        color: args.reports.color.enabled(),
        context: &context,
        info: Some(&info),
    };
    run.emit(&args.reports)?;
    if let Some(damage) = damage {
        return Err(Failure::Usage(damage));
    }
    Ok(match Summary::exit_code(&judged.results) {
        exit::MISMATCH => exit::SUCCESS,
        code => code,
    })
}

/// Results in the capture's connection order, and the tally behind the impact lines.
#[derive(Default)]
struct Judged {
    results: Vec<CaseResult>,
    tally: TrafficTally,
}

impl Judged {
    /// Judges connection `id` (numbered by when it began).
    fn add(
        &mut self,
        id: u64,
        dialect: &'static dyn Dialect,
        capture: &CaptureFile,
        settings: &dialect::Settings,
    ) {
        let session = judge::judge(dialect, id as usize, capture, settings);
        self.tally.add(&session);
        self.results.push(session.result);
    }
}

/// A folder or a `.toml` file holds capture cases; anything else is a pcap.
fn is_capture_case(path: &Path) -> bool {
    path.is_dir() || path.extension().is_some_and(|e| e == "toml")
}

fn case_files(path: &Path) -> Result<Vec<PathBuf>, Failure> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Failure::Usage(format!("cannot list {}: {e}", path.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn read_case(path: &Path) -> Result<CaptureFile, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text)
        .map_err(|e| Failure::Usage(crate::source::from_toml(path, &text, &e).to_string()))
}
