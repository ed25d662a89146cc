//! `harness review SUITE`: the results a run left beside their snapshots
//! (`CASE@TARGET.snap.new`), one at a time, each with its diff against the stored snapshot
//! (the whole transcript, changed lines marked), to accept, reject or skip; or all at once with
//! `--accept-all` / `--reject-all`. Accepting stores the very bytes `cargo insta review` would.

use super::Failure;
use crate::cli::ReviewArgs;
use crate::exit;
use crate::snapshot::{Store, diff};
use std::io::{BufRead, IsTerminal};
use std::path::Path;

/// What the reviewer said about one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    Reject,
    Skip,
    Quit,
}

impl Answer {
    fn parse(line: &str) -> Option<Answer> {
        match line.trim().to_ascii_lowercase().as_str() {
            "a" | "accept" => Some(Answer::Accept),
            "r" | "reject" => Some(Answer::Reject),
            "s" | "skip" | "" => Some(Answer::Skip),
            "q" | "quit" => Some(Answer::Quit),
            _ => None,
        }
    }
}

pub fn review(args: &ReviewArgs) -> Result<i32, Failure> {
    let suite_dir = match args.suite.is_file() {
        true => args.suite.parent().unwrap_or(Path::new(".")),
        false => args.suite.as_path(),
    };
    if !suite_dir.join("suite.toml").is_file() {
        return Err(Failure::Usage(format!(
            "{} is not a suite: no suite.toml there",
            args.suite.display()
        )));
    }
    let may_accept = !args.reject_all;
    if may_accept && std::env::var_os("CI").is_some() {
        return Err(Failure::Usage(
            "CI is set: snapshots are never accepted in CI (run `harness review` where you work, and commit the result)".into(),
        ));
    }
    let interactive = !args.accept_all && !args.reject_all;
    if interactive && !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "harness review asks at a terminal: in a script, give --accept-all or --reject-all"
                .into(),
        ));
    }
    let store = Store::of_suite(suite_dir);
    let pending = store.pending();
    if pending.is_empty() {
        crate::outln!("no snapshots to review in {}", store.dir().display());
        return Ok(exit::SUCCESS);
    }
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut input = std::io::stdin().lock();
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    for (i, name) in pending.iter().enumerate() {
        let answer = match (args.accept_all, args.reject_all) {
            (true, _) => Answer::Accept,
            (_, true) => Answer::Reject,
            _ => {
                show(&store, name, i + 1, pending.len(), color);
                ask(&mut input)?
            }
        };
        let done = match answer {
            Answer::Accept => store.accept(name).map(|()| accepted += 1),
            Answer::Reject => store.reject(name).map(|()| rejected += 1),
            Answer::Skip => {
                skipped += 1;
                Ok(())
            }
            Answer::Quit => {
                skipped += pending.len() - i;
                break;
            }
        };
        done.map_err(|e| Failure::Runtime(format!("{}: {e}", store.pending_path(name).display())))?;
    }
    crate::outln!(
        "{accepted} accepted, {rejected} rejected, {skipped} skipped; {} left to review in {}",
        store.pending().len(),
        store.dir().display()
    );
    Ok(exit::SUCCESS)
}

/// One pending snapshot: its name, then the whole result with what changed marked.
fn show(store: &Store, name: &str, at: usize, of: usize, color: bool) {
    let Some(actual) = store.read_pending(name) else {
        return;
    };
    let (title, body) = match store.read(name) {
        Some(stored) => ("changed (- stored, + this run)", diff(&stored, &actual)),
        None => ("new", diff("", &actual)),
    };
    crate::outln!("\n[{at}/{of}] {name}: {title}");
    for line in body.lines() {
        let paint = match line.chars().next() {
            Some('-') if color => "\x1b[31m",
            Some('+') if color => "\x1b[32m",
            _ => "",
        };
        let reset = if paint.is_empty() { "" } else { "\x1b[0m" };
        crate::outln!(
            "  {paint}{}{reset}",
            crate::printable::escape_controls(line)
        );
    }
}

/// Asks until the answer is one it knows; the end of input quits.
fn ask(input: &mut impl BufRead) -> Result<Answer, Failure> {
    loop {
        crate::status::prompt("accept (a), reject (r), skip (s, Enter) or quit (q)? ");
        let mut line = String::new();
        let read = input
            .read_line(&mut line)
            .map_err(|e| Failure::Runtime(format!("cannot read the answer: {e}")))?;
        if read == 0 {
            return Ok(Answer::Quit);
        }
        if let Some(answer) = Answer::parse(&line) {
            return Ok(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_letters_or_words_and_enter_skips() {
        assert_eq!(Answer::parse("a\n"), Some(Answer::Accept));
        assert_eq!(Answer::parse(" Reject "), Some(Answer::Reject));
        assert_eq!(Answer::parse("\n"), Some(Answer::Skip));
        assert_eq!(Answer::parse("q"), Some(Answer::Quit));
        assert_eq!(Answer::parse("yes"), None);
    }

    #[test]
    fn the_end_of_input_quits() {
        assert_eq!(ask(&mut "x\n".as_bytes()).unwrap(), Answer::Quit);
        assert_eq!(ask(&mut "x\nr\n".as_bytes()).unwrap(), Answer::Reject);
    }
}
