//! A Markdown compatibility matrix for pull-request comments: clients down, targets across.

use super::impact::Impact;
use super::{Check, Event, Finished, Sink};
use crate::judge::TrafficImpact;
use crate::verdict::VerdictKind;
use std::io::{self, Write};

pub fn symbol(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Admitted => "🟢 admitted",
        VerdictKind::Warned => "🟡 warned",
        VerdictKind::LockedOut => "🔴 locked out",
        VerdictKind::Error => "⚠️ error",
        VerdictKind::Undecided => "⚪ undecided",
    }
}

/// Markdown as a sink: the matrix needs every result, so it is written at the end.
pub struct Markdown<'a> {
    out: Box<dyn Write + 'a>,
    suite: String,
    impact: Vec<Impact>,
    traffic: Vec<TrafficImpact>,
}

impl<'a> Markdown<'a> {
    pub fn new(out: Box<dyn Write + 'a>) -> Markdown<'a> {
        Markdown {
            out,
            suite: String::new(),
            impact: Vec::new(),
            traffic: Vec::new(),
        }
    }

    fn write(&mut self, finished: &Finished<'_>) -> io::Result<()> {
        let out = &mut self.out;
        let results = finished.results;
        let (targets, rows) = finished.matrix;
        writeln!(out, "### harness: {}\n", self.suite)?;
        write!(out, "| client |")?;
        for target in targets {
            write!(out, " {target} |")?;
        }
        writeln!(out)?;
        writeln!(out, "|---|{}", "---|".repeat(targets.len()))?;
        for (case, cells) in rows {
            // Clients by their name, as every report names them.
            let name = cells
                .iter()
                .flatten()
                .next()
                .map_or(case.as_str(), |&i| results[i].name.as_str());
            write!(out, "| {} |", escape(name))?;
            for cell in cells {
                match cell {
                    Some(i) => {
                        let r = &results[*i];
                        let mark = match (r.check(), r.expected) {
                            (Check::Mismatch, Some(kind)) => format!(" ✗ (expected {})", kind),
                            _ => String::new(),
                        };
                        write!(out, " {}{mark} |", symbol(r.verdict.kind))?;
                    }
                    None => write!(out, " |")?,
                }
            }
            writeln!(out)?;
        }
        writeln!(out, "\n{}", finished.summary.sentence())?;
        for line in &self.impact {
            writeln!(
                out,
                "- **{}**: {}",
                escape(&line.headline()),
                escape(&line.sentence())
            )?;
            for client in line.client_lines() {
                writeln!(out, "  - {}", escape(&client))?;
            }
        }
        if !self.traffic.is_empty() {
            writeln!(out, "\n{}\n", crate::judge::totals(&self.traffic))?;
        }
        for line in &self.traffic {
            writeln!(out, "- {}", escape(&line.sentence()))?;
        }
        out.flush()
    }
}

/// Text in a table cell or list item: pipes escaped, line breaks as spaces.
fn escape(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    crate::printable::escape_controls(&text).replace('|', "\\|")
}

impl Sink for Markdown<'_> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started(header) => self.suite = header.suite.clone(),
            Event::Impact(lines) => self.impact = lines.to_vec(),
            Event::Traffic(lines) => self.traffic = lines.to_vec(),
            Event::Finished(finished) => self.write(finished)?,
            Event::CaseFinished(_) | Event::TargetDone { .. } | Event::Snapshots(_) => {}
        }
        Ok(())
    }

    fn keeps_results(&self) -> bool {
        true
    }
}
