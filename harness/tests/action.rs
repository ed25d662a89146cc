//! The GitHub Action (`action.yml`) as a workflow runs it: its scripts (`ci/action/*.sh`; the
//! main step, `step.sh`, runs run.sh or merge.sh by mode) with the environment variables the
//! action's steps set (`INPUT_*`, `GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`, `GITHUB_WORKSPACE`,
//! `RUNNER_TEMP`), the binary already built (the install step's `binary` input), against a copy
//! of the seed suite (embedded reference server). The step summary holds the Markdown matrix,
//! the reports are written, the exit code is the run's, and a run sharded in two and merged by
//! the merge mode is the whole run. The README's starter workflow and action.yml's own wiring
//! are checked line by line.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A workflow's job: its workspace (holding suites/msn-2003) and runner temp folder.
struct Job {
    dir: tempfile::TempDir,
}

impl Job {
    fn new() -> Job {
        let dir = tempfile::tempdir().unwrap();
        let suite = dir.path().join("workspace/suites/msn-2003");
        copy_dir(&seed_suite(), &suite);
        let captures = repo_root().join("captures").display().to_string();
        let text = std::fs::read_to_string(suite.join("suite.toml")).unwrap();
        std::fs::write(
            suite.join("suite.toml"),
            text.replace("../../captures", &captures),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("runner-temp")).unwrap();
        Job { dir }
    }

    fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    fn runner_temp(&self) -> PathBuf {
        self.dir.path().join("runner-temp")
    }

    /// One step: `ci/action/SCRIPT` with the inputs, as action.yml's env block passes them;
    /// its exit code, step summary and outputs.
    fn step(&self, script: &str, inputs: &[(&str, &str)]) -> Step {
        self.step_with(script, &[], inputs)
    }

    /// A step whose script is given arguments too.
    fn step_with(&self, script: &str, args: &[&str], inputs: &[(&str, &str)]) -> Step {
        let n = std::fs::read_dir(self.dir.path()).unwrap().count();
        let summary = self.dir.path().join(format!("summary-{n}.md"));
        let outputs = self.dir.path().join(format!("output-{n}"));
        std::fs::write(&summary, "").unwrap();
        std::fs::write(&outputs, "").unwrap();
        let mut command = std::process::Command::new("bash");
        command
            .arg(repo_root().join("ci/action").join(script))
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("GITHUB_ACTION_PATH", repo_root())
            .env("GITHUB_WORKSPACE", self.workspace())
            .env("RUNNER_TEMP", self.runner_temp())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &outputs)
            .env("HARNESS_BIN", env!("CARGO_BIN_EXE_harness"));
        for (name, value) in inputs {
            command.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        let output = command.output().unwrap();
        let outputs = std::fs::read_to_string(&outputs)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Step {
            summary: std::fs::read_to_string(&summary).unwrap(),
            outputs,
            output,
        }
    }
}

struct Step {
    output: Output,
    summary: String,
    outputs: BTreeMap<String, String>,
}

impl Step {
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn explain(&self) -> String {
        format!(
            "exit {:?}\nstdout: {}\nstderr: {}",
            self.code(),
            stdout(&self.output),
            stderr(&self.output)
        )
    }
}

/// Each result of a JSON Lines report as (case, target) → verdict, expected, matches, stage (the
/// deciding message holds the server's nonces); and its summary line's counts.
fn results(file: &Path) -> (BTreeMap<(String, String), String>, serde_json::Value) {
    let text = std::fs::read_to_string(file).unwrap();
    let (lines, summary) = json_lines(&text);
    let mut results = BTreeMap::new();
    for line in lines.iter().filter(|l| l.get("case").is_some()) {
        let key = (
            line["case"].as_str().unwrap().to_string(),
            line["target"].as_str().unwrap().to_string(),
        );
        let value = format!(
            "{} {} {} {}",
            line["verdict"], line["expected"], line["matches"], line["stage"]
        );
        assert!(results.insert(key, value).is_none(), "a result twice");
    }
    (results, summary)
}

#[test]
fn the_install_step_takes_a_given_binary_and_builds_nothing() {
    let job = Job::new();
    let step = job.step(
        "install.sh",
        &[("binary", env!("CARGO_BIN_EXE_harness")), ("version", "")],
    );
    assert_eq!(step.code(), Some(0), "{}", step.explain());
    assert_eq!(step.outputs["bin"], env!("CARGO_BIN_EXE_harness"));
    assert!(
        stdout(&step.output).starts_with("harness "),
        "{}",
        step.explain()
    );
    assert!(!job.runner_temp().join("harness-target").exists());

    // The cache's key: what the build depends on, the version asked for when one is.
    let key = |inputs: &[(&str, &str)]| job.step_with("install.sh", &["--cache-key"], inputs);
    let own = key(&[]);
    assert_eq!(own.code(), Some(0), "{}", own.explain());
    assert!(
        own.outputs["key"].starts_with("harness-"),
        "{:?}",
        own.outputs
    );
    assert_eq!(
        key(&[]).outputs["key"],
        own.outputs["key"],
        "the same sources, one key"
    );
    let tagged = key(&[("version", "v0.1.0")]);
    assert!(
        tagged.outputs["key"].ends_with("-v0.1.0"),
        "{:?}",
        tagged.outputs
    );
    assert!(
        !own.outputs.contains_key("bin"),
        "--cache-key installs nothing"
    );

    let missing = job.step("install.sh", &[("binary", "/nonexistent/harness")]);
    assert_eq!(missing.code(), Some(2), "{}", missing.explain());
    assert!(stderr(&missing.output).contains("/nonexistent/harness"));
}

#[test]
fn the_run_step_writes_the_summary_and_reports_and_exits_as_the_run() {
    let job = Job::new();
    let step = job.step("step.sh", &[("mode", "run"), ("suites", "suites/msn-2003")]);
    assert_eq!(step.code(), Some(0), "{}", step.explain());
    assert!(
        step.summary
            .contains("| client | 2003-08-01 | 2003-09-18 | 2003-10-16 |"),
        "{}",
        step.summary
    );
    assert!(
        step.summary
            .contains("| MSN Messenger 4.6 | 🟢 admitted | 🟡 warned | 🔴 locked out |"),
        "{}",
        step.summary
    );
    let reports = job.workspace().join("harness-reports");
    assert_eq!(Path::new(&step.outputs["reports"]), reports);
    assert_eq!(step.outputs["artifact"], "harness-reports");
    assert_eq!(step.outputs["exit-code"], "0");
    let suite = reports.join("msn-2003");
    let junit = std::fs::read_to_string(suite.join("junit.xml")).unwrap();
    assert!(junit.contains("<testsuite name=\"2003-10-16\""), "{junit}");
    let html = std::fs::read_to_string(suite.join("html/index.html")).unwrap();
    assert!(html.contains("MSN Messenger 4.6"));
    let (whole, summary) = results(&suite.join("results.jsonl"));
    assert_eq!(whole.len(), 129);
    assert_eq!(summary["exit_code"], 0);

    // A changed expectation: the run says 1, and so do the step and the summary.
    let file = job.workspace().join("suites/msn-2003/suite.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replacen(
        r#""msn-messenger-4.6"           = { "2003-08-01" = "admitted""#,
        r#""msn-messenger-4.6"           = { "2003-08-01" = "locked-out""#,
        1,
    );
    assert_ne!(changed, text, "the seed suite's expectation line moved");
    std::fs::write(&file, changed).unwrap();
    let step = job.step("step.sh", &[("mode", "run"), ("suites", "suites/msn-2003")]);
    assert_eq!(step.code(), Some(1), "{}", step.explain());
    assert_eq!(step.outputs["exit-code"], "1");
    assert!(
        step.summary
            .contains("| MSN Messenger 4.6 | 🟢 admitted ✗ (expected locked-out) |"),
        "{}",
        step.summary
    );
    assert!(
        step.summary.contains("128 as expected, 1 mismatched"),
        "{}",
        step.summary
    );
    let junit = std::fs::read_to_string(suite.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
}

#[test]
fn a_run_sharded_in_two_and_merged_by_the_merge_mode_is_the_whole_run() {
    let job = Job::new();
    let whole = job.step(
        "step.sh",
        &[
            ("mode", "run"),
            ("suites", "suites/msn-2003"),
            ("reports", "whole"),
        ],
    );
    assert_eq!(whole.code(), Some(0), "{}", whole.explain());
    let shards = job.runner_temp().join("harness-shards");
    for k in 1..=2 {
        let partition = format!("{k}/2");
        let step = job.step(
            "step.sh",
            &[
                ("mode", "run"),
                ("suites", "suites/msn-2003"),
                ("partition", &partition),
                ("reports", &format!("shard-{k}")),
            ],
        );
        assert_eq!(step.code(), Some(0), "{}", step.explain());
        assert_eq!(
            step.outputs["artifact"],
            format!("harness-reports-{k}-of-2")
        );
        assert!(
            step.summary.contains(&format!("partition {k}/2")),
            "{}",
            step.summary
        );
        // As the download step puts each artifact: RUNNER_TEMP/harness-shards/NAME/.
        copy_dir(
            Path::new(&step.outputs["reports"]),
            &shards.join(&step.outputs["artifact"]),
        );
    }
    let merged = job.step(
        "step.sh",
        &[("suites", "suites/msn-2003"), ("mode", "merge")],
    );
    assert_eq!(merged.code(), Some(0), "{}", merged.explain());
    assert!(
        merged
            .summary
            .contains("| MSN Messenger 4.6 | 🟢 admitted | 🟡 warned | 🔴 locked out |"),
        "{}",
        merged.summary
    );
    assert!(
        merged.summary.contains("merged from 2 shards"),
        "{}",
        merged.summary
    );
    let reports = Path::new(&merged.outputs["reports"]).join("msn-2003");
    assert!(reports.join("junit.xml").exists() && reports.join("html/index.html").exists());
    let (whole_results, whole_summary) =
        results(&job.workspace().join("whole/msn-2003/results.jsonl"));
    let (merged_results, merged_summary) = results(&reports.join("results.jsonl"));
    assert_eq!(merged_results, whole_results);
    assert_eq!(merged_summary, whole_summary);

    // A shard lost: the merge refuses (exit 2) rather than report fewer results.
    std::fs::remove_dir_all(shards.join("harness-reports-2-of-2")).unwrap();
    let short = job.step(
        "step.sh",
        &[("mode", "merge"), ("suites", "suites/msn-2003")],
    );
    assert_eq!(short.code(), Some(2), "{}", short.explain());
    std::fs::remove_dir_all(&shards).unwrap();
    let none = job.step(
        "step.sh",
        &[("mode", "merge"), ("suites", "suites/msn-2003")],
    );
    assert_eq!(none.code(), Some(2), "{}", none.explain());
    assert!(stderr(&none.output).contains("no shard of msn-2003"));
}

#[test]
fn a_mode_other_than_run_or_merge_is_refused() {
    let job = Job::new();
    let step = job.step(
        "step.sh",
        &[("mode", "test"), ("suites", "suites/msn-2003")],
    );
    assert_eq!(step.code(), Some(2), "{}", step.explain());
    assert!(stderr(&step.output).contains("mode test is neither run nor merge"));
    assert!(!job.workspace().join("harness-reports").exists());
}

/// action.yml's inputs, and each `INPUT_X: ${{ inputs.y }}` its steps pass.
fn action_inputs() -> (Vec<String>, Vec<(String, String)>) {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    let mut inputs = Vec::new();
    let mut section = "";
    let mut passed = Vec::new();
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line.trim_end_matches(':');
        } else if section == "inputs"
            && let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
        {
            inputs.push(name.to_string());
        }
        if let Some((var, value)) = line.trim().split_once(": ${{ inputs.")
            && let Some(var) = var.strip_prefix("INPUT_")
        {
            passed.push((var.to_string(), value.trim_end_matches(" }}").to_string()));
        }
    }
    (inputs, passed)
}

#[test]
fn action_yml_passes_every_input_the_scripts_read_and_pins_every_action() {
    let (inputs, passed) = action_inputs();
    for name in [
        "suites",
        "partition",
        "mode",
        "version",
        "binary",
        "reports",
        "artifact",
    ] {
        assert!(
            inputs.contains(&name.to_string()),
            "input {name}: {inputs:?}"
        );
    }
    for (var, input) in &passed {
        assert!(inputs.contains(input), "{var} from unknown input {input}");
        assert_eq!(var, &input.to_uppercase().replace('-', "_"));
    }
    let action = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    let scripts = repo_root().join("ci/action");
    for entry in std::fs::read_dir(&scripts).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for (at, _) in text.match_indices("INPUT_") {
            let var: String = text[at + 6..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            // `INPUT_*` in a comment names no variable.
            assert!(
                var.is_empty() || passed.iter().any(|(v, _)| *v == var),
                "the scripts read INPUT_{var}, which action.yml never sets"
            );
        }
    }
    for mode in ["run", "merge"] {
        assert!(scripts.join(format!("{mode}.sh")).exists());
    }
    assert!(action.contains("ci/action/step.sh"), "the main step");
    for line in action
        .lines()
        .filter(|l| l.trim_start().starts_with("uses:"))
    {
        let pin = line.split('@').nth(1).unwrap_or_default();
        let sha = pin.split_whitespace().next().unwrap_or_default();
        assert!(
            sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
            "not pinned by commit: {line}"
        );
    }
}

#[test]
fn the_readmes_starter_workflow_names_the_actions_inputs() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let block = readme
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.contains("/harness@"))
        .expect("a yaml block using the action");
    assert!(block.lines().count() <= 16, "about ten lines:\n{block}");
    let (inputs, _) = action_inputs();
    let lines: Vec<&str> = block.lines().collect();
    let uses = lines.iter().position(|l| l.contains("/harness@")).unwrap();
    let indent = |l: &str| l.len() - l.trim_start().len();
    assert_eq!(lines[uses + 1].trim(), "with:", "{block}");
    let mut given = Vec::new();
    for line in &lines[uses + 2..] {
        if indent(line) <= indent(lines[uses + 1]) {
            break;
        }
        given.push(line.trim().split(':').next().unwrap().to_string());
    }
    assert!(given.contains(&"suites".to_string()), "{block}");
    for name in &given {
        assert!(
            inputs.contains(name),
            "the starter workflow gives {name}, not an input"
        );
    }
    // What `harness new` writes is the same workflow.
    let written = harness::commands::starter_workflow("suites/my-suite", &["nginx-light"]);
    assert_eq!(block, written);
}
