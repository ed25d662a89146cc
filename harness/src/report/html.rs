//! A self-contained HTML report (no scripts, no network) for the people who decide: a
//! headline per target (what it would lock out or warn, in the population's unit) with an
//! inline SVG bar of its shares and the clients it turns away, largest first, with the
//! reason; then clients by their human name and share, a client's scripted and recorded cases
//! in one row (a cell says where they disagree), targets across with their policy phase, the
//! reason inside every warned or locked-out cell, a legend, and when, where and with what it
//! was made. Each verdict opens its transcript.

use super::clients::{ClientRow, client_rows};
use super::impact::{Impact, PopulationUnit};
use super::junit::transcript_text;
use super::{CaseResult, Check, Event, Finished, Sink};
use crate::judge::TrafficImpact;
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;
use std::io::{self, Write};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th small,td small{display:block;font-weight:normal;color:#555}
td a{color:inherit;text-decoration:none;display:block}td small a{display:inline;text-decoration:underline dotted}
.admitted{background:#c8f0c8}.warned{background:#fbe7a1}.locked-out{background:#f6b5b5}.error{background:#ccc}.undecided{background:#eee;color:#555}
td.mismatch{outline:3px solid #b00;outline-offset:-3px}.expected{color:#b00;font-weight:bold}
.disagree{background:repeating-linear-gradient(45deg,#fff,#fff 6px,#eee 6px,#eee 12px)}
td.disagree a{padding:.1em .3em;margin:.1em 0}
.legend span{display:inline-block;padding:.1em .5em;margin-right:.6em;border:1px solid #ccc}
.meta{color:#555}.reason{font-size:12px;color:#333;max-width:28em}
.headline{margin:1.2em 0 .3em}.headline h2{font-size:17px;margin:0 0 .3em}.headline ol{margin:.3em 0}
svg.shares rect.admitted{fill:#6cc66c}svg.shares rect.warned{fill:#f0c93a}svg.shares rect.locked-out{fill:#e06666}svg.shares rect.error{fill:#999}svg.shares rect.undecided{fill:#ddd}
.transcript{display:none;border:1px solid #999;padding:.5em 1em;margin:1em 0}.transcript:target{display:block}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto}";

/// The HTML page as a sink: the matrix needs every result, so the page is written at the end.
pub struct Html<'a> {
    out: Box<dyn Write + 'a>,
    suite: String,
    impact: Vec<Impact>,
    traffic: Vec<TrafficImpact>,
    /// Case id → share of the population, and what the shares count.
    shares: BTreeMap<String, f64>,
    unit: PopulationUnit,
    /// Target → what it enforces (the policy phase), where known.
    target_notes: BTreeMap<String, String>,
    /// `2026-11-27 07:30 UTC on HOST`.
    made: String,
    /// The hash that names what ran (`suite sha256`, `capture blake3`) and its value.
    named_hash: Option<(String, String)>,
}

impl<'a> Html<'a> {
    pub fn new(out: Box<dyn Write + 'a>) -> Html<'a> {
        Html {
            out,
            suite: String::new(),
            impact: Vec::new(),
            traffic: Vec::new(),
            shares: BTreeMap::new(),
            unit: PopulationUnit::Users,
            target_notes: BTreeMap::new(),
            made: String::new(),
            named_hash: None,
        }
    }
}

impl Sink for Html<'_> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started(header) => {
                self.suite = header.suite.clone();
                self.made = header.context.describe();
                if let Some(info) = &header.info {
                    self.shares = info.population.clone();
                    self.unit = info.population_unit;
                    self.target_notes = info.target_notes.clone();
                    self.named_hash = info
                        .named_hash()
                        .map(|h| (format!("{} {}", h.of, h.algorithm), h.hex.to_string()));
                }
            }
            Event::Impact(lines) => self.impact = lines.to_vec(),
            Event::Traffic(lines) => self.traffic = lines.to_vec(),
            Event::Finished(finished) => {
                let mut out = std::mem::replace(&mut self.out, Box::new(io::sink()));
                let written = write_html(&mut out, self, finished).and_then(|()| out.flush());
                self.out = out;
                written?;
            }
            Event::CaseFinished(_) | Event::TargetDone { .. } | Event::Snapshots(_) => {}
        }
        Ok(())
    }

    fn keeps_results(&self) -> bool {
        true
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const LEGEND: &[(VerdictKind, &str)] = &[
    (
        VerdictKind::Admitted,
        "reached the admission point, no upgrade asked",
    ),
    (VerdictKind::Warned, "admitted, but told to upgrade"),
    (
        VerdictKind::LockedOut,
        "turned away before the admission point",
    ),
    (VerdictKind::Error, "the harness could not judge"),
    (
        VerdictKind::Undecided,
        "the recorded session ended before any decision",
    ),
];

fn write_html(out: &mut dyn Write, page: &Html, finished: &Finished) -> io::Result<()> {
    let results = finished.results;
    let (targets, matrix) = finished.matrix;
    let rows = client_rows(results, matrix, &page.shares);
    let suite = escape(&page.suite);
    writeln!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>harness: {suite}</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(out, "<h1>harness: {suite}</h1>")?;
    let hash = page.named_hash.as_ref().map_or(String::new(), |(kind, h)| {
        format!(" · {kind} <code>{}</code>", escape(&h[..h.len().min(16)]))
    });
    writeln!(
        out,
        "<p class=\"meta\">run {} · harness {}{hash}</p>",
        escape(&page.made),
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        out,
        "<p class=\"summary\">{}</p>",
        finished.summary.sentence()
    )?;
    for line in &page.impact {
        write_headline(out, line)?;
    }
    write_traffic(out, &page.traffic)?;
    write!(out, "<p class=\"legend\">")?;
    for (kind, meaning) in LEGEND {
        write!(out, "<span class=\"{kind}\">{kind}: {meaning}</span>")?;
    }
    writeln!(
        out,
        "<span class=\"expected\">✗ expected …: the suite expected another verdict</span><span class=\"disagree\">striped: the client's scripted and recorded cases disagree</span></p>"
    )?;
    write!(
        out,
        "<table class=\"matrix\"><thead><tr><th>client<small>share of {}</small></th>",
        page.unit.as_str()
    )?;
    for target in targets {
        let note = page
            .target_notes
            .get(target)
            .map_or(String::new(), |n| format!("<small>{}</small>", escape(n)));
        write!(out, "<th>{}{note}</th>", escape(target))?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for row in &rows {
        write_row(out, results, row, page.unit)?;
    }
    writeln!(out, "</tbody></table>")?;
    for (i, r) in results.iter().enumerate() {
        writeln!(
            out,
            "<div class=\"transcript\" id=\"r{i}\"><h2>{} @ {}: {}</h2><p>stage {}: {}</p><p>decided by <code>{}</code></p><pre>{}</pre></div>",
            escape(&r.case),
            escape(&r.target),
            r.verdict.kind,
            escape(&r.verdict.stage),
            escape(&r.verdict.reason),
            escape(r.verdict.decided_by.as_deref().unwrap_or("-")),
            escape(&transcript_text(r))
        )?;
    }
    writeln!(out, "</body></html>")
}

/// A verdict opening its transcript, tinted by itself (inside a cell whose cases disagree),
/// with the expected verdict beside it when it differs.
fn write_link(
    out: &mut dyn Write,
    results: &[CaseResult],
    i: usize,
    label: &str,
) -> io::Result<()> {
    let r = &results[i];
    let expected = match (r.check(), r.expected) {
        (Check::Mismatch, Some(kind)) => {
            format!(" <span class=\"expected\">✗ expected {kind}</span>")
        }
        _ => String::new(),
    };
    // Why, in the cell itself, for every verdict that is not an admission.
    let reason = match r.verdict.kind {
        VerdictKind::Admitted => String::new(),
        _ => format!(
            "<small class=\"reason\">{}</small>",
            escape(&clip(&r.verdict.reason, 240))
        ),
    };
    write!(
        out,
        "<a class=\"{}\" href=\"#r{i}\" title=\"{}: {}\">{label}{}{expected}{reason}</a>",
        r.verdict.kind,
        escape(&r.case),
        escape(&r.verdict.reason),
        r.verdict.kind
    )
}

fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// One target's headline ("retire-v1 would lock out 36.1% of sessions: 13 of 36, from 6
/// clients"), its shares as an SVG bar, and the clients it locks out or warns.
fn write_headline(out: &mut dyn Write, impact: &Impact) -> io::Result<()> {
    writeln!(
        out,
        "<section class=\"headline\"><h2>{}</h2>",
        escape(&impact.headline())
    )?;
    const WIDTH: f64 = 480.0;
    let s = &impact.shares;
    let parts = [
        (VerdictKind::Admitted, s.admitted),
        (VerdictKind::Warned, s.warned),
        (VerdictKind::LockedOut, s.locked_out),
        (VerdictKind::Error, s.error),
        (VerdictKind::Undecided, s.undecided),
    ];
    write!(
        out,
        "<svg class=\"shares\" width=\"{WIDTH}\" height=\"20\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        escape(&impact.sentence()),
        escape(&impact.sentence())
    )?;
    let mut x = 0.0;
    for (kind, percent) in parts.into_iter().filter(|(_, p)| *p > 0.0) {
        let width = WIDTH * percent / 100.0;
        write!(
            out,
            "<rect class=\"{kind}\" x=\"{x:.1}\" y=\"0\" width=\"{width:.1}\" height=\"20\"><title>{percent:.1}% {kind}</title></rect>"
        )?;
        x += width;
    }
    writeln!(out, "</svg>")?;
    writeln!(
        out,
        "<p class=\"impact\">{}</p>",
        escape(&impact.sentence())
    )?;
    let lines = impact.client_lines();
    if !lines.is_empty() {
        writeln!(out, "<ol class=\"turned-away\">")?;
        for (client, line) in impact.clients.iter().zip(lines) {
            writeln!(
                out,
                "<li class=\"{}\">{}</li>",
                client.verdict,
                escape(&line)
            )?;
        }
        writeln!(out, "</ol>")?;
    }
    writeln!(out, "</section>")
}

fn write_row(
    out: &mut dyn Write,
    results: &[CaseResult],
    row: &ClientRow,
    unit: PopulationUnit,
) -> io::Result<()> {
    let share = row.share.map_or(String::new(), |s| {
        format!("<small>{s:.1}% of {}</small>", unit.as_str())
    });
    write!(out, "<tr><th>{}{share}</th>", escape(&row.name))?;
    for cell in &row.cells {
        let kinds: Vec<VerdictKind> = cell.iter().map(|(_, i)| results[*i].verdict.kind).collect();
        let agree = kinds.windows(2).all(|w| w[0] == w[1]);
        let mismatch = cell
            .iter()
            .any(|(_, i)| results[*i].check() == Check::Mismatch);
        let mut class = match (kinds.first(), agree) {
            (None, _) => String::new(),
            (Some(kind), true) => format!("verdict {kind}"),
            (Some(_), false) => "verdict disagree".to_string(),
        };
        if mismatch {
            class.push_str(" mismatch");
        }
        write!(out, "<td class=\"{class}\">")?;
        if agree && cell.len() > 1 {
            // One verdict, and the cases that agree on it, each still opening its transcript.
            let shown = cell
                .iter()
                .find(|(_, i)| results[*i].check() == Check::Mismatch)
                .unwrap_or(&cell[0]);
            write_link(out, results, shown.1, "")?;
            let others: Vec<String> = cell
                .iter()
                .map(|(origin, i)| format!("<a href=\"#r{i}\">{origin}</a>"))
                .collect();
            write!(out, "<small>{} agree</small>", others.join(", "))?;
        } else {
            for (origin, i) in cell {
                let label = if cell.len() > 1 {
                    format!("{origin}: ")
                } else {
                    String::new()
                };
                write_link(out, results, *i, &label)?;
            }
        }
        write!(out, "</td>")?;
    }
    writeln!(out, "</tr>")
}

/// The impact in recorded traffic (`harness judge`): per client, its sessions and accounts and
/// how the server treated them, the most sessions first.
fn write_traffic(out: &mut dyn Write, traffic: &[TrafficImpact]) -> io::Result<()> {
    if traffic.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<section class=\"traffic\"><h2>Impact in the recorded traffic</h2><table><thead><tr><th>client</th><th>sessions</th><th>accounts</th><th>share of decided sessions</th></tr></thead><tbody>"
    )?;
    for line in traffic {
        let accounts = match (line.accounts, line.accounts_at_least) {
            (0, _) => "-".to_string(),
            (n, true) => format!("at least {n}"),
            (n, false) => n.to_string(),
        };
        write!(
            out,
            "<tr><th>{}</th><td>{}</td><td>{accounts}</td><td>",
            escape(&line.client),
            line.sessions
        )?;
        for (kind, percent) in line.shares() {
            write!(out, "<span class=\"{kind}\">{percent:.1}% {kind}</span> ")?;
        }
        if let Some(n) = line.verdicts.get(VerdictKind::Undecided.as_str()) {
            write!(out, "<span class=\"undecided\">{n} undecided</span>")?;
        }
        writeln!(out, "</td></tr>")?;
    }
    writeln!(out, "</tbody></table></section>")
}
