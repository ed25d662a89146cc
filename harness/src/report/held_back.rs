//! A report's output held back until a value its first line names is known: `harness judge`'s
//! header names the capture's BLAKE3, which is computed beside the judging rather than before
//! it. Lines written meanwhile wait, the first few MiB in memory and the rest in an unnamed
//! temporary file, so memory stays bounded however long the hash takes; when the value is
//! known it takes the placeholder's place and everything goes out in order.

use std::fs::File;
use std::io::{self, Seek, Write};
use std::sync::{Arc, OnceLock};

/// Output held in memory before the rest waits in a temporary file.
const IN_MEMORY: usize = 2 << 20;

/// What a report file written as it comes gathers before a write(2): judge's results come
/// thousands a second.
const WRITE_BUFFER: usize = 256 << 10;

/// Stands for the value until it is known: as long as a BLAKE3 in hex, and no hash in hex.
pub const PLACEHOLDER: &str = "pending-hash-of-the-capture-computed-beside-the-judging---------";

/// The value the held-back writers wait for; set once, seen by every writer sharing it.
#[derive(Clone, Default)]
pub struct Gate(Arc<OnceLock<String>>);

impl Gate {
    pub fn open(&self, value: &str) {
        let _ = self.0.set(value.to_string());
    }

    /// The value, once known.
    pub fn value(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// A writer that holds what it is given until its gate opens, then writes it, with the first
/// [`PLACEHOLDER`] replaced by the gate's value, and passes everything after it straight on.
pub struct HeldBack<W: Write> {
    inner: W,
    gate: Gate,
    released: bool,
    held: Vec<u8>,
    spill: Option<File>,
}

impl<W: Write> HeldBack<W> {
    pub fn new(inner: W, gate: Gate) -> HeldBack<W> {
        HeldBack {
            inner,
            gate,
            released: false,
            held: Vec::new(),
            spill: None,
        }
    }

    /// Writes what was held once the gate is open; whether it is.
    fn release(&mut self) -> io::Result<bool> {
        if self.released {
            return Ok(true);
        }
        let Some(value) = self.gate.0.get() else {
            return Ok(false);
        };
        self.released = true;
        let mut held = std::mem::take(&mut self.held);
        if let Some(at) = memchr::memmem::find(&held, PLACEHOLDER.as_bytes()) {
            held.splice(at..at + PLACEHOLDER.len(), value.bytes());
        }
        self.inner.write_all(&held)?;
        if let Some(mut spill) = self.spill.take() {
            spill.rewind()?;
            io::copy(&mut spill, &mut self.inner)?;
        }
        Ok(true)
    }

    fn hold(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.spill.is_none() && self.held.len() + buf.len() <= IN_MEMORY {
            self.held.extend_from_slice(buf);
            return Ok(());
        }
        let spill = match &mut self.spill {
            Some(spill) => spill,
            None => self.spill.insert(unnamed_file().map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot hold the results back until the capture's hash is known (a temporary file): {e}"
                    ),
                )
            })?),
        };
        spill.write_all(buf)
    }
}

impl<W: Write> Write for HeldBack<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.release()? {
            return self.inner.write(buf);
        }
        self.hold(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.release()? {
            true => self.inner.flush(),
            false => Ok(()),
        }
    }
}

/// A report file written as it comes, its placeholder overwritten in place once the gate
/// opens: nothing is held back, so a long run costs no second copy of its results. The
/// placeholder is looked for in what is written until it is found (it is in the first line).
pub struct Patched {
    out: io::BufWriter<File>,
    gate: Gate,
    /// What was written before the placeholder was found (at most [`IN_MEMORY`]).
    looked_at: Vec<u8>,
    /// Where the placeholder is, once found; `None` again once overwritten.
    at: Option<u64>,
}

impl Patched {
    /// Writes to `file`, a regular file created for this report (so written from its start,
    /// not appended to).
    pub fn new(file: File, gate: Gate) -> Patched {
        Patched {
            out: io::BufWriter::with_capacity(WRITE_BUFFER, file),
            gate,
            looked_at: Vec::new(),
            at: None,
        }
    }

    fn look_for_placeholder(&mut self, buf: &[u8]) {
        if self.at.is_some() || self.looked_at.len() > IN_MEMORY {
            return;
        }
        let from = self.looked_at.len().saturating_sub(PLACEHOLDER.len());
        self.looked_at.extend_from_slice(buf);
        if let Some(at) = memchr::memmem::find(&self.looked_at[from..], PLACEHOLDER.as_bytes()) {
            self.at = Some((from + at) as u64);
            self.looked_at = Vec::new();
        }
    }

    /// Overwrites the placeholder with the gate's value, once both are there.
    fn patch(&mut self) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let (Some(at), Some(value)) = (self.at, self.gate.value()) else {
            return Ok(());
        };
        self.out.flush()?;
        self.out.get_ref().write_all_at(value.as_bytes(), at)?;
        self.at = None;
        self.looked_at = Vec::new();
        Ok(())
    }
}

impl Write for Patched {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.look_for_placeholder(&buf[..n]);
        if self.at.is_some() && self.gate.value().is_some() {
            self.patch()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.patch()?;
        self.out.flush()
    }
}

impl Drop for Patched {
    fn drop(&mut self) {
        let _ = self.patch();
    }
}

/// A temporary file no other process can open: created private, and unlinked at once.
fn unnamed_file() -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "harness-held-{}-{n}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_lines_go_out_in_order_with_the_value_in_place_once_the_gate_opens() {
        let gate = Gate::default();
        let mut out = HeldBack::new(Vec::new(), gate.clone());
        writeln!(out, "{{\"sha256\":\"{PLACEHOLDER}\"}}").unwrap();
        out.flush().unwrap();
        // Past the memory part: the rest waits in the temporary file.
        let line = vec![b'x'; 1000];
        for _ in 0..(IN_MEMORY / 1000 + 50) {
            out.write_all(&line).unwrap();
            out.write_all(b"\n").unwrap();
        }
        assert!(out.inner.is_empty());
        assert!(out.spill.is_some());
        let sha = "ab".repeat(32);
        assert_eq!(sha.len(), PLACEHOLDER.len());
        gate.open(&sha);
        out.write_all(b"last\n").unwrap();
        out.flush().unwrap();
        let text = String::from_utf8(out.inner).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(format!("{{\"sha256\":\"{sha}\"}}").as_str())
        );
        assert_eq!(lines.clone().count(), IN_MEMORY / 1000 + 50 + 1);
        assert!(
            lines
                .clone()
                .take(IN_MEMORY / 1000 + 50)
                .all(|l| l.len() == 1000)
        );
        assert_eq!(lines.last(), Some("last"));
    }

    #[test]
    fn a_report_file_is_written_as_it_comes_and_its_placeholder_overwritten_once_known() {
        let path = std::env::temp_dir().join(format!("harness-patched-{}", std::process::id()));
        let gate = Gate::default();
        let mut out = Patched::new(File::create(&path).unwrap(), gate.clone());
        // The header arrives in two writes, the placeholder split between them.
        let header = format!("{{\"sha256\":\"{PLACEHOLDER}\"}}\n");
        out.write_all(&header.as_bytes()[..20]).unwrap();
        out.write_all(&header.as_bytes()[20..]).unwrap();
        let line = vec![b'x'; 1000];
        for _ in 0..(IN_MEMORY / 1000 + 50) {
            out.write_all(&line).unwrap();
            out.write_all(b"\n").unwrap();
        }
        out.flush().unwrap();
        // Written as it came: nothing waits, nothing is spilled.
        let written = std::fs::metadata(&path).unwrap().len();
        assert_eq!(
            written as usize,
            header.len() + (IN_MEMORY / 1000 + 50) * 1001
        );
        let sha = "cd".repeat(32);
        gate.open(&sha);
        out.write_all(b"last\n").unwrap();
        drop(out);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(format!("{{\"sha256\":\"{sha}\"}}").as_str())
        );
        assert_eq!(lines.clone().count(), IN_MEMORY / 1000 + 50 + 1);
        assert_eq!(lines.last(), Some("last"));
    }

    #[test]
    fn a_placeholder_known_only_at_the_end_is_overwritten_when_the_file_is_closed() {
        let path = std::env::temp_dir().join(format!("harness-patched-end-{}", std::process::id()));
        let gate = Gate::default();
        let mut out = Patched::new(File::create(&path).unwrap(), gate.clone());
        writeln!(out, "{PLACEHOLDER}").unwrap();
        writeln!(out, "result").unwrap();
        gate.open(&"ef".repeat(32));
        drop(out);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(text, format!("{}\nresult\n", "ef".repeat(32)));
    }

    #[test]
    fn an_open_gate_holds_nothing_back() {
        let gate = Gate::default();
        gate.open("known");
        let mut out = HeldBack::new(Vec::new(), gate);
        out.write_all(b"line\n").unwrap();
        assert_eq!(out.inner, b"line\n");
    }
}
