//! Running a suite: the endpoints (the suite's embedded reference servers, or given targets),
//! the cases selected, one job per (case, endpoint), and the results with their expectations.
//! `harness run` and the snapshot tests both run suites through here.

use super::Failure;
use crate::case::Case;
use crate::report::CaseResult;
use crate::runner::{self, Job, Settings, Target};
use crate::server::{self, RunningServer, ServerConfig};
use crate::suite::{Suite, TargetKind};
use std::sync::Arc;
use std::time::Duration;

/// An endpoint the cases run against.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// How reports name it: the suite target's name, or the address given.
    pub name: String,
    pub target: Arc<Target>,
    /// The suite target whose expectations and snapshots apply.
    pub suite_target: Option<String>,
}

/// Endpoints, with the embedded servers behind them kept running while this lives.
pub struct Endpoints {
    pub list: Vec<Endpoint>,
    _servers: Vec<RunningServer>,
    /// Real servers started for command targets; each stopped whole when dropped.
    _commands: Vec<super::server_process::ServerProcess>,
}

/// `targets` as given (compared with the suite target `expect`), or one embedded reference
/// server per suite target, on an ephemeral loopback port.
pub async fn endpoints(
    suite: &Suite,
    targets: &[String],
    expect: Option<&str>,
) -> Result<Endpoints, Failure> {
    if !targets.is_empty() {
        if let Some(name) = expect
            && suite.target(name).is_none()
        {
            let known: Vec<&str> = suite.targets.iter().map(|t| t.name.as_str()).collect();
            return Err(Failure::Usage(format!(
                "--expect {name}: suite {} has no target `{name}` (its targets: {})",
                suite.name,
                known.join(", ")
            )));
        }
        let list = targets
            .iter()
            .map(|given| {
                let (name, address) = crate::cli::split_target_name(given);
                Endpoint {
                    name: name.unwrap_or(address).to_string(),
                    target: Arc::new(target_of(address)),
                    suite_target: expect.map(str::to_string),
                }
            })
            .collect();
        return Ok(Endpoints {
            list,
            _servers: Vec::new(),
            _commands: Vec::new(),
        });
    }
    if suite.targets.is_empty() {
        return Err(Failure::Usage(format!(
            "suite {} defines no [[target]]: give --target HOST:PORT",
            suite.name
        )));
    }
    let mut list = Vec::new();
    let mut servers = Vec::new();
    let mut commands = Vec::new();
    for target in &suite.targets {
        let addr = match &target.kind {
            TargetKind::Reference { policy, as_of, .. } => {
                let config = ServerConfig {
                    policy: policy.clone(),
                    as_of: *as_of,
                    idle_timeout: Duration::from_secs(30),
                    max_connections: 4096.min(server::connection_capacity()),
                    admission_budget: server::DEFAULT_ADMISSION_BUDGET,
                    log: None,
                };
                let server = server::start("127.0.0.1:0", config)
                    .await
                    .map_err(|e| Failure::Runtime(e.to_string()))?;
                let addr = server.addr.to_string();
                servers.push(server);
                addr
            }
            TargetKind::Command {
                argv,
                dir,
                ready_when,
            } => {
                let (child, addr) =
                    start_command(&target.name, argv, dir, ready_when.as_ref()).await?;
                commands.push(child);
                addr
            }
        };
        list.push(Endpoint {
            name: target.name.clone(),
            target: Arc::new(Target {
                tls_from_start: target.tls_from_start,
                tls: target.tls.clone(),
                connections: target
                    .max_connections
                    .map(|n| Arc::new(tokio::sync::Semaphore::new(n))),
                ..Target::plain(addr)
            }),
            suite_target: Some(target.name.clone()),
        });
    }
    Ok(Endpoints {
        list,
        _servers: servers,
        _commands: commands,
    })
}

/// `HOST:PORT`, or `tls://HOST:PORT` for TLS from the first byte.
fn target_of(given: &str) -> Target {
    match given.strip_prefix("tls://") {
        Some(addr) => Target {
            tls_from_start: true,
            ..Target::plain(addr)
        },
        None => Target::plain(given),
    }
}

/// Times a command target is started on a fresh port when another process took its port
/// between the harness finding it free and the server binding it.
const PORT_TAKEN_TRIES: usize = 3;

/// Starts a command target as [`start_command_once`] does; a server that could not bind its
/// port because something else took it meanwhile (`Address already in use`, which any busy
/// machine can cause) is started again on another.
async fn start_command(
    name: &str,
    argv: &[String],
    dir: &std::path::Path,
    ready_when: Option<&regex::Regex>,
) -> Result<(super::server_process::ServerProcess, String), Failure> {
    let mut tries = 0;
    loop {
        tries += 1;
        match start_command_once(name, argv, dir, ready_when).await {
            Err(Failure::Runtime(why))
                if tries < PORT_TAKEN_TRIES
                    && why.to_ascii_lowercase().contains("address already in use") =>
            {
                continue;
            }
            started => return started,
        }
    }
}

/// Starts a command target on a free loopback port and waits until it accepts connections
/// (and, with `ready_when`, until its stderr says it is ready). Its stderr is read for as long
/// as it runs, so a server that logs every connection never blocks on a full pipe; what it
/// said last is kept for the error when it fails to start.
async fn start_command_once(
    name: &str,
    argv: &[String],
    dir: &std::path::Path,
    ready_when: Option<&regex::Regex>,
) -> Result<(super::server_process::ServerProcess, String), Failure> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Failure::Runtime(format!("no free port for target {name}: {e}")))?
        .port();
    let args: Vec<String> = argv
        .iter()
        .map(|a| a.replace("{port}", &port.to_string()))
        .collect();
    let mut command = tokio::process::Command::new(&args[0]);
    command
        .args(&args[1..])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut server = super::server_process::ServerProcess::spawn(&mut command).map_err(|e| {
        Failure::Runtime(format!(
            "target {name}: cannot start `{}`: {e}",
            args.join(" ")
        ))
    })?;
    let (said_ready, mut ready) = tokio::sync::watch::channel(ready_when.is_none());
    let tail = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    let child = server.child();
    if let Some(stderr) = child.stderr.take() {
        let (ready_when, tail) = (ready_when.cloned(), tail.clone());
        tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt;
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if ready_when.as_ref().is_some_and(|r| r.is_match(&line)) {
                    let _ = said_ready.send(true);
                }
                let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
                if tail.len() == 20 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
    }
    let said = |tail: &std::sync::Mutex<std::collections::VecDeque<String>>| {
        let tail = tail.lock().unwrap_or_else(|p| p.into_inner());
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    };
    let addr = format!("127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if *ready.borrow_and_update() && tokio::net::TcpStream::connect(&addr).await.is_ok() {
            return Ok((server, addr));
        }
        if let Ok(Some(status)) = server.child().try_wait() {
            // Give the reader a moment to take the last lines it said.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Err(Failure::Runtime(format!(
                "target {name}: `{}` exited ({status}) before listening: {}",
                args.join(" "),
                said(&tail).trim()
            )));
        }
        if tokio::time::Instant::now() > deadline {
            let waited = if *ready.borrow() {
                format!("nothing listens on {addr}")
            } else {
                format!("no stderr line matched ready_when on {addr}")
            };
            return Err(Failure::Runtime(format!(
                "target {name}: {waited} 15s after `{}`",
                args.join(" ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The cases `filters` select: a case named exactly so, or, when none is, every case whose
/// name contains the filter. No filter selects every case. `partition` (K, N) then keeps
/// every Nth case from the Kth on, in suite order: N partitions together run each case once.
pub fn select(
    suite: &Suite,
    filters: &[String],
    partition: Option<(usize, usize)>,
) -> Result<Vec<Arc<Case>>, Failure> {
    let selects = |filter: &str, id: &str| {
        if suite.cases.iter().any(|c| c.id == filter) {
            id == filter
        } else {
            id.contains(filter)
        }
    };
    let selected: Vec<_> = suite
        .cases
        .iter()
        .enumerate()
        .filter(|(i, _)| partition.is_none_or(|(k, n)| i % n == k - 1))
        .map(|(_, case)| case)
        .filter(|case| filters.is_empty() || filters.iter().any(|f| selects(f, &case.id)))
        .cloned()
        .collect();
    if let Some((k, n)) = partition
        && k > suite.cases.len()
    {
        return Err(Failure::Usage(format!(
            "--partition {k}/{n}: suite {} has only {} cases, so partition {k} would run none (use at most {} partitions)",
            suite.name,
            suite.cases.len(),
            suite.cases.len()
        )));
    }
    if selected.is_empty() && partition.is_some() {
        return Ok(selected);
    }
    if suite.cases.is_empty() {
        return Err(Failure::Usage(format!(
            "suite {} has no cases yet: add case files to its cases folder (or `harness import FILE --group --out DIR`)",
            suite.name
        )));
    }
    if selected.is_empty() {
        return Err(Failure::Usage(format!(
            "no case of suite {} matches --case {}",
            suite.name,
            filters.join(", ")
        )));
    }
    Ok(selected)
}

/// Runs every case against every endpoint, grouped by case so a client's fate reads across
/// the endpoints; each result goes to `on_result` as soon as it and those before it are done.
pub async fn stream(
    suite: &Suite,
    cases: &[Arc<Case>],
    endpoints: &[Endpoint],
    concurrency: usize,
    settings: &Settings,
    on_result: &mut dyn FnMut(CaseResult),
) {
    let variables = Arc::new(suite.variables.clone());
    let mut jobs = Vec::new();
    let mut meta = Vec::new();
    for case in cases {
        for (target_index, endpoint) in endpoints.iter().enumerate() {
            jobs.push(Job {
                case: case.clone(),
                target: endpoint.target.clone(),
                variables: variables.clone(),
            });
            meta.push((case.clone(), target_index));
        }
    }
    // The suite's dialect settings apply however the run was started.
    let settings = Settings {
        dialect: suite.dialect_settings.clone(),
        ..settings.clone()
    };
    let case_indices: std::collections::HashMap<&str, usize> = suite
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    runner::run_all(jobs, concurrency, &settings, &mut |index, run| {
        let (case, target_index) = &meta[index];
        let case_index = case_indices.get(case.id.as_str()).copied().unwrap_or(0);
        on_result(result(
            suite,
            case,
            case_index,
            &endpoints[*target_index],
            *target_index,
            run,
        ));
    })
    .await;
}

/// [`stream`], collected.
pub async fn execute(
    suite: &Suite,
    cases: &[Arc<Case>],
    endpoints: &[Endpoint],
    concurrency: usize,
    settings: &Settings,
) -> Vec<CaseResult> {
    let mut results = Vec::new();
    stream(suite, cases, endpoints, concurrency, settings, &mut |r| {
        results.push(r)
    })
    .await;
    results
}

/// A case's run against an endpoint, with what the suite expected of it.
pub fn result(
    suite: &Suite,
    case: &Case,
    case_index: usize,
    endpoint: &Endpoint,
    target_index: usize,
    run: runner::CaseRun,
) -> CaseResult {
    CaseResult {
        case_index,
        target_index,
        case: case.id.clone(),
        name: case.name.clone(),
        target: endpoint.name.clone(),
        suite_target: endpoint.suite_target.clone(),
        dialect: case.dialect.name(),
        expected: endpoint
            .suite_target
            .as_ref()
            .and_then(|t| suite.expected(&case.id, t)),
        verdict: run.verdict,
        duration: run.duration,
        transcript: run.transcript,
        divergences: run.divergences,
        exchanges: run.exchanges,
        sessions: None,
    }
}
