//! Runs one property either as a normal test (proptest's usual 256 cases, or `PROPTEST_CASES`)
//! or, when `FUZZ_SECONDS` or `FUZZ_INPUTS` is set, as a fuzz campaign: fresh randomly seeded
//! runs until either budget is spent, then one line saying how many inputs passed.
//! `FUZZ_SECONDS` counts this process's CPU time, not the clock, so a campaign that shares the
//! machine (or is paused) still does the work it claims.
//!
//! A failure is shrunk by proptest, its seed saved beside the property's source file
//! (`*.proptest-regressions`, replayed first on every later run), and the minimal input is
//! printed so it can be kept as a named fixture in `tests/fixtures/regressions/`.

use proptest::strategy::Strategy;
use proptest::test_runner::{
    Config, FileFailurePersistence, TestCaseResult, TestError, TestRunner,
};
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// Inputs per fresh runner in a campaign: small enough to check the clock often.
const CHUNK: u32 = 20_000;

/// What a campaign may spend; `None` means a normal test run.
struct Budget {
    time: Option<Duration>,
    inputs: Option<u64>,
}

impl Budget {
    fn from_env() -> Option<Budget> {
        let read = |name: &str| {
            std::env::var(name).ok().map(|v| {
                v.parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name} must be a whole number, not `{v}`"))
            })
        };
        let time = read("FUZZ_SECONDS").map(Duration::from_secs);
        let inputs = read("FUZZ_INPUTS");
        (time.is_some() || inputs.is_some()).then_some(Budget { time, inputs })
    }

    fn spent(&self, cpu_at_start: Duration, inputs: u64) -> bool {
        self.time.is_some_and(|t| cpu_time() - cpu_at_start >= t)
            || self.inputs.is_some_and(|n| inputs >= n)
    }
}

/// User plus system CPU time of this process, from `/proc/self/stat` (in clock ticks, which
/// are 1/100 s on Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    let after_name = &stat[stat.rfind(')').expect("a /proc stat line") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks = |i: usize| fields[i - 3].parse::<u64>().expect("a tick count");
    Duration::from_millis((ticks(14) + ticks(15)) * 10)
}

/// Checks `test` over `strategy`; panics with the shrunk input on failure.
pub fn check<S>(
    name: &str,
    source_file: &'static str,
    strategy: S,
    test: impl Fn(S::Value) -> TestCaseResult,
) where
    S: Strategy,
    S::Value: Debug,
{
    let _shared = CAMPAIGNS.read().unwrap_or_else(|e| e.into_inner());
    run(name, source_file, strategy, test);
}

/// [`check`] with no other campaign of this binary running meanwhile: for properties that
/// bound the whole process's heap (an import's reader thread allocates off the test's thread),
/// which another test's allocations would otherwise count against.
pub fn check_alone<S>(
    name: &str,
    source_file: &'static str,
    strategy: S,
    test: impl Fn(S::Value) -> TestCaseResult,
) where
    S: Strategy,
    S::Value: Debug,
{
    alone(|| run(name, source_file, strategy, test));
}

/// Runs `work` with no campaign of this binary running meanwhile.
pub fn alone<T>(work: impl FnOnce() -> T) -> T {
    let _exclusive = CAMPAIGNS.write().unwrap_or_else(|e| e.into_inner());
    work()
}

static CAMPAIGNS: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn run<S>(
    name: &str,
    source_file: &'static str,
    strategy: S,
    test: impl Fn(S::Value) -> TestCaseResult,
) where
    S: Strategy,
    S::Value: Debug,
{
    let config = |cases: u32| Config {
        cases,
        source_file: Some(source_file),
        // Beside the property's own file (`tls.rs` -> `tls.proptest-regressions`).
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let Some(budget) = Budget::from_env() else {
        let cases = Config::default().cases;
        return verdict(name, TestRunner::new(config(cases)).run(&strategy, &test));
    };
    let started = Instant::now();
    let cpu_at_start = cpu_time();
    let mut inputs = 0u64;
    while !budget.spent(cpu_at_start, inputs) {
        let left = budget.inputs.map_or(u64::from(CHUNK), |n| n - inputs);
        let cases = CHUNK.min(u32::try_from(left).unwrap_or(CHUNK));
        verdict(name, TestRunner::new(config(cases)).run(&strategy, &test));
        inputs += u64::from(cases);
    }
    let cpu = (cpu_time() - cpu_at_start).as_secs_f64().max(0.01);
    eprintln!(
        "fuzz {name}: {inputs} inputs in {cpu:.0} s of CPU ({:.0}/s; {:.0} s on the clock), no failure",
        inputs as f64 / cpu,
        started.elapsed().as_secs_f64()
    );
}

fn verdict<V: Debug>(name: &str, result: Result<(), TestError<V>>) {
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, input)) => {
            panic!("{name} failed: {reason}\nminimal failing input: {input:#?}")
        }
        Err(TestError::Abort(reason)) => panic!("{name} aborted: {reason}"),
    }
}
