//! Lines on stdout: command output ([`outln!`]) and status lines for long-running commands
//! (`serve`, `record`). A reader that went away (a closed pipe) or stopped reading (a full
//! pipe) must never stall or stop a command: [`say`] ignores write errors, and [`Log`] hands
//! lines to a writer thread through a bounded queue, dropping (and counting) lines rather than
//! blocking the caller.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

/// `println!` for a command's output: a closed stdout (`harness ... | head`) is ignored rather
/// than a panic, and the command finishes as it would have.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::status::say(&format!($($arg)*))
    };
}

/// Command output goes to stderr instead of stdout (a command that runs another's steps
/// before writing its own report on stdout).
static TO_STDERR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sends command output to stderr (`true`) or back to stdout.
pub fn divert_to_stderr(on: bool) {
    TO_STDERR.store(on, Ordering::Relaxed);
}

/// Writes one line to stdout (or stderr, see [`divert_to_stderr`]) and flushes it; a closed
/// stream is ignored.
pub fn say(line: &str) {
    if TO_STDERR.load(Ordering::Relaxed) {
        let mut out = std::io::stderr().lock();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// Writes a question with no line end, for an answer typed after it; a closed stream is
/// ignored.
pub fn prompt(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{text}").and_then(|()| out.flush());
}

/// A non-blocking line log on stdout.
#[derive(Debug, Clone)]
pub struct Log {
    queue: SyncSender<String>,
    dropped: Arc<AtomicU64>,
}

/// The longest log line, in bytes.
const MAX_LINE: usize = 4096;

impl Log {
    /// Starts the writer thread; at most `capacity` lines wait for it.
    pub fn stdout(capacity: usize) -> Log {
        let (queue, lines) = sync_channel::<String>(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = dropped.clone();
        std::thread::spawn(move || {
            for line in lines {
                let lost = counter.swap(0, Ordering::Relaxed);
                if lost > 0 {
                    say(&format!(
                        "({lost} log lines dropped: stdout was not being read)"
                    ));
                }
                say(&line);
            }
        });
        Log { queue, dropped }
    }

    /// Queues a line; when the queue is full the line is dropped and counted.
    /// Queues one line: what a client sent is in it, so it is escaped and capped first.
    pub fn line(&self, line: String) {
        let line = crate::printable::field(line, MAX_LINE);
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.queue.try_send(line)
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
