//! The table for people: one row per (case, target), the verdict, ✓/✗ against the expectation,
//! the stage and the server message that decided; the reason under every row that failed.

use super::{CaseResult, Check, Summary};
use crate::verdict::VerdictKind;
use std::io::{self, Write};

const DECIDED_BY_WIDTH: usize = 72;

/// ANSI colour of a verdict: green, yellow, red, magenta.
fn paint(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Admitted => "\x1b[32m",
        VerdictKind::Warned => "\x1b[33m",
        VerdictKind::LockedOut => "\x1b[31m",
        VerdictKind::Error => "\x1b[35m",
        VerdictKind::Undecided => "\x1b[2m",
    }
}

pub fn write_table(out: &mut dyn Write, results: &[CaseResult], color: bool) -> io::Result<()> {
    let rows: Vec<[String; 6]> = results
        .iter()
        .map(|r| {
            let expected = match (r.check(), r.expected) {
                (Check::AsExpected, Some(kind)) => format!("✓ {kind}"),
                (Check::Mismatch, Some(kind)) => format!("✗ {kind}"),
                _ => "-".to_string(),
            };
            [
                r.case.clone(),
                r.target.clone(),
                r.verdict.kind.to_string(),
                expected,
                r.verdict.stage.clone(),
                clip(
                    r.verdict.decided_by.as_deref().unwrap_or("-"),
                    DECIDED_BY_WIDTH,
                ),
            ]
        })
        .collect();
    let header = [
        "CASE",
        "TARGET",
        "VERDICT",
        "EXPECTED",
        "STAGE",
        "DECIDED BY",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    write_row(out, &header, &widths, None)?;
    for (row, result) in rows.iter().zip(results) {
        let styles = color.then(|| {
            let expected = match result.check() {
                Check::Mismatch => "\x1b[1;31m",
                _ => "",
            };
            [paint(result.verdict.kind), expected]
        });
        write_row(out, row, &widths, styles)?;
        if result.check() == Check::Mismatch || result.is_unexpected_error() {
            writeln!(out, "    ↳ {}", result.verdict.reason)?;
        }
        for d in &result.divergences {
            let (recorded, live) = first_difference(result.dialect, &d.recorded, &d.live);
            writeln!(
                out,
                "    ↳ differs from the recording at step {}: recorded `{}`, live `{}`",
                d.step,
                clip(&recorded, 60),
                clip(&live, 60)
            )?;
        }
    }
    let s = Summary::of(results);
    writeln!(out)?;
    writeln!(
        out,
        "{} results: {}; {} as expected, {} mismatched, {} unchecked",
        s.results,
        s.verdict_counts(),
        s.as_expected,
        s.mismatched,
        s.unchecked
    )
}

/// One aligned row; `styles` colours the verdict and expectation cells.
fn write_row(
    out: &mut dyn Write,
    cells: &[String; 6],
    widths: &[usize; 6],
    styles: Option<[&str; 2]>,
) -> io::Result<()> {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        match styles.map(|s| {
            if i == 2 {
                s[0]
            } else if i == 3 {
                s[1]
            } else {
                ""
            }
        }) {
            Some(style) if !style.is_empty() => line.push_str(&format!("{style}{cell}\x1b[0m")),
            _ => line.push_str(cell),
        }
        if i + 1 < cells.len() {
            line.push_str(&" ".repeat(width - cell.chars().count() + 2));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// The first line where a recorded and a live reply differ in meaning (as the dialect
/// normalizes them), so a reply of many lines shows what changed, not what it starts with.
fn first_difference(dialect: &str, recorded: &str, live: &str) -> (String, String) {
    let (recorded, live) = match crate::dialect::by_name(dialect) {
        Some(d) => (d.normalize(recorded), d.normalize(live)),
        None => (recorded.to_string(), live.to_string()),
    };
    let (mut r, mut l) = (recorded.lines(), live.lines());
    loop {
        match (r.next(), l.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => break,
            (a, b) => {
                let shown = |line: Option<&str>| line.unwrap_or("(nothing)").to_string();
                return (shown(a), shown(b));
            }
        }
    }
    let first = |t: &str| t.lines().next().unwrap_or("").to_string();
    (first(&recorded), first(&live))
}

fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
