//! JUnit XML (quick-junit) for CI systems: one test suite per target, one test case per
//! result; a mismatch is a failure and an unexpected harness error an error, each carrying
//! the reason and the transcript; a changed or missing snapshot fails its test case too; each
//! test suite carries the impact lines as properties.

use super::{CaseResult, Check, Event, Impact, Sink};
use crate::judge::TrafficImpact;
use crate::printable::escape_controls;
use crate::render::{self, Redaction};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// When and where a run happened, for the attributes strict JUnit consumers require.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub started: std::time::SystemTime,
    pub hostname: String,
}

impl RunContext {
    /// `2026-11-27 07:30 UTC on HOST`.
    pub fn describe(&self) -> String {
        let started: chrono::DateTime<chrono::Utc> = self.started.into();
        format!(
            "{} on {}",
            started.format("%Y-%m-%d %H:%M UTC"),
            self.hostname
        )
    }

    /// A run starting now, on this machine.
    pub fn now() -> RunContext {
        RunContext {
            started: std::time::SystemTime::now(),
            hostname: rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned(),
        }
    }
}

/// JUnit as a sink: the document needs every result, so it is written at the end. Each test
/// suite (a target) carries its impact as properties and in its system-out: the population
/// impact for that target, and the traffic impact of a judged capture (counted over the whole
/// capture, so every suite carries all of it).
pub struct Junit<'a> {
    out: Box<dyn Write + 'a>,
    suite: String,
    context: Option<RunContext>,
    impact: Vec<Impact>,
    traffic: Vec<TrafficImpact>,
    problems: BTreeMap<String, String>,
}

impl<'a> Junit<'a> {
    pub fn new(out: Box<dyn Write + 'a>) -> Junit<'a> {
        Junit {
            out,
            suite: String::new(),
            context: None,
            impact: Vec::new(),
            traffic: Vec::new(),
            problems: BTreeMap::new(),
        }
    }

    fn write(&mut self, results: &[CaseResult]) -> io::Result<()> {
        let context = self.context.take().unwrap_or_else(RunContext::now);
        let suite = &self.suite;
        let mut report = Report::new(format!("harness {suite}"));
        let started: chrono::DateTime<chrono::Utc> = context.started.into();
        let started = started.fixed_offset();
        report.set_timestamp(started);
        report.set_time(results.iter().map(|r| r.duration).sum());
        let mut suites: Vec<TestSuite> = Vec::new();
        for result in results {
            let index = match suites.iter().position(|s| s.name.as_str() == result.target) {
                Some(i) => i,
                None => {
                    let mut suite = TestSuite::new(result.target.clone());
                    suite.set_timestamp(started);
                    suite.set_time(std::time::Duration::ZERO);
                    suite
                        .extra
                        .insert("hostname".into(), context.hostname.clone().into());
                    self.add_impact(&mut suite, &result.target);
                    suites.push(suite);
                    suites.len() - 1
                }
            };
            let time = suites[index].time.unwrap_or_default() + result.duration;
            suites[index].set_time(time);
            suites[index].add_test_case(self.test_case(result));
        }
        report.add_test_suites(suites);
        report.serialize(&mut self.out).map_err(io::Error::other)?;
        self.out.flush()
    }

    /// The impact lines that concern `target`, as properties and as the suite's system-out.
    fn add_impact(&self, suite: &mut TestSuite, target: &str) {
        let mut text = String::new();
        for line in self.impact.iter().filter(|i| i.target == target) {
            suite.add_property(Property::new("impact", line.sentence()));
            suite.add_property(Property::new("headline", line.headline()));
            text.push_str(&format!(
                "{}\nimpact {}\n",
                line.headline(),
                line.sentence()
            ));
            for client in line.client_lines() {
                text.push_str(&format!("    {client}\n"));
            }
        }
        for line in &self.traffic {
            suite.add_property(Property::new("traffic impact", line.sentence()));
            text.push_str(&format!("impact: {}\n", line.sentence()));
        }
        if !text.is_empty() {
            suite.set_system_out(text);
        }
    }

    fn test_case(&self, result: &CaseResult) -> TestCase {
        let transcript = transcript_text(result);
        let snapshot = result
            .suite_target
            .as_ref()
            .and_then(|t| self.problems.get(&format!("{}@{t}", result.case)));
        let status = match (result.check(), result.is_unexpected_error(), snapshot) {
            (_, true, _) => failure(NonSuccessKind::Error, result, &transcript),
            (Check::Mismatch, false, _) => failure(NonSuccessKind::Failure, result, &transcript),
            (_, false, Some(diff)) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message("snapshot differs");
                status.set_type("snapshot");
                status.set_description(diff.clone());
                status
            }
            (Check::AsExpected | Check::Unchecked, false, None) => TestCaseStatus::success(),
        };
        let mut case = TestCase::new(escape_controls(&result.case).into_owned(), status);
        case.set_classname(format!("{}.{}", self.suite, result.target));
        case.set_time(result.duration);
        case.set_system_out(format!(
            "client: {}\nverdict: {}\nstage: {}\nreason: {}\n{transcript}",
            escape_controls(&result.name),
            result.verdict.kind,
            result.verdict.stage,
            result.verdict.reason
        ));
        case
    }
}

impl Sink for Junit<'_> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started(header) => {
                self.suite = header.suite.clone();
                self.context = Some(header.context.clone());
            }
            Event::Impact(lines) => self.impact = lines.to_vec(),
            Event::Traffic(lines) => self.traffic = lines.to_vec(),
            Event::Snapshots(check) => self.problems = check.problems(),
            Event::Finished(finished) => self.write(finished.results)?,
            Event::CaseFinished(_) | Event::TargetDone { .. } => {}
        }
        Ok(())
    }

    fn keeps_results(&self) -> bool {
        true
    }
}

fn failure(kind: NonSuccessKind, result: &CaseResult, transcript: &str) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    let expected = result
        .expected
        .map_or_else(|| "no expectation".to_string(), |k| format!("expected {k}"));
    status.set_message(format!(
        "{}, got {}: {}",
        expected, result.verdict.kind, result.verdict.reason
    ));
    status.set_type(result.verdict.kind.as_str());
    status.set_description(transcript.to_string());
    status
}

/// The transcript as `> sent` and `< received` lines, each message as its dialect describes it.
pub fn transcript_text(result: &CaseResult) -> String {
    let mut text = String::new();
    for line in render::transcript(
        crate::dialect::by_name(result.dialect),
        &result.transcript,
        Redaction::AsSent,
    ) {
        text.push_str(&escape_controls(&line));
        text.push('\n');
    }
    text
}
