//! One test per case file of every suite (scripted cases and the captures suites include),
//! named after the file and found by glob: each runs its case against every target of the
//! suites that hold it, checks the verdict against the suite's expectation and the result
//! against its snapshot in `SUITE/snapshots/`, the same files `harness run` checks.

#[path = "../harness/tests/common/mod.rs"]
mod common;

use harness::commands::plan;
use harness::runner::Settings;
use harness::snapshot::{Store, render};
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
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(Store::of_suite(&suite.dir).dir());
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            settings.bind(|| {
                insta::assert_snapshot!(Store::name(&case.id, &target), render(&result, dialect))
            });
        }
    }
}

#[rstest]
fn scripted_case(#[files("../suites/*/cases/*.toml")] path: PathBuf) {
    check_case_file(&path);
}

#[rstest]
fn captured_case(#[files("../captures/*/*.toml")] path: PathBuf) {
    check_case_file(&path);
}
