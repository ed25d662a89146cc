//! A result as snapshot text: deterministic, redacted by the dialect, one message per line.

use crate::dialect::Dialect;
use crate::report::CaseResult;
use crate::runner::{Data, Direction};
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
    for entry in &result.transcript.entries {
        let arrow = match entry.direction {
            Direction::Client => ">",
            Direction::Server => "<",
        };
        match &entry.data {
            Data::Text(text) => {
                let text = text.strip_suffix("\r\n").unwrap_or(text);
                for (i, line) in text.split("\r\n").enumerate() {
                    let prefix = if i == 0 { arrow } else { " " };
                    let line = format!("  {prefix} {}", dialect.redact(line));
                    let _ = writeln!(out, "{}", line.trim_end());
                }
            }
            // Binary messages as the dialect describes them: random bytes never reach a snapshot.
            Data::Hex(hex) => {
                let bytes = ::hex::decode(hex).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {arrow} {}",
                    dialect.redact(&dialect.describe(entry.direction, &bytes))
                );
            }
        }
    }
    if result.transcript.dropped_bytes > 0 {
        let _ = writeln!(
            out,
            "  ({} more bytes not kept)",
            result.transcript.dropped_bytes
        );
    }
    out
}
