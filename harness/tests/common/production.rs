//! Helpers for the production-capture tests: a capture imported with `import --group` and
//! checked as a suite of distinct clients, a stricter server of a shipped suite added as its
//! target, the grouped run's session-weighted impact, and shares compared with another count.

use super::{harness, json_lines, repo_root, stderr, stdout};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A stricter server of a shipped suite, as a `[[target]]` of another suite.
pub fn target(name: &str, suite: &str, script: &str, phase: &str, extra: &str) -> String {
    let script = repo_root()
        .join("suites")
        .join(suite)
        .join("servers")
        .join(script);
    format!(
        "\n[[target]]\nname = \"{name}\"\ncommand = [\"bash\", \"{}\", \"{phase}\", \"{{port}}\"]\n{extra}",
        script.canonicalize().unwrap().display()
    )
}

/// One case of a grouped import: a distinct client and the sessions it stands for.
#[derive(Debug)]
pub struct GroupedCase {
    /// The case file's stem: the `case` of its results.
    pub stem: String,
    pub name: String,
    pub count: usize,
    /// Where its first 16 sessions are in connection order, from 0 (their `#N` counts from 1).
    pub sessions: Vec<usize>,
}

/// `import CAPTURE --dialect D --port P --group --out DIR`, checked as a user would: exit 0,
/// no two cases with one name, every case of this capture, and a population of sessions that
/// adds up to the cases' counts.
pub fn import_grouped(capture: &Path, dialect: &str, port: &str, out: &Path) -> Vec<GroupedCase> {
    let import = harness(&[
        "import",
        capture.to_str().unwrap(),
        "--dialect",
        dialect,
        "--port",
        port,
        "--group",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        import.status.code(),
        Some(0),
        "{}{}",
        stdout(&import),
        stderr(&import)
    );
    let (sha256, _) = harness::capture::import::sha256_of(capture).unwrap();
    let mut names = BTreeSet::new();
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(out.join("cases")).unwrap() {
        let path = entry.unwrap().path();
        let value: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = value["capture"]["name"].as_str().unwrap().to_string();
        assert!(names.insert(name.clone()), "two clients named {name}");
        assert_eq!(value["capture"]["sha256"].as_str(), Some(sha256.as_str()));
        let sessions = value["sessions"]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let s = s.as_str().unwrap();
                s.strip_prefix('#')
                    .and_then(|s| s.split(' ').next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| n.checked_sub(1))
                    .unwrap_or_else(|| panic!("no connection number in {s:?}"))
            })
            .collect();
        cases.push(GroupedCase {
            stem: path.file_stem().unwrap().to_string_lossy().into_owned(),
            name,
            count: value["sessions"]["count"].as_integer().unwrap() as usize,
            sessions,
        });
    }
    // The suite's population is the session counts, and it says so.
    let suite: toml::Value =
        toml::from_str(&std::fs::read_to_string(out.join("suite.toml")).unwrap()).unwrap();
    assert_eq!(suite["population_unit"].as_str(), Some("sessions"));
    let population: BTreeMap<String, usize> = suite["population"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(case, n)| (case.clone(), n.as_integer().unwrap() as usize))
        .collect();
    let counts: BTreeMap<String, usize> = cases.iter().map(|c| (c.stem.clone(), c.count)).collect();
    assert_eq!(population, counts, "population against the cases' counts");
    cases
}

/// Adds `target` to a grouped suite, its own `[variables]` giving way to `variables`.
pub fn add_target(suite: &Path, variables: &str, target: &str) -> PathBuf {
    let suite_file = suite.join("suite.toml");
    let text = std::fs::read_to_string(&suite_file).unwrap();
    let text = match text.find("[variables]") {
        Some(at) => {
            let end = text[at..].find("\n\n").map_or(text.len(), |e| at + e);
            format!("{}{}", &text[..at], &text[end..])
        }
        None => text,
    };
    std::fs::write(&suite_file, format!("{text}\n{variables}\n{target}")).unwrap();
    suite_file
}

/// `run SUITE --format json`: each case's verdict, and the impact line (in sessions).
pub fn run_with_impact(suite: &Path) -> (BTreeMap<String, String>, serde_json::Value) {
    let run = harness(&["run", suite.to_str().unwrap(), "--format", "json"]);
    let text = stdout(&run);
    let impact: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "impact")
        .unwrap_or_else(|| panic!("no impact line: {text}{}", stderr(&run)));
    assert_eq!(impact["unit"], "sessions", "{impact}");
    let verdicts = json_lines(&text)
        .0
        .iter()
        .map(|r| {
            (
                r["case"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (verdicts, impact)
}

/// Asserts that the impact's shares are those of sessions counted by verdict.
pub fn assert_shares(impact: &serde_json::Value, by_verdict: &BTreeMap<String, usize>, what: &str) {
    let sessions: usize = by_verdict.values().sum();
    let share = |verdict: &str| {
        100.0 * by_verdict.get(verdict).copied().unwrap_or(0) as f64 / sessions as f64
    };
    for (field, verdict) in [
        ("admitted", "admitted"),
        ("warned", "warned"),
        ("locked_out", "locked-out"),
        ("error", "error"),
    ] {
        let grouped = impact[field].as_f64().unwrap();
        assert!(
            (grouped - share(verdict)).abs() < 1e-9,
            "{what} {verdict}: grouped {grouped}, sessions {} ({by_verdict:?}): {impact}",
            share(verdict)
        );
    }
}
