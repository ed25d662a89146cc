//! Snapshot files on disk: `SUITE/snapshots/CASE@TARGET.snap`, insta's format (a `---` header,
//! then the content), read, compared and written.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// How one result compares with its stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Matched,
    /// No snapshot stored yet.
    New {
        actual: String,
    },
    Changed {
        stored: String,
        actual: String,
    },
}

/// The snapshots folder of one suite.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn of_suite(suite_dir: &Path) -> Store {
        Store {
            dir: suite_dir.join("snapshots"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `CASE@TARGET`: the file stem, and the name insta asserts under.
    pub fn name(case: &str, target: &str) -> String {
        format!("{case}@{target}")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.snap"))
    }

    /// The stored content of a snapshot, header stripped.
    pub fn read(&self, name: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.path(name)).ok()?;
        Some(content_of(&text).to_string())
    }

    pub fn compare(&self, name: &str, actual: &str) -> Outcome {
        match self.read(name) {
            None => Outcome::New {
                actual: actual.to_string(),
            },
            Some(stored) if stored.trim_end() == actual.trim_end() => Outcome::Matched,
            Some(stored) => Outcome::Changed {
                stored,
                actual: actual.to_string(),
            },
        }
    }

    /// Writes a snapshot in insta's format, and drops a pending one of the same name.
    pub fn write(&self, name: &str, content: &str) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        std::fs::write(self.path(name), file_text(content))?;
        self.reject(name)
    }

    pub fn remove(&self, name: &str) -> io::Result<()> {
        std::fs::remove_file(self.path(name))
    }

    /// `CASE@TARGET.snap.new`: a result that differs from the stored snapshot (or has none),
    /// waiting for review, as insta names it.
    pub fn pending_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.snap.new"))
    }

    /// Leaves a result for review beside its snapshot, in the very bytes [`write`] would
    /// store: accepting it (here, with `cargo insta`, or by renaming) changes nothing else.
    ///
    /// [`write`]: Store::write
    pub fn write_pending(&self, name: &str, content: &str) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        std::fs::write(self.pending_path(name), file_text(content))
    }

    /// The pending result's content, header stripped.
    pub fn read_pending(&self, name: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.pending_path(name)).ok()?;
        Some(content_of(&text).to_string())
    }

    /// Makes the pending result the stored snapshot.
    pub fn accept(&self, name: &str) -> io::Result<()> {
        std::fs::rename(self.pending_path(name), self.path(name))
    }

    /// Drops the pending result, if there is one.
    pub fn reject(&self, name: &str) -> io::Result<()> {
        match std::fs::remove_file(self.pending_path(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every pending result's name, in order.
    pub fn pending(&self) -> BTreeSet<String> {
        self.names_ending(".snap.new")
    }

    /// Every stored snapshot name.
    pub fn names(&self) -> BTreeSet<String> {
        self.names_ending(".snap")
    }

    fn names_ending(&self, suffix: &str) -> BTreeSet<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return BTreeSet::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(suffix).map(str::to_string)
            })
            .collect()
    }
}

/// A snapshot file's text: insta's header, then the content. The one header both review
/// routes keep, so files do not flip between two headers as they are accepted.
fn file_text(content: &str) -> String {
    format!(
        "---\nsource: harness run --accept\n---\n{}\n",
        content.trim_end()
    )
}

/// The content after insta's header (`---` ... `---`).
fn content_of(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("---\n") else {
        return text;
    };
    match rest.find("\n---\n") {
        Some(end) => &rest[end + 5..],
        None => text,
    }
}

/// A unified line diff of two snapshots, `-` stored, `+` actual.
pub fn diff(stored: &str, actual: &str) -> String {
    let diff = similar::TextDiff::from_lines(stored, actual);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        out.push(sign);
        out.push_str(change.value().trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_what_insta_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::of_suite(dir.path());
        store.write("a@b", "verdict: admitted\n").unwrap();
        assert_eq!(store.compare("a@b", "verdict: admitted"), Outcome::Matched);
        std::fs::write(
            store.path("c@d"),
            "---\nsource: harness/tests/snapshots.rs\nexpression: rendered\n---\nverdict: warned\n",
        )
        .unwrap();
        assert_eq!(store.read("c@d").as_deref(), Some("verdict: warned\n"));
        assert!(matches!(
            store.compare("c@d", "verdict: admitted"),
            Outcome::Changed { .. }
        ));
        assert!(matches!(store.compare("e@f", "x"), Outcome::New { .. }));
        assert_eq!(
            store.names().into_iter().collect::<Vec<_>>(),
            ["a@b", "c@d"]
        );
    }

    #[test]
    fn diff_marks_lines() {
        assert_eq!(diff("a\nb\n", "a\nc\n"), " a\n-b\n+c\n");
    }
}
