//! The table for people: one row per (client, target), the verdict, ✓/✗ against the
//! expectation, the stage and the server message that decided; the client by the name reports
//! give it, with its case file's id beside it where the two differ; the reason under every row not admitted
//! or that failed; the impact per target with the clients it locks out or warns.

use super::{CaseResult, Check, Event, Sink, Summary};
use crate::printable::escape_controls;
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

/// The table as a sink: each row is kept as its cells (not the result: no transcript), and
/// the table written at the end, when the column widths are known; then the summary line,
/// the impact lines and the traffic impact.
pub struct Table<'a> {
    out: Box<dyn Write + 'a>,
    color: bool,
    rows: Vec<Row>,
    impact: Vec<super::Impact>,
    traffic: Vec<crate::judge::TrafficImpact>,
}

/// The columns, in order; CASE is left out when every row's case id is its client name, and
/// is SESSIONS in judged traffic, where each row stands for some of a client's sessions.
const HEADER: [&str; 7] = [
    "CLIENT",
    "CASE",
    "TARGET",
    "VERDICT",
    "EXPECTED",
    "STAGE",
    "DECIDED BY",
];
const CASE_COLUMN: usize = 1;
const VERDICT_COLUMN: usize = 3;
const EXPECTED_COLUMN: usize = 4;

struct Row {
    cells: [String; 7],
    kind: VerdictKind,
    mismatch: bool,
    /// Lines under the row: the reason it failed, where a replay differed.
    notes: Vec<String>,
}

impl<'a> Table<'a> {
    pub fn new(out: Box<dyn Write + 'a>, color: bool) -> Table<'a> {
        Table {
            out,
            color,
            rows: Vec::new(),
            impact: Vec::new(),
            traffic: Vec::new(),
        }
    }

    fn row(r: &CaseResult) -> Row {
        let expected = match (r.check(), r.expected) {
            (Check::AsExpected, Some(kind)) => format!("✓ {kind}"),
            (Check::Mismatch, Some(kind)) => format!("✗ {kind}"),
            _ => "-".to_string(),
        };
        let mut notes = Vec::new();
        // Why: for every row not admitted, and for every row that failed.
        if r.check() == Check::Mismatch
            || r.is_unexpected_error()
            || r.verdict.kind != VerdictKind::Admitted
        {
            notes.push(format!("    ↳ {}", r.verdict.reason));
        }
        for d in &r.divergences {
            let (recorded, live) = first_difference(r.dialect, &d.recorded, &d.live);
            notes.push(format!(
                "    ↳ differs from the recording at step {}: recorded `{}`, live `{}`",
                d.step,
                clip(&recorded, 60),
                clip(&live, 60)
            ));
        }
        let verdict = if r.verdict.is_busy() {
            format!("{} (busy)", r.verdict.kind)
        } else {
            r.verdict.kind.to_string()
        };
        let notes = notes
            .into_iter()
            .map(|n| escape_controls(&n).into_owned())
            .collect();
        Row {
            cells: [
                r.name.clone(),
                r.sessions.map_or_else(|| r.case.clone(), |s| s.to_string()),
                r.target.clone(),
                verdict,
                expected,
                r.verdict.stage.clone(),
                clip(
                    r.verdict.decided_by.as_deref().unwrap_or("-"),
                    DECIDED_BY_WIDTH,
                ),
            ]
            .map(|cell| escape_controls(&cell).into_owned()),
            kind: r.verdict.kind,
            mismatch: r.check() == Check::Mismatch,
            notes,
        }
    }

    fn write(&mut self, s: &Summary) -> io::Result<()> {
        let out = &mut self.out;
        // A judged row stands for a client's sessions with one verdict: `2 of 3 sessions`.
        let judged = !self.traffic.is_empty();
        let show_case = self.rows.iter().any(|row| row.cells[0] != row.cells[1]);
        let columns: Vec<usize> = (0..HEADER.len())
            .filter(|&i| show_case || i != CASE_COLUMN)
            .collect();
        let header: Vec<String> = columns
            .iter()
            .map(|&i| match i {
                CASE_COLUMN if judged => "SESSIONS".to_string(),
                _ => HEADER[i].to_string(),
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, &i) in widths.iter_mut().zip(&columns) {
                *width = (*width).max(row.cells[i].chars().count());
            }
        }
        write_row(out, &header, &widths, None)?;
        for row in &self.rows {
            let styles = self.color.then(|| {
                let expected = if row.mismatch { "\x1b[1;31m" } else { "" };
                [paint(row.kind), expected]
            });
            let cells: Vec<String> = columns.iter().map(|&i| row.cells[i].clone()).collect();
            let at = |column: usize| columns.iter().position(|&i| i == column);
            let styled = styles.map(|[verdict, expected]| {
                [
                    (at(VERDICT_COLUMN), verdict),
                    (at(EXPECTED_COLUMN), expected),
                ]
            });
            write_row(out, &cells, &widths, styled)?;
            for note in &row.notes {
                writeln!(out, "{note}")?;
            }
        }
        writeln!(out)?;
        // A judged report's rows are its clients: its totals are the sessions'.
        if self.traffic.is_empty() {
            writeln!(
                out,
                "{} results: {}; {} as expected, {} mismatched, {} unchecked",
                s.results,
                s.verdict_counts(),
                s.as_expected,
                s.mismatched,
                s.unchecked
            )?;
        }
        for line in &self.impact {
            writeln!(out, "impact {}", line.sentence())?;
            for client in line.client_lines() {
                writeln!(out, "    {client}")?;
            }
        }
        if !self.traffic.is_empty() {
            writeln!(out, "{}", crate::judge::totals(&self.traffic))?;
        }
        for line in &self.traffic {
            writeln!(out, "impact: {}", line.sentence())?;
        }
        out.flush()
    }
}

impl Sink for Table<'_> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::CaseFinished(result) => self.rows.push(Table::row(result)),
            Event::Impact(lines) => self.impact = lines.to_vec(),
            Event::Traffic(lines) => self.traffic = lines.to_vec(),
            Event::Finished(finished) => self.write(finished.summary)?,
            Event::Started(_) | Event::TargetDone { .. } | Event::Snapshots(_) => {}
        }
        Ok(())
    }
}

/// One aligned row; `styles` colours the verdict and expectation cells, given by position.
fn write_row(
    out: &mut dyn Write,
    cells: &[String],
    widths: &[usize],
    styles: Option<[(Option<usize>, &str); 2]>,
) -> io::Result<()> {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let style = styles
            .into_iter()
            .flatten()
            .find(|(at, style)| *at == Some(i) && !style.is_empty());
        match style {
            Some((_, style)) => line.push_str(&format!("{style}{cell}\x1b[0m")),
            None => line.push_str(cell),
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
