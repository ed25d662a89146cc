//! `harness whatif CAPTURE --dialect D --policy SUITE` (or `--target NAME=HOST:PORT`): the
//! whole what-if in one command. The capture's distinct clients are found as `import --group`
//! finds them (into a temporary suite, or `--out DIR`), then run against the policy: the
//! servers, settings and variables of a suite that enforces it, or any endpoint. The reports
//! are `run`'s: the table with every client's verdict and reason, the impact in sessions with
//! the clients each target locks out or warns, and HTML, JUnit, Markdown, JSON Lines.

use super::Failure;
use crate::cli::{ImportArgs, ImportFrom, RunArgs, WhatifArgs};
use crate::status;
use crate::suite::load_suite;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub async fn whatif(args: &WhatifArgs) -> Result<i32, Failure> {
    let dialect = super::dialect(&args.dialect)?;
    if args.policy.is_none() && args.target.is_empty() {
        return Err(Failure::Usage(
            "whatif: give the policy as --policy SUITE (its servers) or --target NAME=HOST:PORT"
                .into(),
        ));
    }
    let policy = match &args.policy {
        Some(path) => Some(super::suite_speaking(path, dialect, "--policy")?),
        None => None,
    };
    let folder = Folder::new(args.out.as_deref())?;
    let import = ImportArgs {
        file: args.capture.clone(),
        from: ImportFrom::Pcap,
        port: args.port,
        dialect: Some(dialect.name().to_string()),
        out: Some(folder.path.clone()),
        idle_timeout: Duration::from_secs(600),
        max_connections: 65_536,
        force: true,
        group: true,
        suite: args.policy.clone(),
        keylog: args.keylog.clone(),
    };
    // The import's lines go to stderr: stdout is the report's.
    status::divert_to_stderr(true);
    let imported = super::import_grouped::group(&import, dialect);
    if let Ok((clients, sessions)) = &imported {
        crate::outln!("{clients} distinct clients in {sessions} sessions of the capture");
    }
    status::divert_to_stderr(false);
    // A damaged capture is run as far as it was read, and the damage named at the end.
    let damage = match imported {
        Ok(_) => None,
        Err(failure) if folder.path.join("suite.toml").exists() => Some(failure),
        Err(failure) => return Err(failure),
    };
    let mut suite = load_suite(&folder.path).map_err(|e| Failure::Usage(e.to_string()))?;
    let capture = args.capture.file_name().map_or_else(
        || args.capture.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    suite.name = match &policy {
        Some(policy) => format!("{capture} against {}", policy.name),
        None => format!("{capture} against {}", args.target.join(", ")),
    };
    if let Some(policy) = policy {
        suite.targets = policy.targets;
        suite.dialect_settings = policy.dialect_settings;
        suite.timeout = policy.timeout.or(suite.timeout);
        suite.variables.extend(policy.variables);
    }
    let run = RunArgs {
        suite: folder.path.clone(),
        target: args.target.clone(),
        expect: None,
        replay: args.replay.clone(),
        reports: args.reports.clone(),
        repeat: None,
        rate: None,
        concurrency: None,
        duration: None,
        partition: None,
        bundle: None,
        accept: false,
        bless: false,
        cases: Vec::new(),
    };
    // No snapshots: a what-if has nothing to compare with.
    let code = super::run::run_suite(&suite, &run, false).await?;
    match damage {
        Some(failure) => Err(failure),
        None => Ok(code),
    }
}

/// Where the grouped suite is written: the folder asked for, kept; else a temporary one,
/// removed when the command ends.
struct Folder {
    path: PathBuf,
    temporary: bool,
}

impl Folder {
    fn new(asked: Option<&Path>) -> Result<Folder, Failure> {
        if let Some(path) = asked {
            return Ok(Folder {
                path: path.to_path_buf(),
                temporary: false,
            });
        }
        let path = super::private_folder::create("harness-whatif", 0o700)?;
        Ok(Folder {
            path,
            temporary: true,
        })
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
