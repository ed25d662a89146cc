//! The case, suite and policy parsers on random and mutated text: no panic, and every error
//! points at a line of the file it names.

use crate::campaign::check;
use crate::common;
use harness::dialect::msnp::Policy;
use harness::source::SourceError;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The text of every TOML file in `dir`, sorted by name.
fn texts(dir: &Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

static CASE_FILES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let mut all = texts(&common::seed_suite().join("cases"));
    all.extend(texts(&common::repo_root().join("suites/tls-cutoff/cases")));
    all.extend(texts(&common::repo_root().join("captures/msnp-record")));
    all.retain(|t| !t.is_empty());
    all
});

/// Inserts `insert` into `text` at the character boundary at or before `at`.
fn mutate(text: &str, at: prop::sample::Index, insert: &str) -> String {
    let mut text = text.to_string();
    let mut i = at.index(text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    text.insert_str(i, insert);
    text
}

/// What a mutation inserts: TOML's own punctuation, escapes and words.
const INSERT: &str = "[\\[\\]{}\"'\\\\=\\n(?<>)a-z0-9 .#-]{1,8}";

fn line_is_in(text: &str, line: usize) -> bool {
    line >= 1 && line <= text.lines().count().max(1) + 1
}

/// A parse error must point at a line of the text parsed.
fn points_into<T>(text: &str, parsed: Result<T, SourceError>) -> Result<(), TestCaseError> {
    if let Err(e) = parsed {
        prop_assert!(
            line_is_in(text, e.line),
            "line {} of {}",
            e.line,
            e.path.display()
        );
    }
    Ok(())
}

/// Parses `text` as a case file.
pub fn check_case(text: &str) -> Result<(), TestCaseError> {
    let known = BTreeSet::from(["email".to_string(), "host".to_string()]);
    points_into(
        text,
        harness::case::parse_case(
            Path::new("case.toml"),
            text,
            &known,
            harness::dialect::by_name("msnp").unwrap(),
        ),
    )
}

/// Parses `text` as a policy file.
pub fn check_policy(text: &str) -> Result<(), TestCaseError> {
    points_into(text, Policy::parse(Path::new("policy.toml"), text))
}

#[test]
fn case_and_policy_parsers_never_panic() {
    check(
        "case_and_policy_parsers_never_panic",
        file!(),
        "[\\[\\]a-z_=\"'{}\\n 0-9.,-]{0,400}",
        |text| {
            check_case(&text)?;
            check_policy(&text)
        },
    );
}

#[test]
fn mutated_case_files_never_panic() {
    let strategy = (
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        INSERT,
    );
    check(
        "mutated_case_files_never_panic",
        file!(),
        strategy,
        |(file, at, insert)| {
            check_case(&mutate(
                &CASE_FILES[file.index(CASE_FILES.len())],
                at,
                &insert,
            ))
        },
    );
}

#[test]
fn mutated_policy_files_never_panic() {
    let policy = std::fs::read_to_string(common::seed_suite().join("policy.toml")).unwrap();
    check(
        "mutated_policy_files_never_panic",
        file!(),
        (any::<prop::sample::Index>(), INSERT),
        |(at, insert)| check_policy(&mutate(&policy, at, &insert)),
    );
}

/// A scratch suite folder laid out like `suites/msn-2003`: its cases and policy are links to
/// the real ones, and `../../captures` resolves to the real captures.
struct ScratchSuite {
    _root: tempfile::TempDir,
    file: PathBuf,
}

impl ScratchSuite {
    fn new() -> ScratchSuite {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let suite = root.path().join("suites/fuzz");
        std::fs::create_dir_all(&suite).unwrap();
        let seed = common::seed_suite();
        symlink(seed.join("cases"), suite.join("cases")).unwrap();
        symlink(seed.join("policy.toml"), suite.join("policy.toml")).unwrap();
        symlink(
            common::repo_root().join("captures"),
            root.path().join("captures"),
        )
        .unwrap();
        ScratchSuite {
            file: suite.join("suite.toml"),
            _root: root,
        }
    }
}

#[test]
fn mutated_suite_files_never_panic() {
    let scratch = ScratchSuite::new();
    let seed = std::fs::read_to_string(common::seed_suite().join("suite.toml")).unwrap();
    check(
        "mutated_suite_files_never_panic",
        file!(),
        (any::<prop::sample::Index>(), INSERT),
        |(at, insert)| {
            let text = mutate(&seed, at, &insert);
            std::fs::write(&scratch.file, &text).unwrap();
            if let Err(load) = harness::suite::load_suite(&scratch.file) {
                prop_assert!(!load.errors.is_empty());
                for e in load.errors.iter().filter(|e| e.path == scratch.file) {
                    prop_assert!(line_is_in(&text, e.line), "line {} of suite.toml", e.line);
                }
            }
            Ok(())
        },
    );
}

/// Every dialect's step compiler, and the byte-template parser, take any text without
/// panicking; an error always points inside the text it was given.
#[test]
fn step_compilers_never_panic() {
    check(
        "step_compilers_never_panic",
        file!(),
        "[a-zA-Z0-9_=,{} .\\\\-]{0,120}",
        |text| {
            for dialect in harness::dialect::all() {
                if let Err(e) = harness::dialect::text_step(dialect, &text) {
                    prop_assert!(
                        e.offset <= text.len() && e.offset + e.len <= text.len().max(1),
                        "{}: error at {}+{} outside {:?}",
                        dialect.name(),
                        e.offset,
                        e.len,
                        text
                    );
                }
            }
            if let Err(e) = harness::template::ByteTemplate::parse(&text) {
                prop_assert!(e.offset < text.len().max(1), "byte template: {e:?}");
            }
            Ok(())
        },
    );
}
