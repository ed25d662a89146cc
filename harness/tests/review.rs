//! Snapshot review anywhere: `harness run` leaves each new or changed result beside its
//! snapshot as `CASE@TARGET.snap.new`, in the bytes the snapshot would hold; `harness review`
//! walks them at a terminal (driven here through a pseudo-terminal, util-linux `script`) with
//! accept / reject / skip, or all at once for scripts; the next run then passes.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CHANGED: &str = "msn-messenger-6.0@2003-09-18";
const ALSO_CHANGED: &str = "msn-messenger-6.0@2003-10-16";
const REMOVED: &str = "msn-messenger-5.0@2003-08-01";

/// A copy of the seed suite with two snapshots made stale and one removed; the original
/// snapshot files, by name.
fn suite_with_stale_snapshots() -> (tempfile::TempDir, Vec<(String, String)>) {
    let dir = suite_copy();
    let snapshots = dir.path().join("snapshots");
    let mut originals = Vec::new();
    for name in [CHANGED, ALSO_CHANGED, REMOVED] {
        let file = snapshots.join(format!("{name}.snap"));
        let text = std::fs::read_to_string(&file).unwrap();
        match name {
            REMOVED => std::fs::remove_file(&file).unwrap(),
            _ => std::fs::write(&file, text.replace("verdict: ", "verdict: stale ")).unwrap(),
        }
        originals.push((name.to_string(), text));
    }
    (dir, originals)
}

fn snap(dir: &Path, name: &str, extension: &str) -> PathBuf {
    dir.join("snapshots").join(format!("{name}.{extension}"))
}

fn run(dir: &Path) -> Output {
    harness(&["run", &dir.display().to_string()])
}

/// `harness review DIR` at a pseudo-terminal, typing `answers`.
fn review_at_a_terminal(dir: &Path, answers: &str) -> Output {
    let command = format!("{} review {}", env!("CARGO_BIN_EXE_harness"), dir.display());
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs a command at a pseudo-terminal");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answers.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_run_leaves_changed_and_new_results_for_review_in_the_bytes_a_snapshot_holds() {
    let (dir, originals) = suite_with_stale_snapshots();
    let out = run(dir.path());
    assert_eq!(
        out.status.code(),
        Some(harness::exit::MISMATCH),
        "{}",
        stdout(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains(&format!("harness review {}", dir.path().display())),
        "{text}"
    );
    for (name, original) in &originals {
        let pending = std::fs::read_to_string(snap(dir.path(), name, "snap.new")).unwrap();
        assert_eq!(&pending, original, "{name}.snap.new");
    }
    let pending = std::fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".snap.new")
        })
        .count();
    assert_eq!(
        pending, 3,
        "only the changed and new results are left for review"
    );
}

#[test]
fn review_at_a_terminal_accepts_rejects_and_skips_then_the_next_run_passes() {
    let (dir, originals) = suite_with_stale_snapshots();
    assert_eq!(run(dir.path()).status.code(), Some(harness::exit::MISMATCH));

    // In name order: 5.0@08-01 (new), 6.0@09-18, 6.0@10-16. An unknown answer asks again.
    let out = review_at_a_terminal(dir.path(), "a\nmaybe\ns\nr\n");
    let screen = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{screen}{}", stderr(&out));
    assert!(
        screen.contains(&format!("[1/3] {REMOVED}: new")),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("[2/3] {CHANGED}: changed (- stored, + this run)")),
        "{screen}"
    );
    assert!(screen.contains("  -verdict: stale admitted"), "{screen}");
    assert!(screen.contains("  +verdict: admitted"), "{screen}");
    // The transcript is shown whole, not only the changed lines.
    assert!(screen.contains("   transcript:"), "{screen}");
    assert!(
        screen.contains("1 accepted, 1 rejected, 1 skipped; 1 left to review"),
        "{screen}"
    );
    let original = |name: &str| &originals.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(
        &std::fs::read_to_string(snap(dir.path(), REMOVED, "snap")).unwrap(),
        original(REMOVED)
    );
    assert!(
        snap(dir.path(), CHANGED, "snap.new").exists(),
        "skipped: still pending"
    );
    assert!(
        !snap(dir.path(), ALSO_CHANGED, "snap.new").exists(),
        "rejected: gone"
    );

    // The rejected one is left for review again by the next run; then all are accepted.
    assert_eq!(run(dir.path()).status.code(), Some(harness::exit::MISMATCH));
    let out = review_at_a_terminal(dir.path(), "a\na\n");
    assert!(
        stdout(&out).contains("2 accepted, 0 rejected, 0 skipped; 0 left to review"),
        "{}",
        stdout(&out)
    );
    let out = run(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    for (name, text) in &originals {
        assert_eq!(
            &std::fs::read_to_string(snap(dir.path(), name, "snap")).unwrap(),
            text,
            "{name}"
        );
    }
}

#[test]
fn scripts_accept_or_reject_all_and_a_pipe_is_not_asked() {
    let (dir, originals) = suite_with_stale_snapshots();
    run(dir.path());
    let suite = dir.path().display().to_string();

    let asked = harness(&["review", &suite]);
    assert_eq!(asked.status.code(), Some(harness::exit::USAGE));
    assert!(
        stderr(&asked).contains("--accept-all or --reject-all"),
        "{}",
        stderr(&asked)
    );

    let on_ci = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["review", &suite, "--accept-all"])
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(on_ci.status.code(), Some(harness::exit::USAGE));
    assert!(
        !snap(dir.path(), REMOVED, "snap").exists(),
        "nothing accepted on CI"
    );

    let rejected = harness(&["review", &suite, "--reject-all"]);
    assert!(
        stdout(&rejected).contains("0 accepted, 3 rejected"),
        "{}",
        stdout(&rejected)
    );
    assert_eq!(run(dir.path()).status.code(), Some(harness::exit::MISMATCH));
    let accepted = harness(&["review", &suite, "--accept-all"]);
    assert!(
        stdout(&accepted).contains("3 accepted, 0 rejected"),
        "{}",
        stdout(&accepted)
    );
    assert_eq!(run(dir.path()).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(snap(dir.path(), CHANGED, "snap")).unwrap(),
        originals[0].1
    );
    let nothing = harness(&["review", &suite, "--accept-all"]);
    assert!(
        stdout(&nothing).contains("no snapshots to review"),
        "{}",
        stdout(&nothing)
    );
}
