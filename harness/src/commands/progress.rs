//! The progress bar on stderr, a sink of the result stream: for people watching a terminal;
//! hidden for machine-readable formats and when stderr is not a terminal (CI logs, pipes).

use crate::cli::Format;
use crate::report::{Event, Sink};
use std::io::{self, IsTerminal};

pub struct Progress {
    bar: indicatif::ProgressBar,
}

impl Progress {
    /// A bar, or `None` where nobody watches it.
    pub fn for_terminal(format: Format) -> Option<Progress> {
        if format != Format::Table || !io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} results {elapsed}")
        {
            bar.set_style(style);
        }
        Some(Progress { bar })
    }
}

impl Sink for Progress {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started(header) => {
                if let Some(n) = header.expected_results {
                    self.bar.set_length(n as u64);
                }
            }
            Event::CaseFinished(_) => self.bar.inc(1),
            // Gone before the table is written.
            Event::Impact(_) => self.bar.finish_and_clear(),
            Event::TargetDone { .. }
            | Event::Traffic(_)
            | Event::Snapshots(_)
            | Event::Finished(_) => {}
        }
        Ok(())
    }
}
