//! A self-contained HTML report (no scripts, no network): the compatibility matrix, clients
//! down and targets across, each cell coloured by verdict and opening its transcript.

use super::impact::Impact;
use super::junit::transcript_text;
use super::{CaseResult, Check, Summary, matrix};
use crate::verdict::VerdictKind;
use std::io::{self, Write};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
td a{color:inherit;text-decoration:none;display:block}
td.admitted{background:#c8f0c8}td.warned{background:#fbe7a1}td.locked-out{background:#f6b5b5}td.error{background:#ccc}td.undecided{background:#eee;color:#555}
td.mismatch{outline:3px solid #b00;outline-offset:-3px}
.transcript{display:none;border:1px solid #999;padding:.5em 1em;margin:1em 0}.transcript:target{display:block}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn class(kind: VerdictKind) -> &'static str {
    kind.as_str()
}

pub fn write_html(
    out: &mut dyn Write,
    suite: &str,
    results: &[CaseResult],
    impact: &[Impact],
) -> io::Result<()> {
    let (targets, rows) = matrix(results);
    writeln!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>harness: {}</title><style>{STYLE}</style></head><body>",
        escape(suite)
    )?;
    writeln!(out, "<h1>harness: {}</h1>", escape(suite))?;
    writeln!(
        out,
        "<p class=\"summary\">{}</p>",
        Summary::of(results).sentence()
    )?;
    if !impact.is_empty() {
        writeln!(out, "<ul class=\"impact\">")?;
        for line in impact {
            writeln!(out, "<li>{}</li>", escape(&line.sentence()))?;
        }
        writeln!(out, "</ul>")?;
    }
    write!(out, "<table class=\"matrix\"><thead><tr><th>client</th>")?;
    for target in &targets {
        write!(out, "<th>{}</th>", escape(target))?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for (case, cells) in &rows {
        write!(out, "<tr><th>{}</th>", escape(case))?;
        for cell in cells {
            match cell {
                Some(i) => {
                    let r = &results[*i];
                    let mismatch = if r.check() == Check::Mismatch {
                        " mismatch"
                    } else {
                        ""
                    };
                    let expected = match (r.check(), r.expected) {
                        (Check::Mismatch, Some(kind)) => format!(" ✗ expected {kind}"),
                        _ => String::new(),
                    };
                    write!(
                        out,
                        "<td class=\"verdict {}{mismatch}\" title=\"{}\"><a href=\"#r{}\">{}{}</a></td>",
                        class(r.verdict.kind),
                        escape(&r.verdict.reason),
                        i,
                        r.verdict.kind,
                        escape(&expected)
                    )?;
                }
                None => write!(out, "<td></td>")?,
            }
        }
        writeln!(out, "</tr>")?;
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
