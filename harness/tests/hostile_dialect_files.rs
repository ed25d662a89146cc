//! Every dialect file in the repository (`suites/*/dialects/*.toml`) against a catalogue of
//! misbehaving servers: silence, a greeting sent a byte at a time and never ended, endless
//! continuation lines or untagged lines, a line with no end, binary garbage, a close and a
//! reset before any greeting. Each must end in an error (never a lockout, never an admission)
//! within the step deadline, with the heap and transcript bounded: never a panic, never a hang.

#[path = "common/mod.rs"]
mod common;
#[path = "common/heap.rs"]
mod heap;
#[path = "common/hostile.rs"]
mod hostile;

use harness::case::{Case, parse_case};
use harness::dialect::Dialect;
use harness::verdict::VerdictKind;
use hostile::{Bounds, measure};
use rstest::rstest;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const BOUNDS: Bounds = Bounds {
    step_timeout: Duration::from_millis(600),
    margin: Duration::from_millis(500),
    transcript_limit: 4096,
    heap_limit: 1 << 20,
    hang: Duration::from_millis(6000),
};

/// Each dialect file, loaded once before any case is measured: loading (regexes compiled)
/// on another thread meanwhile would count against the case's heap.
static DIALECTS: LazyLock<Vec<&'static dyn Dialect>> = LazyLock::new(|| {
    dialect_files()
        .iter()
        .map(|file| {
            harness::dialect::declarative::load(file).unwrap_or_else(|e| panic!("{}", e[0]))
        })
        .collect()
});

fn dialect_files() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for suite in std::fs::read_dir(common::repo_root().join("suites"))
        .unwrap()
        .flatten()
    {
        for file in std::fs::read_dir(suite.path().join("dialects"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if file.path().extension().is_some_and(|e| e == "toml") {
                found.push(file.path());
            }
        }
    }
    found.sort();
    assert!(!found.is_empty(), "no dialect file in suites/*/dialects/");
    found
}

/// A client whose one step is a raw line (`a1 NOOP`, a tagged line to IMAP): every dialect
/// takes raw bytes.
fn client(dialect: &'static dyn Dialect) -> Case {
    parse_case(
        Path::new("client.toml"),
        "[[step]]\nsend_hex = \"6131204e4f4f500d0a\"\n",
        &BTreeSet::new(),
        dialect,
    )
    .unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Hostile {
    Silence,
    SlowGreetingNeverEnded,
    EndlessContinuation,
    EndlessUntagged,
    LineWithNoEnd,
    BinaryGarbage,
    CloseAtOnce,
    ResetAtOnce,
}

async fn endless(stream: &mut TcpStream, forever: &[u8], pause: Option<Duration>) {
    while stream.write_all(forever).await.is_ok() {
        hostile::STREAMED.fetch_add(forever.len(), Ordering::Relaxed);
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
    }
}

async fn behave(hostile: Hostile, mut stream: TcpStream) {
    let s = &mut stream;
    match hostile {
        Hostile::Silence => tokio::time::sleep(Duration::from_secs(30)).await,
        Hostile::SlowGreetingNeverEnded => endless(s, b"2", Some(Duration::from_millis(50))).await,
        Hostile::EndlessContinuation => {
            endless(s, &[&b"250-"[..], &[b'x'; 1000], b"\r\n"].concat(), None).await
        }
        Hostile::EndlessUntagged => endless(s, b"* OK still here\r\n", None).await,
        Hostile::LineWithNoEnd => endless(s, &[b'a'; 4096], None).await,
        Hostile::BinaryGarbage => {
            let garbage: Vec<u8> = (0..2048u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            let _ = s.write_all(&garbage).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Hostile::CloseAtOnce => {}
        Hostile::ResetAtOnce => {
            let _ = s.set_zero_linger();
        }
    }
}

#[rstest]
#[case::silence(Hostile::Silence, true)]
#[case::slow_greeting_never_ended(Hostile::SlowGreetingNeverEnded, true)]
#[case::endless_continuation(Hostile::EndlessContinuation, false)]
#[case::endless_untagged(Hostile::EndlessUntagged, false)]
#[case::line_with_no_end(Hostile::LineWithNoEnd, false)]
#[case::binary_garbage(Hostile::BinaryGarbage, false)]
#[case::close_at_once(Hostile::CloseAtOnce, false)]
#[case::reset_at_once(Hostile::ResetAtOnce, false)]
fn every_dialect_file_ends_a_hostile_server_in_an_error(
    #[case] hostile: Hostile,
    #[case] at_deadline: bool,
) {
    for &dialect in DIALECTS.iter() {
        let outcome = measure(
            &BOUNDS,
            || client(dialect),
            || hostile::serve(move |s| behave(hostile, s)),
        );
        let v = &outcome.run.verdict;
        // Endless untagged lines are asides to IMAP (read on, to the deadline) but a reply
        // to SMTP, which has no rule for `*`: either way an error, never a verdict on policy.
        let deadline = at_deadline
            || (matches!(hostile, Hostile::EndlessUntagged) && dialect.name() == "imap");
        assert_eq!(
            v.kind,
            VerdictKind::Error,
            "{} {hostile:?}: {v:?}",
            dialect.name()
        );
        outcome.assert_bounded(&BOUNDS, deadline);
        if matches!(hostile, Hostile::LineWithNoEnd) {
            // The line outran what the harness may keep, so the heap bound means something.
            outcome.assert_streamed_over(BOUNDS.transcript_limit);
        }
    }
}
