//! `cargo insta pending-snapshots` and `cargo insta accept`, run from the repository root as
//! the README says, find and record the results `harness run` left for review
//! (`suites/*/snapshots/*.snap.new`), byte for byte as `harness review` would, and `harness
//! run` then reads what insta recorded. Runs on a copy of the repository, so the
//! real snapshots are never touched. Needs cargo-insta (`ci/install.sh` installs it).
//!
//! cargo-insta starts with a full `cargo metadata`, which reads the manifest of every package in
//! Cargo.lock for every platform: offline, that fails on a machine whose cargo home holds only
//! what `cargo build` and `cargo test` fetched (they skip Windows, wasm and Redox crates), and
//! it waits on the package cache lock of any other cargo using that home. So cargo-insta runs on
//! a private workspace whose manifests keep every target but no dependency, with a cargo home of
//! its own: what it reads (package folders, target paths, the snapshots) is the repository's,
//! and nothing outside the test's folders is read or locked. (The dependencies tell cargo-insta
//! only insta's version, which `pending-snapshots` and `accept` do not use.)

mod common;

use common::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SNAPSHOT: &str = "suites/msn-2003/snapshots/msn-messenger-6.0@2003-09-18.snap";

/// The repository as cargo-insta sees it, and a cargo home of its own.
struct PrivateWorkspace {
    root: tempfile::TempDir,
    cargo_home: tempfile::TempDir,
}

impl PrivateWorkspace {
    /// The workspace manifest, the crate (its manifest without dependency tables), the suites
    /// and the captures they include.
    fn copy_of_repository() -> PrivateWorkspace {
        let root = tempfile::tempdir().unwrap();
        let repo = repo_root();
        std::fs::copy(repo.join("Cargo.toml"), root.path().join("Cargo.toml")).unwrap();
        for folder in ["harness", "suites", "captures"] {
            copy_dir(&repo.join(folder), &root.path().join(folder));
        }
        let manifest = root.path().join("harness/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, without_dependencies(&text)).unwrap();
        PrivateWorkspace {
            root,
            cargo_home: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.root.path()
    }

    fn cargo_insta(&self, args: &[&str]) -> Output {
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .arg("insta")
            .args(args)
            .current_dir(self.path())
            .env("CARGO_HOME", self.cargo_home.path())
            // cargo looks for `cargo-insta` in its home's bin/ and on PATH: the private home has
            // none, so the real home's bin/ (where `cargo install` put it) goes first on PATH.
            .env("PATH", path_with(&real_cargo_home().join("bin")))
            .env("CARGO_NET_OFFLINE", "true")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CI")
            .output()
            .expect("run cargo insta")
    }
}

/// A Cargo manifest with every target and no dependency of any kind, on any platform.
fn without_dependencies(manifest: &str) -> String {
    let mut doc: toml_edit::DocumentMut = manifest.parse().unwrap();
    for table in [
        "dependencies",
        "dev-dependencies",
        "build-dependencies",
        "target",
    ] {
        doc.remove(table);
    }
    doc.to_string()
}

/// Where cargo keeps what `cargo install` installs: `CARGO_HOME`, else `~/.cargo`.
fn real_cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}

fn path_with(first: &Path) -> OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(first.to_path_buf()).chain(std::env::split_paths(&rest)))
        .unwrap()
}

/// What a subprocess did, for a failure message: its exit status, stdout and stderr.
fn described(what: &str, output: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout ---\n{}--- stderr ---\n{}",
        output.status,
        stdout(output),
        stderr(output)
    )
}

#[test]
fn cargo_insta_finds_and_accepts_suite_snapshots_from_the_repository_root() {
    let repo = PrivateWorkspace::copy_of_repository();
    let version = repo.cargo_insta(&["--version"]);
    assert!(
        version.status.success(),
        "cargo-insta is not installed (bash ci/install.sh installs it)\n{}",
        described("cargo insta --version", &version)
    );
    let snapshot = repo.path().join(SNAPSHOT);
    // A failing run (`harness run` here; `cargo test` writes through the same code) leaves the
    // new result beside a stale stored one.
    let current = std::fs::read_to_string(&snapshot).unwrap();
    let stale = current.replace("6.0.0602 6.0.0602", "6.0.0601 6.0.0601");
    assert_ne!(stale, current);
    std::fs::write(&snapshot, &stale).unwrap();
    let before = harness(&[
        "run",
        &repo.path().join("suites/msn-2003").display().to_string(),
    ]);
    assert_eq!(
        before.status.code(),
        Some(harness::exit::MISMATCH),
        "{}",
        described("harness run", &before)
    );
    assert!(
        stdout(&before).contains("1 changed: msn-messenger-6.0@2003-09-18"),
        "{}",
        described("harness run", &before)
    );
    assert_eq!(
        std::fs::read_to_string(snapshot.with_extension("snap.new")).unwrap(),
        current,
        "the pending result is in the bytes the snapshot holds"
    );

    let pending = repo.cargo_insta(&["pending-snapshots"]);
    assert!(
        pending.status.success(),
        "{}",
        described("cargo insta pending-snapshots", &pending)
    );
    let listed = format!("{}{}", stdout(&pending), stderr(&pending));
    assert!(
        listed.contains("msn-messenger-6.0@2003-09-18.snap"),
        "cargo insta pending-snapshots does not list the suite snapshot\n{}",
        described("cargo insta pending-snapshots", &pending)
    );

    let accept = repo.cargo_insta(&["accept"]);
    assert!(
        accept.status.success(),
        "{}",
        described("cargo insta accept", &accept)
    );
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
        described("harness run", &after)
    );
    assert!(
        stdout(&after).contains("  0 changed\n"),
        "{}",
        described("harness run", &after)
    );
}
