//! JSON Lines for machines: one `{"type":"result",...}` object per result, then one
//! `{"type":"summary",...}`.

use super::{CaseResult, Check, Summary};
use crate::runner::{Divergence, Transcript};
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct ResultLine<'a> {
    r#type: &'static str,
    case: &'a str,
    name: &'a str,
    target: &'a str,
    verdict: &'static str,
    expected: Option<&'static str>,
    matches: Option<bool>,
    stage: &'a str,
    reason: &'a str,
    decided_by: Option<&'a str>,
    duration_ms: f64,
    divergences: &'a [Divergence],
    transcript: &'a Transcript,
}

#[derive(Serialize)]
struct SummaryLine {
    r#type: &'static str,
    #[serde(flatten)]
    summary: Summary,
    exit_code: i32,
}

pub fn write_jsonl(out: &mut dyn Write, results: &[CaseResult]) -> io::Result<()> {
    for r in results {
        let line = ResultLine {
            r#type: "result",
            case: &r.case,
            name: &r.name,
            target: &r.target,
            verdict: r.verdict.kind.as_str(),
            expected: r.expected.map(|k| k.as_str()),
            matches: match r.check() {
                Check::AsExpected => Some(true),
                Check::Mismatch => Some(false),
                Check::Unchecked => None,
            },
            stage: &r.verdict.stage,
            reason: &r.verdict.reason,
            decided_by: r.verdict.decided_by.as_deref(),
            duration_ms: (r.duration.as_secs_f64() * 1e6).round() / 1e3,
            divergences: &r.divergences,
            transcript: &r.transcript,
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
