//! `cargo insta pending-snapshots` and `cargo insta accept`, run from the repository root as
//! the README says, find and record the suites' snapshots (`suites/*/snapshots/*.snap.new`),
//! and `harness run` then reads what insta recorded. Runs on a copy of the repository, so the
//! real snapshots are never touched. Needs cargo-insta (`ci/install.sh` installs it).

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

const SNAPSHOT: &str = "suites/msn-2003/snapshots/msn-messenger-6.0@2003-09-18.snap";

fn cargo_insta(root: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .arg("insta")
        .args(args)
        .current_dir(root)
        // Only cargo metadata runs: everything it needs is in Cargo.lock and the local cache.
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("CI")
        .output()
        .expect("run cargo insta")
}

/// The repository as cargo-insta sees it: the workspace, the crate and the suites.
fn copy_of_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(root.join(file), dir.path().join(file)).unwrap();
    }
    for folder in ["harness", "suites", "captures"] {
        copy_dir(&root.join(folder), &dir.path().join(folder));
    }
    dir
}

#[test]
fn cargo_insta_finds_and_accepts_suite_snapshots_from_the_repository_root() {
    let version = cargo_insta(&repo_root(), &["--version"]);
    assert!(
        version.status.success(),
        "cargo-insta is not installed (bash ci/install.sh installs it): {}",
        stderr(&version)
    );
    let repo = copy_of_repository();
    let snapshot = repo.path().join(SNAPSHOT);
    // A failing `cargo test` leaves the new result beside a stale stored one.
    let current = std::fs::read_to_string(&snapshot).unwrap();
    let stale = current.replace("6.0.0602 6.0.0602", "6.0.0601 6.0.0601");
    assert_ne!(stale, current);
    std::fs::write(&snapshot, &stale).unwrap();
    std::fs::write(snapshot.with_extension("snap.new"), &current).unwrap();
    let before = harness(&[
        "run",
        &repo.path().join("suites/msn-2003").display().to_string(),
    ]);
    assert_eq!(before.status.code(), Some(harness::exit::MISMATCH));
    assert!(stdout(&before).contains("1 changed: msn-messenger-6.0@2003-09-18"));

    let pending = cargo_insta(repo.path(), &["pending-snapshots"]);
    assert!(
        pending.status.success(),
        "{:?} {} {}",
        pending.status,
        stdout(&pending),
        stderr(&pending)
    );
    let listed = format!("{}{}", stdout(&pending), stderr(&pending));
    assert!(
        listed.contains("msn-messenger-6.0@2003-09-18.snap"),
        "cargo insta pending-snapshots does not list the suite snapshot:\n{listed}"
    );

    let accept = cargo_insta(repo.path(), &["accept"]);
    assert!(accept.status.success(), "{}", stderr(&accept));
    assert!(!snapshot.with_extension("snap.new").exists());
    assert_eq!(std::fs::read_to_string(&snapshot).unwrap(), current);
    let after = harness(&[
        "run",
        &repo.path().join("suites/msn-2003").display().to_string(),
    ]);
    assert_eq!(
        after.status.code(),
        Some(harness::exit::SUCCESS),
        "{}",
        stdout(&after)
    );
    assert!(
        stdout(&after).contains("  0 changed\n"),
        "{}",
        stdout(&after)
    );
}
