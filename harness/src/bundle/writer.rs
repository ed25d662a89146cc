//! The bundle as a sink of the result stream: it seals every result, so it is made and
//! written at the end.

use crate::report::{Event, Sink};
use crate::suite::Suite;
use std::io;
use std::path::{Path, PathBuf};

pub struct Writer<'a> {
    suite: &'a Suite,
    path: PathBuf,
}

impl<'a> Writer<'a> {
    pub fn new(suite: &'a Suite, path: &Path) -> Writer<'a> {
        Writer {
            suite,
            path: path.to_path_buf(),
        }
    }
}

impl Sink for Writer<'_> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Finished(finished) => {
                let bundle = super::make(self.suite, finished.results)?;
                let text = serde_json::to_string_pretty(&bundle).unwrap_or_default();
                std::fs::write(&self.path, text + "\n")
            }
            Event::Started(_)
            | Event::CaseFinished(_)
            | Event::TargetDone { .. }
            | Event::Impact(_)
            | Event::Traffic(_)
            | Event::Snapshots(_) => Ok(()),
        }
    }

    fn keeps_results(&self) -> bool {
        true
    }
}
