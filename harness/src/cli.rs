//! The command line (clap derive): `harness run`, `harness serve`, `harness check`.

use crate::date::Date;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "harness",
    version,
    about = "Which clients will a server admit, warn or lock out? Replays scripted and recorded client handshakes against any endpoint and classifies each client.",
    after_help = "Exit codes: 0 all as expected; 1 a verdict differed from its expectation; 2 usage or file error; 3 the harness could not judge (refused, timeout, garbage)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run every case of a suite against its reference-server targets, or against any endpoint.
    Run(RunArgs),
    /// Run a dialect's reference server on an address, enforcing an admission policy.
    Serve(ServeArgs),
    /// Check a suite's files (cases, policies, expectations) without running anything.
    Check(CheckArgs),
    /// List the dialects: name, default port, reference server, step kinds, settings keys.
    Dialects(DialectsArgs),
    /// Import a pcap/pcapng capture: one capture case per client connection.
    Import(ImportArgs),
    /// Judge a capture as it happened: each recorded session by the server's own recorded
    /// replies, with no live target.
    Judge(JudgeArgs),
    /// Show a capture case or a pcap/pcapng file decoded: flows, identities, messages.
    Inspect(InspectArgs),
    /// Measure replay throughput, memory per session and import speed, each beside its
    /// baseline (see the README's "Reading the benchmark").
    Bench(BenchArgs),
    /// Check a self-test bundle's hashes, and against a local copy of the suite with --suite.
    VerifyBundle(VerifyBundleArgs),
    /// Join the JSON results of partitioned runs into one report.
    Merge(MergeArgs),
    /// Show which clients changed verdict between two runs' JSON results (exit 1 if any did).
    Diff(DiffArgs),
    /// Proxy a real client to a real server and write each session as a capture case and a
    /// pcapng file.
    Record(RecordArgs),
    /// What a policy does to a capture's clients, in one command: the capture's distinct
    /// clients (as `import --group` finds them) run against the policy's servers, with the
    /// impact in sessions and the clients turned away.
    Whatif(WhatifArgs),
    /// Review the results a run left beside their snapshots (CASE@TARGET.snap.new), one at a
    /// time: accept, reject or skip each.
    Review(ReviewArgs),
    /// Write a new suite folder that runs as written: suite.toml, the distinct clients of a
    /// capture as cases, a server script from a template and its target, and the starter
    /// GitHub workflow. Overwrites nothing.
    New(NewArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The suite's folder (created if missing; a suite already there is refused). When it is
    /// a git repository's root, the starter workflow goes to .github/workflows/harness.yml.
    pub dir: Option<PathBuf>,
    /// The protocol its clients speak (`harness dialects` lists them), or a dialect file;
    /// with --server, the template's by default.
    #[arg(long)]
    pub dialect: Option<String>,
    /// A pcap/pcapng capture whose distinct clients become the cases (as `import --group`).
    #[arg(long, value_name = "FILE")]
    pub from_capture: Option<PathBuf>,
    /// With --from-capture: the server port of the captured connections (default: the
    /// dialect's).
    #[arg(long, value_name = "PORT", requires = "from_capture")]
    pub port: Option<u16>,
    /// A real server the suite starts, from a template (servers/NAME.sh and its target);
    /// `--server list` lists them.
    #[arg(long, value_name = "TEMPLATE")]
    pub server: Option<String>,
    /// Write the starter workflow into the git repository DIR is in (without this flag, only
    /// when DIR is the repository's root).
    #[arg(long)]
    pub workflow: bool,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The suite: a folder holding suite.toml, or the suite file itself.
    pub suite: PathBuf,
    /// Accept every pending snapshot without asking (for scripts).
    #[arg(long, conflicts_with = "reject_all")]
    pub accept_all: bool,
    /// Reject every pending snapshot without asking (for scripts).
    #[arg(long)]
    pub reject_all: bool,
}

#[derive(Debug, Args)]
pub struct WhatifArgs {
    /// A pcap/pcapng capture of the traffic.
    pub capture: PathBuf,
    /// The protocol of the captured connections.
    #[arg(long)]
    pub dialect: String,
    /// Keep connections with this server port (default: the dialect's).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Decrypt the TLS sessions in the capture with this key log (SSLKEYLOGFILE's format).
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// A suite whose [[target]]s (the servers enforcing the policy), [dialect_settings] and
    /// [variables] the clients are run against.
    #[arg(long, value_name = "SUITE")]
    pub policy: Option<PathBuf>,
    /// Run against this endpoint (repeatable; `NAME=HOST:PORT` names it), instead of a policy
    /// suite's targets.
    #[arg(long, value_name = "[NAME=]HOST:PORT", value_parser = parse_target)]
    pub target: Vec<String>,
    /// Keep the grouped suite in DIR (as `import --group --out DIR` writes it, replacing its
    /// cases) rather than in a temporary folder removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub reports: ReportArgs,
}

/// How cases are run against a server: `run`'s and `whatif`'s.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// How many cases run at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub jobs: u32,
    /// How long each step waits for its reply (e.g. 5s, 500ms). Default: the suite's
    /// timeout_ms (whatif: the policy suite's), else 5s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Run a case again, up to N times, when the server was busy (HTTP 429/503/408,
    /// PostgreSQL 53300, SSH too many connections), after its Retry-After (at most 30s).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retry_busy: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned table for people.
    Table,
    /// JSON Lines: a run object, one object per result, the snapshot check, a summary object.
    Json,
    /// JUnit XML: one test case per result.
    Junit,
    /// A Markdown matrix, for pull-request comments.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to colour stdout: `always`; or `auto` on a terminal without NO_COLOR set.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The suite: a folder holding suite.toml, or the suite file itself.
    pub suite: PathBuf,
    /// Send every case to this endpoint instead of the suite's targets; `tls://HOST:PORT`
    /// speaks TLS from the first byte, and `NAME=HOST:PORT` names it in the reports. Repeat
    /// for several endpoints.
    #[arg(long, value_name = "[NAME=]HOST:PORT", value_parser = parse_target)]
    pub target: Vec<String>,
    /// Compare --target results with the expectations of the suite's target NAME.
    #[arg(long, value_name = "NAME", requires = "target")]
    pub expect: Option<String>,
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub reports: ReportArgs,
    /// Load mode: replay the suite's clients N times in all (picked by population share) and
    /// report handshakes/s and per-stage latency percentiles instead of verdicts per case.
    #[arg(long, value_name = "N")]
    pub repeat: Option<u64>,
    /// Load mode: start handshakes at this many per second (default: as fast as allowed).
    #[arg(long, value_name = "R", requires = "repeat", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Load mode: at most this many handshakes in flight (default: --jobs).
    #[arg(long, value_name = "C", requires = "repeat")]
    pub concurrency: Option<usize>,
    /// Load mode: start no handshake after this long (e.g. 30s); those in flight finish.
    #[arg(long, value_name = "DURATION", requires = "repeat", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Run a deterministic share of the cases: K of N (1-based), for spreading a suite over
    /// N CI machines; `harness merge` joins their JSON results.
    #[arg(long, value_name = "K/N", value_parser = parse_partition)]
    pub partition: Option<(usize, usize)>,
    /// Write a self-test bundle to FILE: harness version, suite and case hashes, targets,
    /// verdicts and transcripts, sealed by a hash (`harness verify-bundle` checks it).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Record new and changed snapshots and remove obsolete ones (refused when CI is set).
    #[arg(long)]
    pub accept: bool,
    /// Write this run's verdicts into suite.toml's [expect] as the suite's expectations, per
    /// target (comments and other expectations kept), so CI fails on any later change. Errors
    /// are not blessed. Refused when CI is set.
    #[arg(long)]
    pub bless: bool,
    /// Run only the case named TEXT or, when none is, the cases whose name contains TEXT
    /// (repeatable).
    #[arg(long = "case", value_name = "TEXT")]
    pub cases: Vec<String>,
}

/// Where a run's results go: a format on stdout and any number of report files.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Colour the table: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<PathBuf>,
    /// Also write the JSON Lines report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Also write the Markdown matrix to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_markdown: Option<PathBuf>,
    /// Also write a self-contained HTML report to DIR/index.html.
    #[arg(long, value_name = "DIR")]
    pub report_html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON Lines results of partitioned runs (`--report-json` or `--format json`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub reports: ReportArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The suite whose cases are replayed (its last reference-server target is used).
    #[arg(long, default_value = "suites/msn-2003")]
    pub suite: PathBuf,
    /// How long each replay loop runs, in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Handshakes in flight at once in the replay loops.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Sessions held open at once for the memory measurement.
    #[arg(long, default_value_t = 10_000)]
    pub sessions: usize,
    /// Size of the generated capture for the import comparison, in MiB.
    #[arg(long, default_value_t = 1024)]
    pub capture_mb: u64,
    /// Where the generated capture is kept (reused when large enough).
    #[arg(long, value_name = "FILE")]
    pub capture: Option<PathBuf>,
    /// Times the replay loops are run, taking turns; the median is reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub replay_runs: usize,
    /// Times each reader is run on the capture; the median is reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub import_runs: usize,
    /// Run only these measurements (repeatable); replay, scale and import by default.
    #[arg(long, value_enum, value_name = "MEASURE")]
    pub only: Vec<Measure>,
    /// Sessions in the capture `--only judge-scale` judges.
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    pub judge_sessions: u64,
    /// Where that capture is kept (reused when it holds as many sessions; default a file in
    /// the temporary folder).
    #[arg(long, value_name = "FILE")]
    pub judge_capture: Option<std::path::PathBuf>,
}

/// The measurements `harness bench` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Measure {
    /// Replay throughput against the raw loopback limit.
    Replay,
    /// Memory per session with 10,000 held open.
    Scale,
    /// Import speed against cat and tshark.
    Import,
    /// Peak memory of judging a capture of many short sessions (`--judge-sessions`; run by
    /// hand: ten million sessions make a capture of about 12 GB).
    JudgeScale,
}

#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The bundle file `harness run --bundle` wrote.
    pub file: PathBuf,
    /// The suite the bundle claims to have run: its files are hashed and compared.
    #[arg(long, value_name = "SUITE")]
    pub suite: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// JSON Lines results of the earlier run.
    pub old: PathBuf,
    /// JSON Lines results of the later run.
    pub new: PathBuf,
}

#[derive(Debug, Args)]
pub struct DialectsArgs {
    /// Dialect files (`PATH.toml`) to list too, each with its source file.
    pub files: Vec<PathBuf>,
    /// List the dialect file this suite names too.
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
    /// Output format: a table for people, or JSON.
    #[arg(long, value_enum, default_value_t = DialectsFormat::Table)]
    pub format: DialectsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectsFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The protocol to serve (`harness dialects` lists those with a reference server).
    #[arg(long)]
    pub dialect: String,
    /// The admission policy file, in the dialect's policy format.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The date whose policy phase to enforce (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Address to listen on; port 0 picks a free port (printed on the first line). Default:
    /// 127.0.0.1 and the dialect's port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Disconnect a client silent (or not reading) for this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Connections open at once (default 4096, or fewer when the descriptor limit holds
    /// fewer). At the limit, the one that has sent no whole message for longest (at least 1 s;
    /// a client not admitted within 10 s counts as quiet however much it sends) is closed to
    /// admit the newcomer; failing that within 3 s, it is refused.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// How long a client may take to reach the admission point before its messages stop
    /// keeping its connection from eviction when the server is full.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub admission_budget: Duration,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The suite: a folder holding suite.toml, or the suite file itself; or a dialect file
    /// (one with a `[framing]` table).
    pub suite: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The pcap or pcapng file (or, with `--from testssl`, testssl.sh's client file).
    pub file: PathBuf,
    /// What the file is: a packet capture, or testssl.sh's `etc/client-simulation.txt`
    /// (one TLS case per client, with its ClientHello and constraints, and a suite.toml).
    #[arg(long, value_enum, default_value_t = ImportFrom::Pcap)]
    pub from: ImportFrom,
    /// Keep connections with this server port (default: the dialect's).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// The protocol of the captured connections (`harness dialects` lists them); required for
    /// a packet capture, `tls` for testssl.sh's file.
    #[arg(long, required_if_eq("from", "pcap"))]
    pub dialect: Option<String>,
    /// Folder to write the capture cases to (created if missing). Without it nothing is
    /// written: the import is only counted. With `--from testssl`: the suite's folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// End a connection after this long without a packet, in capture time (e.g. 10m, 30s).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Connections kept open at once; past this the least recently active are ended early
    /// (each still written, marked `ended_by = "evicted"`, and counted).
    #[arg(long, value_name = "N", default_value_t = 65_536)]
    pub max_connections: usize,
    /// Replace case files already in the output folder (without it, an import that would
    /// overwrite one stops with exit 2). A symlink there is replaced, never followed.
    #[arg(long)]
    pub force: bool,
    /// One case per distinct client instead of one per connection: sessions whose handshakes
    /// are the same once what changes per session is set aside are one client. Writes a
    /// suite folder (`--out DIR`: DIR/suite.toml with the clients' session counts as its
    /// population, DIR/cases/ with one case per client, its traffic recorded in it).
    #[arg(long, requires = "out")]
    pub group: bool,
    /// With --group: read clients' identities where this suite's [dialect_settings] say they
    /// are (HTTP: `version_header`, `api_version_path`), so that they are told apart by them.
    #[arg(long, value_name = "SUITE", requires = "group")]
    pub suite: Option<PathBuf>,
    /// Decrypt TLS sessions inside the connections (an upgrade such as PostgreSQL's
    /// SSLRequest, or TLS from the first byte) with this key log: the NSS format that
    /// SSLKEYLOGFILE writes. Without it such sessions are
    /// imported encrypted, and named.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
}

/// The kinds of file `harness import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFrom {
    /// A pcap or pcapng file.
    Pcap,
    /// testssl.sh's client simulation file (`etc/client-simulation.txt`).
    Testssl,
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// A pcap/pcapng file, a capture case (.toml), or a folder of capture cases.
    pub path: PathBuf,
    /// With a pcap: the protocol of the captured connections (a capture case names its own).
    #[arg(long)]
    pub dialect: Option<String>,
    /// With a pcap: keep connections with this server port (default: the dialect's).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Take `[dialect_settings]` (what counts as deprecated) from this suite.
    #[arg(long, value_name = "SUITE")]
    pub suite: Option<PathBuf>,
    /// Decrypt TLS sessions inside the connections (an upgrade such as PostgreSQL's
    /// SSLRequest, or TLS from the first byte) with this key log: the NSS format that
    /// SSLKEYLOGFILE writes. Without it such sessions are undecided.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    #[command(flatten)]
    pub reports: ReportArgs,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Address the client connects to; port 0 picks a free port (printed on the first line).
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// The real server to forward to.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_target)]
    pub upstream: String,
    /// Folder to write the sessions to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The protocol the client speaks (`harness dialects` lists them).
    #[arg(long)]
    pub dialect: String,
    /// Stop after recording this many sessions (default: until interrupted). Sessions still
    /// open then are written too, as far as they got (`ended_by = "stopped"`).
    #[arg(long, value_name = "N")]
    pub sessions: Option<usize>,
    /// End and write a session after this long with no bytes either way (e.g. 60s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// The client's name in the reports: written as `name =` in each case recorded (without
    /// it, the name and version the client states, and what tells it from namesakes).
    #[arg(long, value_name = "NAME", value_parser = non_empty_name)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A capture case (.toml) or a pcap/pcapng file.
    pub file: PathBuf,
    /// With a pcap: keep connections with this server port (default: the dialect's).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// With a pcap: the protocol of the captured connections (a capture case names its own).
    #[arg(long)]
    pub dialect: Option<String>,
    /// Decrypt TLS sessions inside the connections (an upgrade such as PostgreSQL's
    /// SSLRequest, or TLS from the first byte) with this key log: the NSS format that
    /// SSLKEYLOGFILE writes. Without it their
    /// records are shown as they are.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
}

/// A client's name: not empty, and one line of printable text.
fn non_empty_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("a client's name is not empty".into());
    }
    if name.chars().any(char::is_control) {
        return Err("a client's name is one line of printable text".into());
    }
    Ok(name.to_string())
}

/// The longest duration any option takes: a day.
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// `5s`, `500ms`, `1.5s`, `1m30s`, `2h` (humantime's units); a bare number is seconds, and a
/// decimal takes one unit. More than zero, at most a day.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &dyn std::fmt::Display| {
        format!("`{text}` is not a duration: {why} (write e.g. 5s, 500ms, 1.5s or 1m30s)")
    };
    let text = text.trim();
    let seconds = |value: &str, scale: f64| {
        value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v * scale)
    };
    // humantime reads whole numbers only: a bare number, or a decimal with one unit, first.
    let decimal = [
        ("ms", 1e-3),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
        ("", 1.0),
    ]
    .into_iter()
    .find_map(|(unit, scale)| {
        let value = text.strip_suffix(unit)?;
        (unit.is_empty() || value.contains('.'))
            .then(|| seconds(value, scale))
            .flatten()
    });
    let total = match decimal {
        Some(secs) if secs > MAX_DURATION.as_secs_f64() => {
            return Err(bad(&"it is longer than a day"));
        }
        Some(secs) => Duration::from_secs_f64(secs),
        None => humantime::parse_duration(text).map_err(|e| bad(&e))?,
    };
    if total.is_zero() {
        return Err(bad(&"it must be longer than zero"));
    }
    if total > MAX_DURATION {
        return Err(bad(&"it is longer than a day"));
    }
    Ok(total)
}

/// A target's name and address: `NAME=HOST:PORT` (the name before the first `=`), or the
/// address alone.
pub fn split_target_name(text: &str) -> (Option<&str>, &str) {
    match text.split_once('=') {
        Some((name, address)) => (Some(name), address),
        None => (None, text),
    }
}

/// `[NAME=]HOST:PORT` (an IPv6 host in brackets), optionally `tls://` before the host; a port
/// from 1 to 65535.
pub fn parse_target(text: &str) -> Result<String, String> {
    let (name, address) = split_target_name(text);
    if name.is_some_and(|n| n.is_empty() || n.chars().any(|c| c.is_control() || c == '/')) {
        return Err(format!(
            "`{text}` is not a target: a target's name is not empty and has no `/` (write NAME=HOST:PORT)"
        ));
    }
    let address = address.strip_prefix("tls://").unwrap_or(address);
    let bad = |why: &str| {
        format!(
            "`{text}` is not a target: {why} (write HOST:PORT, e.g. 127.0.0.1:1863, or tls://HOST:PORT)"
        )
    };
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| bad("the port is missing"))?;
    if host.is_empty() || host == "[]" {
        return Err(bad("the host is missing"));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(bad("an IPv6 address goes in brackets"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(text.to_string()),
        _ => Err(bad("the port is a number from 1 to 65535")),
    }
}

/// Handshakes per second for load mode: from one a day to a million a second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (1.0 / 86_400.0..=1e6).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate: handshakes per second, more than one a day and at most 1000000"
        )),
    }
}

/// `2/3` → (2, 3), with 1 ≤ K ≤ N.
pub fn parse_partition(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{text}` is not a partition: write K/N with 1 ≤ K ≤ N, e.g. 2/3");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

fn parse_date(text: &str) -> Result<Date, String> {
    text.parse()
        .map_err(|e: crate::date::DateError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        for bad in [
            "0",
            "0s",
            "",
            "fast",
            "5d",
            "1m30",
            "18446744073709551615s",
            "25h",
            "1..5s",
            "-1s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn targets() {
        assert!(parse_target("127.0.0.1:1863").is_ok());
        assert!(parse_target("tls://localhost:443").is_ok());
        assert!(parse_target("[::1]:443").is_ok());
        for bad in [
            "localhost",
            "127.0.0.1:210120219",
            "127.0.0.1:0",
            ":80",
            "::1:443",
            "tls://",
        ] {
            assert!(parse_target(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn partitions() {
        assert_eq!(parse_partition("2/3"), Ok((2, 3)));
        assert!(parse_partition("0/3").is_err());
        assert!(parse_partition("4/3").is_err());
        assert!(parse_partition("2").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
