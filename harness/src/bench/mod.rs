//! `harness bench`: three measurements in one run, each beside its baseline and target:
//! replay throughput against the raw loopback limit, memory per held session, import speed
//! against `cat` and tshark.

mod import;
mod judge_scale;
mod replay;
mod scale;
mod scratch;

use crate::cli::{BenchArgs, Measure};
use crate::commands::Failure;
use crate::date::Date;
use crate::exit;
use crate::server::{self, ServerConfig, ServerPolicy};
use crate::suite::{Suite, TargetKind, load_suite};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub async fn bench(args: &BenchArgs) -> Result<i32, Failure> {
    let exe = std::env::current_exe().map_err(|e| Failure::Runtime(e.to_string()))?;
    // The judge-scale measurement writes a capture of many gigabytes: only when asked for.
    let runs =
        |m: Measure| args.only.contains(&m) || (args.only.is_empty() && m != Measure::JudgeScale);
    if runs(Measure::Replay) || runs(Measure::Scale) {
        let suite = load_suite(&args.suite).map_err(|e| Failure::Usage(e.to_string()))?;
        let Some((policy, policy_path, as_of)) =
            suite.targets.iter().rev().find_map(|t| match &t.kind {
                TargetKind::Reference {
                    policy,
                    policy_path,
                    as_of,
                } => Some((policy.clone(), policy_path.clone(), *as_of)),
                TargetKind::Command { .. } => None,
            })
        else {
            return Err(Failure::Usage(format!(
                "suite {} has no reference-server target to bench against",
                suite.name
            )));
        };
        if runs(Measure::Replay) {
            replay_throughput(args, &suite, policy.clone(), as_of).await?;
        }
        if runs(Measure::Scale) {
            held_sessions(args, &exe, &suite, &policy_path, as_of).await;
        }
    }
    if runs(Measure::Import) {
        let suite = load_suite(&args.suite).map_err(|e| Failure::Usage(e.to_string()))?;
        import_speed(args, &exe, suite.dialect)?;
    }
    if runs(Measure::JudgeScale) {
        let suite = load_suite(&args.suite).map_err(|e| Failure::Usage(e.to_string()))?;
        judge_scale::measure(args, &exe, suite.dialect)?;
    }
    Ok(exit::SUCCESS)
}

/// 1. Replay throughput: the harness against the raw loopback limit on the same bytes.
async fn replay_throughput(
    args: &BenchArgs,
    suite: &Suite,
    policy: Arc<dyn ServerPolicy>,
    as_of: Date,
) -> Result<(), Failure> {
    let config = ServerConfig {
        policy,
        as_of,
        idle_timeout: Duration::from_secs(30),
        max_connections: 65_536,
        admission_budget: server::DEFAULT_ADMISSION_BUDGET,
        log: None,
    };
    let server = server::start("127.0.0.1:0", config)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let duration = Duration::from_secs_f64(args.seconds);
    // Taking turns, several times: on a shared machine one pair of loops can be 20% off.
    let mut harness_rates = Vec::new();
    let mut raw_rates = Vec::new();
    for _ in 0..args.replay_runs.max(1) {
        let (harness, scripts) = replay::harness_loop(
            &server.addr.to_string(),
            &suite.cases,
            &suite.variables,
            duration,
            args.concurrency,
        )
        .await;
        let raw = replay::raw_loop(&scripts, duration, args.concurrency)
            .await
            .map_err(|e| Failure::Runtime(e.to_string()))?;
        harness_rates.push(harness.per_second());
        raw_rates.push(raw.per_second());
    }
    drop(server);
    let (harness, raw) = (median(&mut harness_rates), median(&mut raw_rates));
    let ratio = harness / raw.max(1e-9);
    crate::outln!(
        "1. replay throughput ({} cases of {} in a loop, {} at once, {:.0}s each; median of {} runs)",
        suite.cases.len(),
        suite.name,
        args.concurrency,
        args.seconds,
        harness_rates.len()
    );
    crate::outln!("   {:<44} {:>12}", "", "handshakes/s");
    crate::outln!(
        "   {:<44} {:>12.0}",
        "harness (runner, dialect, reference server)",
        harness
    );
    crate::outln!(
        "   {:<44} {:>12.0}",
        "raw tokio client and server, same bytes",
        raw
    );
    crate::outln!(
        "   harness / raw = {:.2} (target: at least 0.50) {}\n",
        ratio,
        verdict(ratio >= 0.5)
    );

    Ok(())
}

/// 2. Scale: sessions held open at once, and the peak memory each costs.
async fn held_sessions(args: &BenchArgs, exe: &Path, suite: &Suite, policy: &Path, as_of: Date) {
    match scale::hold(exe, suite, policy, as_of, args.sessions).await {
        Ok(s) => {
            crate::outln!(
                "2. scale: {} sessions held open at once against harness serve",
                s.sessions
            );
            crate::outln!(
                "   peak resident memory: harness +{:.1} MiB, server +{:.1} MiB",
                s.harness_kib / 1024.0,
                s.server_kib / 1024.0
            );
            crate::outln!(
                "   per session, both together: {:.1} KiB (target: under 32 KiB) {}\n",
                s.per_session_kib(),
                verdict(s.per_session_kib() < 32.0)
            );
        }
        Err(e) => crate::outln!("2. scale: not measured: {e}\n"),
    }
}

/// 3. Import speed against `cat` and tshark on the same generated capture.
fn import_speed(
    args: &BenchArgs,
    exe: &Path,
    dialect: &'static dyn crate::dialect::Dialect,
) -> Result<(), Failure> {
    let capture = args
        .capture
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("harness-bench.pcap"));
    let wanted = args.capture_mb << 20;
    if std::fs::metadata(&capture).map(|m| m.len()).unwrap_or(0) < wanted {
        crate::capture::synth::write_capture(dialect, &capture, wanted)
            .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", capture.display())))?;
    }
    let size = std::fs::metadata(&capture).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let readers = import::compare(exe, &capture, dialect.name(), args.import_runs);
    crate::outln!(
        "3. import ({:.0} MB capture of {} sessions, {}; median of {} runs each)",
        size,
        dialect.name(),
        capture.display(),
        readers.first().map_or(0, |r| r.runs)
    );
    crate::outln!(
        "   {:<44} {:>9} {:>9} {:>14}",
        "",
        "seconds",
        "MB/s",
        "peak RSS MiB"
    );
    for r in &readers {
        let peak = r
            .peak_mib
            .map_or_else(|| "n/a".to_string(), |m| format!("{m:.1}"));
        crate::outln!(
            "   {:<44} {:>9.2} {:>9.0} {:>14}",
            r.name,
            r.seconds,
            size / r.seconds.max(1e-9),
            peak
        );
    }
    let speed = |name: &str| {
        readers
            .iter()
            .find(|r| r.name.starts_with(name))
            .map(|r| size / r.seconds.max(1e-9))
    };
    if let (Some(judge), Some(import)) = (speed("harness judge"), speed("harness import")) {
        crate::outln!(
            "   harness judge / harness import = {:.2} (judging adds the classifier to each session)",
            judge / import
        );
    }
    for (name, what) in [
        ("harness import --group", "grouped import"),
        ("harness judge", "judge"),
    ] {
        if let Some(mb_s) = speed(name) {
            crate::outln!(
                "   {what}: {mb_s:.0} MB/s (target: at least 1000) {}",
                verdict(mb_s >= 1000.0)
            );
        }
    }
    match (speed("harness import"), speed("tshark")) {
        (Some(h), Some(t)) => crate::outln!(
            "   harness / tshark = {:.1} (target: at least 10) {}",
            h / t,
            verdict(h / t >= 10.0)
        ),
        _ => crate::outln!("   harness / tshark: not measured (is tshark installed?)"),
    }
    Ok(())
}

/// The middle value.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "✓ met" } else { "✗ not met" }
}
