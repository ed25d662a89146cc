//! A self-contained HTML report (no scripts, no network) for the people who decide: clients
//! by their human name and share of users, a client's scripted and recorded cases in one row
//! (a cell says where they disagree), targets across with their policy phase, a legend, and
//! when, where and with what it was made. Each verdict opens its transcript.

use super::clients::{ClientRow, client_rows};
use super::impact::Impact;
use super::junit::transcript_text;
use super::{CaseResult, Check, Summary};
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
.meta{color:#555}
.transcript{display:none;border:1px solid #999;padding:.5em 1em;margin:1em 0}.transcript:target{display:block}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto}";

/// What the page shows besides the results.
pub struct Page<'a> {
    pub suite: &'a str,
    pub results: &'a [CaseResult],
    pub impact: &'a [Impact],
    /// Case id → share of users.
    pub shares: &'a BTreeMap<String, f64>,
    /// Target → what it enforces (the policy phase), where known.
    pub target_notes: &'a BTreeMap<String, String>,
    /// `2026-11-27 07:30 UTC on HOST`.
    pub made: String,
    pub suite_sha256: Option<&'a str>,
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

pub fn write_html(out: &mut dyn Write, page: &Page) -> io::Result<()> {
    let (targets, rows) = client_rows(page.results, page.shares);
    let suite = escape(page.suite);
    writeln!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>harness: {suite}</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(out, "<h1>harness: {suite}</h1>")?;
    let hash = page.suite_sha256.map_or(String::new(), |h| {
        format!(
            " · suite sha256 <code>{}</code>",
            escape(&h[..h.len().min(16)])
        )
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
        Summary::of(page.results).sentence()
    )?;
    if !page.impact.is_empty() {
        writeln!(out, "<ul class=\"impact\">")?;
        for line in page.impact {
            writeln!(out, "<li>{}</li>", escape(&line.sentence()))?;
        }
        writeln!(out, "</ul>")?;
    }
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
        "<table class=\"matrix\"><thead><tr><th>client<small>share of users</small></th>"
    )?;
    for target in &targets {
        let note = page
            .target_notes
            .get(target)
            .map_or(String::new(), |n| format!("<small>{}</small>", escape(n)));
        write!(out, "<th>{}{note}</th>", escape(target))?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for row in &rows {
        write_row(out, page.results, row)?;
    }
    writeln!(out, "</tbody></table>")?;
    for (i, r) in page.results.iter().enumerate() {
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
    write!(
        out,
        "<a class=\"{}\" href=\"#r{i}\" title=\"{}: {}\">{label}{}{expected}</a>",
        r.verdict.kind,
        escape(&r.case),
        escape(&r.verdict.reason),
        r.verdict.kind
    )
}

fn write_row(out: &mut dyn Write, results: &[CaseResult], row: &ClientRow) -> io::Result<()> {
    let share = row.share.map_or(String::new(), |s| {
        format!("<small>{s:.1}% of users</small>")
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
