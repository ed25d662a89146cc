//! `harness verify-bundle`: re-checks a self-test bundle's seal and suite hash, and compares
//! its file hashes with a local copy of the suite when given one.

use super::Failure;
use crate::bundle;
use crate::cli::VerifyBundleArgs;
use crate::exit;
use crate::suite::load_suite;

pub fn verify_bundle(args: &VerifyBundleArgs) -> Result<i32, Failure> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", args.file.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(format!("{}: not JSON: {e}", args.file.display())))?;
    let suite = match &args.suite {
        Some(path) => Some(load_suite(path).map_err(|e| Failure::Usage(e.to_string()))?),
        None => None,
    };
    let problems = bundle::verify(&value, suite.as_ref())
        .map_err(|e| Failure::Usage(format!("{}: {e}", args.file.display())))?;
    let results = value["results"].as_array().map_or(0, Vec::len);
    if problems.is_empty() {
        crate::outln!(
            "bundle ok: suite {} ({}), {} results, made by harness {}",
            value["suite"]["name"].as_str().unwrap_or("?"),
            value["suite"]["sha256"].as_str().unwrap_or("?"),
            results,
            value["harness_version"].as_str().unwrap_or("?")
        );
        return Ok(exit::SUCCESS);
    }
    for problem in &problems {
        crate::outln!("✗ {problem}");
    }
    Ok(exit::MISMATCH)
}
