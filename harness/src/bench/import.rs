//! Import speed: `harness import` on a large generated capture, beside `cat FILE` (the read
//! limit) and `tshark -r FILE -q -z conv,tcp`, each a separate process timed on the same file
//! (peak memory from /usr/bin/time where installed).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Reader {
    pub name: String,
    pub seconds: f64,
    pub peak_mib: Option<f64>,
}

/// Runs `argv` with output discarded; `None` when it cannot run.
fn measure(name: &str, argv: &[&str]) -> Option<Reader> {
    let timed = Path::new("/usr/bin/time").exists();
    let report = std::env::temp_dir().join(format!("harness-bench-time-{}", std::process::id()));
    let mut command = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M").arg("-o").arg(&report).args(argv);
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
            std::fs::read_to_string(&report)
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
    })
}

pub fn compare(exe: &Path, capture: &Path) -> Vec<Reader> {
    let file = capture.display().to_string();
    let exe = exe.display().to_string();
    let _ = measure("warm the page cache", &["cat", &file]);
    [
        measure("cat FILE > /dev/null", &["cat", &file]),
        measure("harness import FILE", &[&exe, "import", &file]),
        measure(
            "tshark -r FILE -q -z conv,tcp",
            &["tshark", "-r", &file, "-q", "-z", "conv,tcp"],
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}
