//! The one renderer of messages: every transcript, recording and divergence that reaches a
//! person (snapshots, JUnit, HTML, `inspect`, the table's divergence lines) is shown as its
//! dialect describes it, a message per arrow.

use crate::dialect::{self, Dialect};
use crate::direction::Direction;
use crate::runner::{Data, Transcript};

/// Whether volatile values (challenges, nonces) are replaced: snapshots must be repeatable,
/// reports may show what was said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redaction {
    Redacted,
    AsSent,
}

/// A message's lines as its dialect describes it; a dialect this build does not know (a
/// result file from elsewhere) gets the generic description.
pub fn describe(dialect: Option<&dyn Dialect>, from: Direction, bytes: &[u8]) -> String {
    match dialect {
        Some(dialect) => dialect.describe(from, bytes),
        None => dialect::describe_unframed(bytes),
    }
}

/// The bytes a transcript entry holds.
pub fn bytes_of(data: &Data) -> Vec<u8> {
    match data {
        Data::Text(text) => text.as_bytes().to_vec(),
        Data::Hex(hex) => hex::decode(hex).unwrap_or_default(),
    }
}

/// One message as transcript lines: `> first line`, then its further lines indented.
pub fn message(
    dialect: Option<&dyn Dialect>,
    from: Direction,
    bytes: &[u8],
    redaction: Redaction,
) -> Vec<String> {
    let described = describe(dialect, from, bytes);
    described
        .split('\n')
        .enumerate()
        .map(|(i, line)| {
            let line = match (redaction, dialect) {
                (Redaction::Redacted, Some(d)) => d.redact(line),
                _ => line.to_string(),
            };
            let prefix = if i == 0 { from.arrow() } else { " " };
            format!("{prefix} {line}").trim_end().to_string()
        })
        .collect()
}

/// A whole transcript, a line per element; bytes past the cap are counted at the end.
pub fn transcript(
    dialect: Option<&dyn Dialect>,
    transcript: &Transcript,
    redaction: Redaction,
) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in &transcript.entries {
        lines.extend(message(
            dialect,
            entry.direction,
            &bytes_of(&entry.data),
            redaction,
        ));
    }
    if transcript.dropped_bytes > 0 {
        lines.push(format!(
            "({} more bytes not kept)",
            transcript.dropped_bytes
        ));
    }
    lines
}
