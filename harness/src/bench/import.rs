//! Import speed: `harness import` on a large generated capture, beside `cat FILE` (the read
//! limit) and `tshark -r FILE -q -z conv,tcp`, each a separate process timed on the same file
//! (peak memory from /usr/bin/time where installed). Each is run several times, taking turns,
//! and its median time reported: a shared machine's speed drifts by 15% from run to run.

use super::scratch::ScratchFile;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Reader {
    pub name: String,
    pub seconds: f64,
    pub peak_mib: Option<f64>,
    /// How many runs `seconds` is the median of.
    pub runs: usize,
}

/// Runs `argv` with output discarded; `None` when it cannot run.
fn measure(name: &str, argv: &[&str]) -> Option<Reader> {
    let timed = Path::new("/usr/bin/time").exists();
    let report = ScratchFile::named("harness-bench-time");
    let mut command = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(report.path())
            .args(argv);
        c
    } else {
        let mut c = Command::new(argv[0]);
        c.args(&argv[1..]);
        c
    };
    let started = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return None;
    }
    let peak_mib = timed
        .then(|| {
            std::fs::read_to_string(report.path())
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
                .map(|kib| kib / 1024.0)
        })
        .flatten();
    Some(Reader {
        name: name.to_string(),
        seconds,
        peak_mib,
        runs: 1,
    })
}

pub fn compare(exe: &Path, capture: &Path, dialect: &str, runs: usize) -> Vec<Reader> {
    let file = capture.display().to_string();
    let exe = exe.display().to_string();
    // The grouped import's suite folder, written afresh (--force) on every run.
    let suite = std::env::temp_dir().join(format!("harness-bench-grouped-{}", std::process::id()));
    let suite_dir = suite.display().to_string();
    // Judge's results, every session's, go to a file as a production run's would.
    let judged_file = ScratchFile::named("harness-bench-judged");
    let judged = judged_file.path().display().to_string();
    let _ = measure("warm the page cache", &["cat", &file]);
    let readers: [(&str, Vec<&str>); 5] = [
        ("cat FILE > /dev/null", vec!["cat", &file]),
        (
            "harness import FILE",
            vec![&exe, "import", &file, "--dialect", dialect],
        ),
        (
            "harness import --group FILE (writes a suite)",
            vec![
                &exe,
                "import",
                &file,
                "--dialect",
                dialect,
                "--group",
                "--force",
                "--out",
                &suite_dir,
            ],
        ),
        (
            "harness judge FILE (every session judged)",
            vec![
                &exe,
                "judge",
                &file,
                "--dialect",
                dialect,
                "--report-json",
                &judged,
            ],
        ),
        (
            "tshark -r FILE -q -z conv,tcp",
            vec!["tshark", "-r", &file, "-q", "-z", "conv,tcp"],
        ),
    ];
    let mut timed: Vec<Vec<Reader>> = vec![Vec::new(); readers.len()];
    // Taking turns, so a slow spell of the machine does not fall on one reader only.
    for _ in 0..runs.max(1) {
        for ((name, argv), times) in readers.iter().zip(&mut timed) {
            times.extend(measure(name, argv));
        }
    }
    let _ = std::fs::remove_dir_all(&suite);
    timed.into_iter().filter_map(median).collect()
}

/// The run of median time, with the largest peak memory of all runs.
fn median(mut runs: Vec<Reader>) -> Option<Reader> {
    let peak = runs.iter().filter_map(|r| r.peak_mib).reduce(f64::max);
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let mut middle = runs.get(runs.len() / 2)?.clone();
    middle.peak_mib = peak;
    middle.runs = runs.len();
    Some(middle)
}
