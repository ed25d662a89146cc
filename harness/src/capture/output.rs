//! Writing cases into an output folder without harm: a name is one plain file name, an entry
//! already there (a file, a folder, a symlink, dangling or not) is never written over unless
//! asked, and even then a symlink is replaced, never followed out of the folder.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` as `dir/name`, which must not exist yet; with `replace`, whatever is there is
/// replaced (the file is written beside it, then renamed over it).
pub fn write_new(dir: &Path, name: &str, bytes: &[u8], replace: bool) -> io::Result<PathBuf> {
    check_name(name)?;
    let path = dir.join(name);
    if !replace {
        // O_CREAT | O_EXCL: fails on any entry there, and never follows a symlink.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| refused(&path, e))?;
        file.write_all(bytes)?;
        return Ok(path);
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let temporary = dir.join(format!(".{name}.{}-{n}.partial", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&temporary, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map(|()| path)
}

/// The same error, saying which path was there already and how to replace it.
fn refused(path: &Path, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::AlreadyExists {
        io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} already exists; not overwritten (give --force to replace it)",
                path.display()
            ),
        )
    } else {
        io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
    }
}

fn check_name(name: &str) -> io::Result<()> {
    let plain =
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{name}` is not a plain file name"),
        ))
    }
}

/// The number after the highest `NNNN-` that names an entry of `dir` (0 when none does), so a
/// new run numbers its files after an earlier run's.
pub fn next_number(dir: &Path) -> io::Result<u64> {
    let mut next = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() >= 4
            && name[digits.len()..].starts_with('-')
            && let Ok(n) = digits.parse::<u64>()
        {
            next = next.max(n.saturating_add(1));
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_existing_file_or_symlink_is_refused_then_replaced_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "outside").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("a.toml")).unwrap();
        let refused = write_new(dir.path(), "a.toml", b"new", false).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert!(refused.to_string().contains("--force"), "{refused}");
        write_new(dir.path(), "a.toml", b"new", true).unwrap();
        let path = dir.path().join("a.toml");
        assert!(!path.symlink_metadata().unwrap().is_symlink());
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read(outside.path()).unwrap(), b"outside");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn names_with_a_path_in_them_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["../x.toml", "a/b.toml", "..", ""] {
            let e = write_new(dir.path(), name, b"x", true).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{name}");
        }
    }

    #[test]
    fn numbering_continues_after_the_highest() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(next_number(dir.path()).unwrap(), 0);
        for name in ["0000-a.toml", "0041-b.pcapng", "12-c.toml", "notes.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(next_number(dir.path()).unwrap(), 42);
    }
}
