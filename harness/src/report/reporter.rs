//! The reporter: takes results as they come, tallies the summary, impact and snapshot check
//! once, and hands every event to every sink in order. A sink that fails is named and left
//! out from then on; the others go on.

use super::event::{Event, Finished, Header, Sink};
use super::impact::ImpactTally;
use super::{CaseResult, RunInfo, Summary, matrix};
use crate::judge::TrafficImpact;
use crate::snapshot::{Check, Checker};
use std::io;

struct Entry<'a> {
    sink: Box<dyn Sink + 'a>,
    /// What failed, for the message: `cannot write a report file: out/junit.xml`.
    what: String,
    /// A closed pipe is the reader's choice, not a failure.
    pipe: bool,
    broken: bool,
}

/// How the run ended: its exit code, and what could not be written.
pub struct Outcome {
    pub exit_code: i32,
    /// The snapshot check failed (new, changed or obsolete snapshots).
    pub snapshots_failed: bool,
    pub failures: Vec<String>,
}

#[derive(Default)]
pub struct Reporter<'a> {
    sinks: Vec<Entry<'a>>,
    summary: Summary,
    impact: ImpactTally,
    checker: Option<Checker>,
    check: Option<Check>,
    traffic: Vec<TrafficImpact>,
    kept: Vec<CaseResult>,
    keep: bool,
    failures: Vec<String>,
}

impl<'a> Reporter<'a> {
    pub fn new() -> Reporter<'a> {
        Reporter::default()
    }

    /// A sink; `what` names it in a failure (`cannot write the report`).
    pub fn add(&mut self, sink: Box<dyn Sink + 'a>, what: impl Into<String>) {
        self.keep |= sink.keeps_results();
        self.sinks.push(Entry {
            sink,
            what: what.into(),
            pipe: false,
            broken: false,
        });
    }

    /// A sink on stdout: a closed pipe (`harness run ... | head`) is not a failure.
    pub fn add_stdout(&mut self, sink: Box<dyn Sink + 'a>) {
        self.add(sink, "cannot write the report");
        if let Some(entry) = self.sinks.last_mut() {
            entry.pipe = true;
        }
    }

    /// A failure that happened beside the stream (a report file that could not be created).
    pub fn failed(&mut self, failure: String) {
        self.failures.push(failure);
    }

    /// Compares each result with its snapshot as it arrives.
    pub fn check_snapshots(&mut self, checker: Checker) {
        self.checker = Some(checker);
    }

    fn emit(&mut self, event: &Event<'_>) {
        for entry in self.sinks.iter_mut().filter(|e| !e.broken) {
            if let Err(e) = entry.sink.event(event) {
                entry.broken = true;
                if !(entry.pipe && e.kind() == io::ErrorKind::BrokenPipe) {
                    self.failures.push(format!("{}: {e}", entry.what));
                }
            }
        }
    }

    pub fn start(&mut self, header: &Header) {
        let population = header
            .info
            .as_ref()
            .map(RunInfo::population)
            .unwrap_or_default();
        self.impact = ImpactTally::new(population);
        self.emit(&Event::Started(header));
    }

    /// One result, as its case finishes.
    pub fn case(&mut self, result: CaseResult) {
        self.summary.add(&result);
        self.impact.add(&result);
        if let Some(checker) = &mut self.checker
            && let Err(e) = checker.add(&result)
        {
            self.failures.push(format!("cannot write snapshots: {e}"));
            self.checker = None;
        }
        self.emit(&Event::CaseFinished(&result));
        if self.keep {
            self.kept.push(result);
        }
    }

    /// Load mode: every handshake against `target` is done.
    pub fn target_done(&mut self, target: &str, elapsed: std::time::Duration) {
        self.emit(&Event::TargetDone { target, elapsed });
    }

    /// Impact counted from recorded traffic, reported at the end.
    pub fn traffic(&mut self, lines: Vec<TrafficImpact>) {
        self.traffic = lines;
    }

    /// A snapshot check made elsewhere (the shards' checks, merged).
    pub fn snapshots(&mut self, check: Check) {
        self.check = Some(check);
    }

    /// The end: impact, traffic, the snapshot check, then the totals.
    pub fn finish(mut self) -> Outcome {
        let impact = self.impact.lines();
        self.emit(&Event::Impact(&impact));
        let traffic = std::mem::take(&mut self.traffic);
        if !traffic.is_empty() {
            self.emit(&Event::Traffic(&traffic));
        }
        let mut check = self.check.take();
        if let Some(checker) = self.checker.take() {
            match checker.finish() {
                Ok(made) => check = Some(made),
                Err(e) => self.failures.push(format!("cannot write snapshots: {e}")),
            }
        }
        if let Some(check) = &check {
            self.emit(&Event::Snapshots(check));
        }
        let failed = check.as_ref().is_some_and(Check::failed);
        let kept = std::mem::take(&mut self.kept);
        let summary = std::mem::take(&mut self.summary);
        let finished = Finished {
            summary: &summary,
            exit_code: summary.exit_code(failed),
            results: &kept,
            matrix: &matrix(&kept),
        };
        self.emit(&Event::Finished(&finished));
        Outcome {
            exit_code: finished.exit_code,
            snapshots_failed: failed,
            failures: self.failures,
        }
    }
}
