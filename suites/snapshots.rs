//! One test per case file of every suite (scripted cases and the captures suites include),
//! named after the file and found by glob: each runs its case against every target of the
//! suites that hold it, checks the verdict against the suite's expectation and the result
//! against its snapshot in `SUITE/snapshots/`, the same files `harness run` checks.

#[path = "../harness/tests/common/mod.rs"]
mod common;

use harness::commands::plan;
use harness::runner::Settings;
use harness::snapshot::{Outcome, Store, diff, render};
use harness::suite::{Suite, load_suite};
use rstest::rstest;
use std::path::{Path, PathBuf};

fn suites() -> Vec<Suite> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::repo_root().join("suites"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("suite.toml").is_file())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|d| load_suite(d).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn check_case_file(path: &Path) {
    let path = path.canonicalize().unwrap();
    let holding: Vec<Suite> = suites()
        .into_iter()
        .filter(|s| {
            s.cases
                .iter()
                .any(|c| c.path.canonicalize().ok().as_deref() == Some(path.as_path()))
        })
        .collect();
    assert!(
        !holding.is_empty(),
        "{} is in no suite: add it to a suite's cases or `include` its folder",
        path.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for suite in holding {
        let case = suite
            .cases
            .iter()
            .find(|c| c.path.canonicalize().ok().as_deref() == Some(path.as_path()))
            .unwrap()
            .clone();
        let results = runtime.block_on(async {
            let endpoints = plan::endpoints(&suite, &[], None).await.unwrap();
            plan::execute(
                &suite,
                std::slice::from_ref(&case),
                &endpoints.list,
                8,
                &Settings::default(),
            )
            .await
        });
        for result in results {
            let target = result.suite_target.clone().unwrap();
            if let Some(expected) = result.expected {
                assert_eq!(
                    result.verdict.kind, expected,
                    "{}@{target}: {}",
                    case.id, result.verdict.reason
                );
            }
            let dialect = harness::dialect::by_name(result.dialect).unwrap();
            check_snapshot(
                &suite,
                &Store::name(&case.id, &target),
                &render(&result, dialect),
            );
        }
    }
}

/// Compares a result with its snapshot as `harness run` does, and on a difference leaves it
/// beside the snapshot through the same code (so `cargo insta review` and `harness review`
/// accept the same bytes), following insta's `INSTA_UPDATE`: `always` records it, `no` (the
/// default with `CI` set) writes nothing, otherwise a `.snap.new` is left.
fn check_snapshot(suite: &Suite, name: &str, actual: &str) {
    let store = Store::of_suite(&suite.dir);
    let update = std::env::var("INSTA_UPDATE").unwrap_or_else(|_| {
        match std::env::var_os("CI") {
            Some(_) => "no",
            None => "auto",
        }
        .to_string()
    });
    let (what, stored) = match store.compare(name, actual) {
        Outcome::Matched => {
            store.reject(name).unwrap();
            return;
        }
        Outcome::New { .. } => ("has no snapshot yet", String::new()),
        Outcome::Changed { stored, .. } => ("changed (- stored, + this run)", stored),
    };
    match update.as_str() {
        "always" => return store.write(name, actual).unwrap(),
        "no" => {}
        _ => store.write_pending(name, actual).unwrap(),
    }
    panic!(
        "snapshot {name} {what}:\n{}\nreview it with `harness review {}` or `cargo insta review`",
        diff(&stored, actual),
        suite.dir.display()
    );
}

#[rstest]
fn scripted_case(#[files("../suites/*/cases/*.toml")] path: PathBuf) {
    check_case_file(&path);
}

#[rstest]
fn captured_case(#[files("../captures/*/*.toml")] path: PathBuf) {
    check_case_file(&path);
}
