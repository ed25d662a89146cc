//! A file in the temp folder that a measurement writes to (e.g. `/usr/bin/time -o`), removed
//! when the measurement is done with it, whether it succeeded or returned early with an error.

use std::path::{Path, PathBuf};

pub struct ScratchFile(PathBuf);

impl ScratchFile {
    /// `<temp dir>/<stem>-<this process's id>`; nothing is created until someone writes it.
    pub fn named(stem: &str) -> ScratchFile {
        ScratchFile(std::env::temp_dir().join(format!("{stem}-{}", std::process::id())))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
