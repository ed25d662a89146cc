//! The vendor self-test bundle: one JSON file a client vendor sends to a network operator,
//! holding the harness version, the suite's content hash (every file's sha256), each case's
//! hash, the targets, verdicts and transcripts, sealed by a sha256 over all of it. Keys are
//! serialised sorted, so the seal is recomputed byte for byte on verification. The seal shows
//! the bundle was not altered after it was made; it does not prove who made it.

use crate::report::{CaseResult, result_json};
use crate::suite::Suite;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

mod writer;

pub use writer::Writer;

pub const FORMAT: &str = "harness-bundle/1";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file the suite's verdicts depend on: suite.toml, a dialect file, policies, case files.
fn suite_files(suite: &Suite) -> Vec<PathBuf> {
    let mut files = vec![suite.dir.join("suite.toml")];
    files.extend(suite.dialect.source_file().map(Path::to_path_buf));
    for target in &suite.targets {
        if let crate::suite::TargetKind::Reference { policy_path, .. } = &target.kind
            && !files.contains(policy_path)
        {
            files.push(policy_path.clone());
        }
    }
    files.extend(suite.cases.iter().map(|c| c.path.clone()));
    files
}

/// `path` relative to the suite folder where it is inside it.
fn shown(suite_dir: &Path, path: &Path) -> String {
    pathdiff(suite_dir, path).display().to_string()
}

fn pathdiff(base: &Path, path: &Path) -> PathBuf {
    match (base.canonicalize(), path.canonicalize()) {
        (Ok(b), Ok(p)) => p.strip_prefix(&b).map(Path::to_path_buf).unwrap_or(p),
        _ => path.to_path_buf(),
    }
}

/// The manifest of the suite's files, and the suite hash over it.
pub fn manifest(suite: &Suite) -> std::io::Result<(Vec<Value>, String)> {
    let mut entries = Vec::new();
    for file in suite_files(suite) {
        let bytes = std::fs::read(&file)?;
        entries.push(json!({ "path": shown(&suite.dir, &file), "sha256": sha256(&bytes) }));
    }
    let hash = sha256(&serde_json::to_vec(&entries).unwrap_or_default());
    Ok((entries, hash))
}

fn seal(body: &Value) -> String {
    sha256(&serde_json::to_vec(body).unwrap_or_default())
}

/// The bundle for a run of `suite` with these results.
pub fn make(suite: &Suite, results: &[CaseResult]) -> std::io::Result<Value> {
    let (files, suite_hash) = manifest(suite)?;
    let results: Vec<Value> = results
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&result_json(r)).ok())
        .collect();
    let cases: Vec<Value> = suite
        .cases
        .iter()
        .map(|c| {
            let hash = std::fs::read(&c.path)
                .map(|b| sha256(&b))
                .unwrap_or_default();
            let origin = match &c.origin {
                crate::case::Origin::Script => "script",
                crate::case::Origin::Capture { .. } => "capture",
            };
            json!({ "case": c.id, "origin": origin, "sha256": hash })
        })
        .collect();
    let body = json!({
        "format": FORMAT,
        "harness_version": env!("CARGO_PKG_VERSION"),
        "suite": { "name": suite.name, "sha256": suite_hash, "files": files },
        "cases": cases,
        "results": results,
    });
    let digest = seal(&body);
    let mut bundle = body;
    bundle["bundle_sha256"] = Value::String(digest);
    Ok(bundle)
}

/// What verification found: an empty list means every hash checked out.
pub fn verify(bundle: &Value, suite: Option<&Suite>) -> Result<Vec<String>, String> {
    let mut body = bundle.clone();
    let Some(stated) = body.as_object_mut().and_then(|o| o.remove("bundle_sha256")) else {
        return Err("not a harness bundle: no bundle_sha256".to_string());
    };
    if body["format"] != FORMAT {
        return Err(format!(
            "not a harness bundle: format {} (expected {FORMAT})",
            body["format"]
        ));
    }
    let mut problems = Vec::new();
    if stated.as_str() != Some(seal(&body).as_str()) {
        problems.push("the bundle's contents do not match its bundle_sha256: it was altered after it was made".to_string());
    }
    let files = body["suite"]["files"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if body["suite"]["sha256"].as_str()
        != Some(sha256(&serde_json::to_vec(&files).unwrap_or_default()).as_str())
    {
        problems.push("the suite hash does not match the bundle's file list".to_string());
    }
    if let Some(suite) = suite {
        let (local, local_hash) =
            manifest(suite).map_err(|e| format!("cannot hash the suite: {e}"))?;
        if body["suite"]["sha256"].as_str() != Some(local_hash.as_str()) {
            for entry in &files {
                let path = entry["path"].as_str().unwrap_or_default();
                match local.iter().find(|l| l["path"] == entry["path"]) {
                    None => problems.push(format!("{path}: in the bundle, not in the local suite")),
                    Some(l) if l["sha256"] != entry["sha256"] => {
                        problems.push(format!("{path}: differs from the local suite"))
                    }
                    Some(_) => {}
                }
            }
            for l in &local {
                if !files.iter().any(|e| e["path"] == l["path"]) {
                    problems.push(format!(
                        "{}: in the local suite, not in the bundle",
                        l["path"].as_str().unwrap_or_default()
                    ));
                }
            }
            if problems.is_empty() {
                problems.push("the suite hash differs from the local suite's".to_string());
            }
        }
    }
    Ok(problems)
}
