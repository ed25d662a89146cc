//! Status lines on stdout for long-running commands (`serve`, `record`): a reader that went
//! away (a closed pipe) must never bring the server down, so write errors are ignored.

use std::io::Write;

/// Writes one line to stdout and flushes it; a closed stdout is ignored.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}
