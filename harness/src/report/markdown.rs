//! A Markdown compatibility matrix for pull-request comments: clients down, targets across.

use super::impact::Impact;
use super::{CaseResult, Check, Summary, matrix};
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

pub fn write_markdown(
    out: &mut dyn Write,
    suite: &str,
    results: &[CaseResult],
    impact: &[Impact],
) -> io::Result<()> {
    let (targets, rows) = matrix(results);
    writeln!(out, "### harness: {suite}\n")?;
    write!(out, "| client |")?;
    for target in &targets {
        write!(out, " {target} |")?;
    }
    writeln!(out)?;
    writeln!(out, "|---|{}", "---|".repeat(targets.len()))?;
    for (case, cells) in rows {
        write!(out, "| {} |", case.replace('|', "\\|"))?;
        for cell in cells {
            match cell {
                Some(i) => {
                    let r = &results[i];
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
    writeln!(out, "\n{}", Summary::of(results).sentence())?;
    for line in impact {
        writeln!(out, "- {}", line.sentence())?;
    }
    Ok(())
}
