//! The snapshot check for people: every changed snapshot as a diff (the first five), then the
//! new, changed and obsolete ones listed. After the table on stdout, or on stderr beside a
//! machine-readable format.

use super::{Event, Sink};
use crate::snapshot::Check;
use std::io::{self, Write};

pub struct SnapshotSection<'a> {
    out: Box<dyn Write + 'a>,
    check: Option<Check>,
}

impl<'a> SnapshotSection<'a> {
    pub fn new(out: Box<dyn Write + 'a>) -> SnapshotSection<'a> {
        SnapshotSection { out, check: None }
    }
}

impl Sink for SnapshotSection<'_> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Snapshots(check) => self.check = Some((*check).clone()),
            // Written last, after a table that is written at the end too.
            Event::Finished(_) => {
                if let Some(check) = &self.check {
                    write_snapshots(&mut self.out, check)?;
                }
                self.out.flush()?;
            }
            Event::Started(_)
            | Event::CaseFinished(_)
            | Event::TargetDone { .. }
            | Event::Impact(_)
            | Event::Traffic(_) => {}
        }
        Ok(())
    }
}

/// Every changed snapshot as a diff, then the new, changed and obsolete ones listed.
fn write_snapshots(out: &mut dyn Write, check: &Check) -> io::Result<()> {
    const SHOWN: usize = 5;
    for (name, diff) in check.changed.iter().take(SHOWN) {
        writeln!(out, "\nsnapshot {name} changed (- stored, + this run):")?;
        for line in diff.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    if check.changed.len() > SHOWN {
        writeln!(
            out,
            "\n… and {} more changed snapshots (listed below)",
            check.changed.len() - SHOWN
        )?;
    }
    let list = |names: &[String]| match names.len() {
        0 => String::new(),
        1..=8 => format!(": {}", names.join(", ")),
        n => format!(": {}, … and {} more", names[..6].join(", "), n - 6),
    };
    let changed: Vec<String> = check.changed.iter().map(|(n, _)| n.clone()).collect();
    let total = check.matched + check.new.len() + check.changed.len() + check.skipped_errors;
    if total == 0 && check.obsolete.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "snapshots in {}: {} matched",
        check.dir.display(),
        check.matched
    )?;
    writeln!(out, "  {} new{}", check.new.len(), list(&check.new))?;
    writeln!(out, "  {} changed{}", changed.len(), list(&changed))?;
    writeln!(
        out,
        "  {} obsolete{}",
        check.obsolete.len(),
        list(&check.obsolete)
    )?;
    if check.skipped_errors > 0 {
        writeln!(
            out,
            "  {} not compared: the harness could not judge them",
            check.skipped_errors
        )?;
    }
    if check.accepted {
        writeln!(
            out,
            "  recorded the new and changed snapshots; removed the obsolete ones"
        )?;
    } else if check.failed() {
        let suite = check.dir.parent().unwrap_or(&check.dir);
        writeln!(
            out,
            "  each is left beside its snapshot as CASE@TARGET.snap.new: review them one by one with `harness review {}` (or `cargo insta review`), or record them all with --accept",
            suite.display()
        )?;
    }
    Ok(())
}
