//! A result as snapshot text: deterministic, redacted by the dialect, one message per line.

use crate::dialect::Dialect;
use crate::render::{self, Redaction};
use crate::report::CaseResult;
use std::fmt::Write;

pub fn render(result: &CaseResult, dialect: &dyn Dialect) -> String {
    let v = &result.verdict;
    let mut out = String::new();
    let _ = writeln!(out, "case: {} ({})", result.case, result.name);
    let _ = writeln!(out, "verdict: {}", v.kind);
    let _ = writeln!(out, "stage: {}", v.stage);
    let _ = writeln!(
        out,
        "decided by: {}",
        dialect.redact(v.decided_by.as_deref().unwrap_or("-"))
    );
    let _ = writeln!(out, "reason: {}", dialect.redact(&v.reason));
    for d in &result.divergences {
        let _ = writeln!(out, "differs from the recording at step {}:", d.step);
        let _ = writeln!(out, "  recorded: {}", dialect.redact(&d.recorded));
        let _ = writeln!(out, "  live:     {}", dialect.redact(&d.live));
    }
    let _ = writeln!(out, "transcript:");
    for line in render::transcript(Some(dialect), &result.transcript, Redaction::Redacted) {
        let _ = writeln!(out, "{}", format!("  {line}").trim_end());
    }
    out
}
