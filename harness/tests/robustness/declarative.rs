//! Every dialect file in the repository (`suites/*/dialects/*.toml`), fuzzed: its framer, fed
//! any bytes (junk, and lines built from its own reply codes) in any split from either side,
//! never panics, never holds more than a reply and a line while it waits, and frames what it
//! emitted the same way again; its conversation, fed any lines both ways, never panics, keeps
//! its heap bounded, and ends in a verdict that names its stage (and the reply that decided
//! it, when one did); a step from any text compiles to exactly one line or is refused.

use crate::campaign::check;
use crate::common::repo_root;
use crate::feed::feed;
use crate::peak_heap_on_this_thread_during;
use bytes::Bytes;
use harness::dialect::declarative::{self, FileDialect};
use harness::dialect::{Dialect, Ending, Settings, Wire, text_step};
use harness::direction::Direction;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Each dialect file found, compiled once.
static DIALECTS: LazyLock<Vec<(String, FileDialect)>> = LazyLock::new(|| {
    let mut found = Vec::new();
    let suites = std::fs::read_dir(repo_root().join("suites")).expect("the suites folder");
    for suite in suites.flatten() {
        let Ok(files) = std::fs::read_dir(suite.path().join("dialects")) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let dialect = declarative::parse(&path)
                    .unwrap_or_else(|errors| panic!("{}: {}", path.display(), errors[0]));
                found.push((path.display().to_string(), dialect));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
});

#[test]
fn every_dialect_file_in_the_repository_is_found_and_compiles() {
    let names: Vec<&str> = DIALECTS.iter().map(|(_, d)| d.name()).collect();
    assert!(names.contains(&"smtp"), "{names:?}");
}

fn dialect(index: prop::sample::Index) -> &'static FileDialect {
    &DIALECTS[index.index(DIALECTS.len())].1
}

/// Bytes a line protocol's peer might send: reply codes, continuations, terminators, words,
/// and junk.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "[0-9]{3}[- ][ -~]{0,30}\r?\n".prop_map(String::into_bytes),
        "\\* [A-Z]{2,10}[ -~]{0,20}\r\n".prop_map(String::into_bytes),
        "[a-z0-9]{1,4} (OK|NO|BAD)[ -~]{0,20}\r\n".prop_map(String::into_bytes),
        Just(b"\r\n".to_vec()),
        prop::collection::vec(Just(b'a'), 0..3000),
    ]
}

fn split(bytes: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.extend([0, bytes.len()]);
    at.sort_unstable();
    at.windows(2).map(|w| bytes[w[0]..w[1]].to_vec()).collect()
}

fn frame_all(
    d: &FileDialect,
    from: Direction,
    chunks: &[Vec<u8>],
) -> Result<Vec<Bytes>, TestCaseError> {
    let mut framer = harness::dialect::framer(d, from);
    let mut out = Vec::new();
    feed(
        chunks,
        d.most_held(),
        |buf| framer.next(buf),
        |m| {
            prop_assert!(!m.is_empty(), "an empty message");
            out.push(m);
            Ok(())
        },
    )?;
    Ok(out)
}

#[test]
fn dialect_file_framers_never_panic_never_overhold_and_reframe_themselves() {
    let strategy = (
        any::<prop::sample::Index>(),
        any::<bool>(),
        prop::collection::vec(piece(), 0..30),
        prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    );
    check(
        "dialect_file_framers_never_panic_never_overhold_and_reframe_themselves",
        file!(),
        strategy,
        |(index, client, pieces, cuts)| {
            let d = dialect(index);
            let from = if client {
                Direction::Client
            } else {
                Direction::Server
            };
            let bytes = pieces.concat();
            let messages = frame_all(d, from, &split(&bytes, &cuts))?;
            prop_assert!(
                bytes.starts_with(&messages.concat()),
                "bytes lost or reordered"
            );
            for m in &messages {
                let _ = d.describe(from, m);
                let _ = d.redact(&d.normalize(&d.describe(from, m)));
            }
            let again = frame_all(d, from, &[messages.concat()])?;
            prop_assert_eq!(messages, again);
            Ok(())
        },
    );
}

/// A line either side might send: the file's own verbs with any arguments, or anything.
fn line() -> impl Strategy<Value = (bool, Vec<u8>)> {
    let verb = "(EHLO|HELO|STARTTLS|AUTH|MAIL|QUIT|LOGIN|CAPABILITY|a1 LOGIN|a2 AUTHENTICATE|a3 STARTTLS)( [ -~]{0,20})?";
    (
        any::<bool>(),
        prop_oneof![verb.prop_map(|l| format!("{l}\r\n").into_bytes()), piece(),],
    )
}

#[test]
fn dialect_file_conversations_end_in_a_verdict_naming_what_decided() {
    let strategy = (
        any::<prop::sample::Index>(),
        prop::collection::vec(line(), 0..40),
        any::<bool>(),
    );
    check(
        "dialect_file_conversations_end_in_a_verdict_naming_what_decided",
        file!(),
        strategy,
        |(index, lines, reset)| {
            let d = dialect(index);
            let mut verdict = None;
            let peak = peak_heap_on_this_thread_during(|| {
                let mut c = d.conversation(None, &Settings::none());
                for (client, bytes) in &lines {
                    if *client {
                        c.observe_sent(bytes);
                    } else if let Some(v) = c.receive(Bytes::from(bytes.clone())).verdict {
                        verdict = Some((v, true));
                        break;
                    }
                }
                if verdict.is_none() {
                    let how = if reset { Ending::Reset } else { Ending::Closed };
                    verdict = Some((c.ended(how), false));
                }
                let _ = c.farewell();
            });
            let (v, by_reply) = verdict.expect("a verdict");
            prop_assert!(!v.stage.is_empty(), "{:?}", v);
            prop_assert_eq!(v.decided_by.is_some(), by_reply, "{:?}", v);
            prop_assert!(
                peak < 1 << 20,
                "{} bytes of heap for {} lines",
                peak,
                lines.len()
            );
            Ok(())
        },
    );
}

#[test]
fn a_step_from_any_text_is_one_line_or_refused() {
    let strategy = (
        any::<prop::sample::Index>(),
        "[ -~]{0,40}",
        "[ -~\r\n]{0,10}",
    );
    check(
        "a_step_from_any_text_is_one_line_or_refused",
        file!(),
        strategy,
        |(index, text, value)| {
            let d = dialect(index);
            let Ok(step) = text_step(d, &text) else {
                return Ok(());
            };
            let values: BTreeMap<String, String> = ["x", "user", "password", "mechanism"]
                .iter()
                .map(|k| (k.to_string(), value.clone()))
                .collect();
            let mut c = d.conversation(None, &Settings::none());
            if let Ok(bytes) = c.send(step.as_ref(), &values) {
                prop_assert!(bytes.ends_with(b"\n"), "{:?}", bytes);
                prop_assert_eq!(
                    bytes.iter().filter(|&&b| b == b'\n').count(),
                    1,
                    "{:?}",
                    bytes
                );
            }
            Ok(())
        },
    );
}
