//! JUnit XML (quick-junit) for CI systems: one test suite per target, one test case per
//! result; a mismatch is a failure and an unexpected harness error an error, each carrying
//! the reason and the transcript; a changed or missing snapshot fails its test case too.

use super::{CaseResult, Check};
use crate::render::{self, Redaction};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Snapshot problems by `CASE@TARGET`: a diff, or a note that none is stored.
pub type SnapshotProblems = BTreeMap<String, String>;

/// When and where a run happened, for the attributes strict JUnit consumers require.
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

pub fn write_junit(
    out: &mut dyn Write,
    suite: &str,
    results: &[CaseResult],
    snapshots: &SnapshotProblems,
    context: &RunContext,
) -> io::Result<()> {
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
                suites.push(suite);
                suites.len() - 1
            }
        };
        let time = suites[index].time.unwrap_or_default() + result.duration;
        suites[index].set_time(time);
        let transcript = transcript_text(result);
        let snapshot = result
            .suite_target
            .as_ref()
            .and_then(|t| snapshots.get(&format!("{}@{t}", result.case)));
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
        let mut case = TestCase::new(result.case.clone(), status);
        case.set_classname(format!("{suite}.{}", result.target));
        case.set_time(result.duration);
        case.set_system_out(format!(
            "verdict: {}\nstage: {}\nreason: {}\n{transcript}",
            result.verdict.kind, result.verdict.stage, result.verdict.reason
        ));
        suites[index].add_test_case(case);
    }
    report.add_test_suites(suites);
    report.serialize(out).map_err(io::Error::other)
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
        text.push_str(&line);
        text.push('\n');
    }
    text
}
