//! `harness run`: every case of a suite against every target, compared with the suite's
//! expectations, written as a table or JSON Lines.

use super::Failure;
use crate::cli::{Format, RunArgs};
use crate::dialect;
use crate::report::{self, CaseResult, Summary};
use crate::runner::{self, Job, Settings};
use crate::server::{self, RunningServer, ServerConfig};
use crate::suite::{Suite, load_suite};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// An endpoint the cases run against, and whose expectations apply to it.
struct Target {
    name: String,
    addr: String,
    expectations_of: Option<String>,
}

pub async fn run(args: &RunArgs) -> Result<i32, Failure> {
    let suite = load_suite(&args.suite).map_err(|e| Failure::Usage(e.to_string()))?;
    let settings = Settings {
        step_timeout: args
            .timeout
            .or(suite.timeout)
            .unwrap_or(Duration::from_secs(5)),
        ..Settings::default()
    };
    // The servers must outlive the run: dropping one stops it.
    let (targets, _servers) = targets(&suite, args).await?;
    let jobs = jobs(&suite, args, &targets)?;
    let runs = runner::run_all(
        jobs.iter().map(|(job, _)| job.clone()).collect(),
        args.jobs as usize,
        &settings,
    )
    .await;

    let results: Vec<CaseResult> = jobs
        .iter()
        .zip(runs)
        .map(|((job, target), run)| CaseResult {
            case: job.case.id.clone(),
            name: job.case.name.clone(),
            target: target.name.clone(),
            expected: target
                .expectations_of
                .as_ref()
                .and_then(|name| suite.expected(&job.case.id, name)),
            verdict: run.verdict,
            duration: run.duration,
            transcript: run.transcript,
            divergences: run.divergences,
        })
        .collect();

    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Table => report::write_table(&mut out, &results),
        Format::Json => report::write_jsonl(&mut out, &results),
    }
    .and_then(|()| out.flush());
    match written {
        // A closed pipe (`harness run ... | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(Failure::Runtime(format!("cannot write the report: {e}")));
        }
        _ => {}
    }
    Ok(Summary::exit_code(&results))
}

/// The endpoints: `--target`s as given, or one embedded reference server per suite target.
async fn targets(
    suite: &Suite,
    args: &RunArgs,
) -> Result<(Vec<Target>, Vec<RunningServer>), Failure> {
    if !args.target.is_empty() {
        if let Some(name) = &args.expect
            && suite.target(name).is_none()
        {
            let known: Vec<&str> = suite.targets.iter().map(|t| t.name.as_str()).collect();
            return Err(Failure::Usage(format!(
                "--expect {name}: suite {} has no target `{name}` (its targets: {})",
                suite.name,
                known.join(", ")
            )));
        }
        let targets = args
            .target
            .iter()
            .map(|addr| Target {
                name: addr.clone(),
                addr: addr.clone(),
                expectations_of: args.expect.clone(),
            })
            .collect();
        return Ok((targets, Vec::new()));
    }
    if suite.targets.is_empty() {
        return Err(Failure::Usage(format!(
            "suite {} defines no [[target]]: give --target HOST:PORT",
            suite.name
        )));
    }
    let mut targets = Vec::new();
    let mut servers = Vec::new();
    for target in &suite.targets {
        let config = ServerConfig {
            policy: target.policy.clone(),
            as_of: target.as_of,
            idle_timeout: Duration::from_secs(30),
            max_connections: 4096,
            log: false,
        };
        let server = server::start("127.0.0.1:0", config)
            .await
            .map_err(|e| Failure::Runtime(e.to_string()))?;
        targets.push(Target {
            name: target.name.clone(),
            addr: server.addr.to_string(),
            expectations_of: Some(target.name.clone()),
        });
        servers.push(server);
    }
    Ok((targets, servers))
}

/// `--case TEXT` selects the case named TEXT, or, when no case has that name, every case
/// whose name contains it.
fn selects(suite: &Suite, filter: &str, id: &str) -> bool {
    if suite.cases.iter().any(|c| c.id == filter) {
        id == filter
    } else {
        id.contains(filter)
    }
}

/// One job per (case, target), grouped by case so a client's fate reads across the targets.
fn jobs<'t>(
    suite: &Suite,
    args: &RunArgs,
    targets: &'t [Target],
) -> Result<Vec<(Job, &'t Target)>, Failure> {
    let variables = Arc::new(suite.variables.clone());
    let selected: Vec<_> = suite
        .cases
        .iter()
        .filter(|case| {
            args.cases.is_empty() || args.cases.iter().any(|f| selects(suite, f, &case.id))
        })
        .collect();
    if selected.is_empty() {
        return Err(Failure::Usage(format!(
            "no case of suite {} matches --case {}",
            suite.name,
            args.cases.join(", ")
        )));
    }
    let mut jobs = Vec::new();
    for case in selected {
        let name = case.dialect.as_deref().unwrap_or(&suite.dialect);
        let dialect = dialect::by_name(name)
            .ok_or_else(|| Failure::Usage(format!("case {}: unknown dialect `{name}`", case.id)))?;
        for target in targets {
            jobs.push((
                Job {
                    case: case.clone(),
                    addr: target.addr.clone(),
                    dialect,
                    variables: variables.clone(),
                },
                target,
            ));
        }
    }
    Ok(jobs)
}
