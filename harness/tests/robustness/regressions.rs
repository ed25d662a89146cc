//! Inputs a fuzz campaign once found failing, kept as named files in
//! `tests/fixtures/regressions/` and replayed through the property they broke. A file's name
//! says which: `<target>--<what went wrong>.<ext>`.

use crate::{import, msnp, parsers, tls};
use harness::dialect::Ending;
use proptest::test_runner::TestCaseError;
use std::path::PathBuf;

fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regressions")
}

/// Replays one kept input through the check of the target its name gives.
fn replay(target: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let text = || String::from_utf8_lossy(bytes).into_owned();
    match target {
        "capture" => crate::campaign::alone(|| import::check_capture(bytes)),
        "msnp-server" => [1, 7, bytes.len()].into_iter().try_for_each(|step| {
            msnp::check_msnp_server(bytes, step, Ending::Closed)?;
            msnp::check_msnp_server(bytes, step, Ending::ScriptEnded)
        }),
        "tls-server" => tls::check_tls_server(bytes, bytes.len(), Ending::Closed),
        "tls-client-hello" => ["a", "example.org", "a-much-longer-host-name.example"]
            .into_iter()
            .try_for_each(|host| tls::check_client_hello(bytes, host)),
        "case" => parsers::check_case(&text()),
        "policy" => parsers::check_policy(&text()),
        other => Err(TestCaseError::fail(format!(
            "unknown target `{other}`: name the file <target>--<what>.<ext>"
        ))),
    }
}

#[test]
fn kept_failing_inputs_stay_fixed() {
    let mut files: Vec<_> = std::fs::read_dir(directory())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no regression inputs in {:?}",
        directory()
    );
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let Some((target, _)) = name.split_once("--") else {
            failures.push(format!("{name}: name it <target>--<what>.<ext>"));
            continue;
        };
        let bytes = std::fs::read(file).unwrap();
        if let Err(e) = replay(target, &bytes) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
