//! What the mail file-dialect tests share: real clients (Python's smtplib, imaplib) captured
//! on loopback with tcpdump, their TLS keys logged, then judged and grouped by a dialect file.

use super::live_tls::{Tcpdump, judged, missing_tool, skip};
use super::{harness, stderr, stdout};
use std::path::Path;

/// A capture of real clients, and the key log their TLS sessions wrote.
pub struct Captured {
    pub dir: tempfile::TempDir,
    pub pcap: String,
    pub keylog: String,
    pub port: u16,
}

/// Runs `python3 -c script PORT KIND` once per kind against the server on `port`, captured
/// with tcpdump, `SSLKEYLOGFILE` set; `None` (skipped with a note; a failure on CI) without
/// tcpdump or python3.
pub async fn capture(
    port: u16,
    dialect_file: &Path,
    script: &'static str,
    kinds: &'static [&'static str],
) -> Option<Captured> {
    if let Some(missing) = missing_tool(&["tcpdump", "python3"]) {
        skip(&missing);
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("capture.pcap");
    let keylog = dir.path().join("keys.log");
    let tcpdump = match Tcpdump::start(port, &pcap) {
        Ok(t) => t,
        Err(why) => {
            skip(&why);
            return None;
        }
    };
    let keys = keylog.clone();
    tokio::task::spawn_blocking(move || {
        for kind in kinds {
            let out = std::process::Command::new("python3")
                .args(["-c", script, &port.to_string(), kind])
                .env("SSLKEYLOGFILE", &keys)
                .output()
                .unwrap();
            let why = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{kind}: {why}");
        }
    })
    .await
    .unwrap();
    // Registered here too: the capture is read by the dialect's name while it is stopped.
    let name = harness::dialect::declarative::load(dialect_file)
        .unwrap()
        .name();
    tokio::task::spawn_blocking(move || tcpdump.stop_after(name, port, kinds.len()))
        .await
        .unwrap();
    Some(Captured {
        pcap: pcap.display().to_string(),
        keylog: keylog.display().to_string(),
        dir,
        port,
    })
}

impl Captured {
    fn args<'a>(&'a self, dialect_file: &'a str, port: &'a str) -> [&'a str; 5] {
        ["--dialect", dialect_file, &self.pcap, "--port", port]
    }

    /// `harness judge` of the capture by the dialect file (with the key log, or without):
    /// each session's verdict, stage and the first line of the reply that decided it.
    pub fn judge(&self, dialect_file: &Path, keys: bool) -> Vec<(String, String, String)> {
        let (file, port) = (dialect_file.display().to_string(), self.port.to_string());
        let mut args = self.args(&file, &port).to_vec();
        if keys {
            args.extend(["--keylog", &self.keylog]);
        }
        judged(&args)
            .1
            .iter()
            .map(|(_, r)| {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                let decided = field("decided_by")
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                (field("verdict"), field("stage"), decided)
            })
            .collect()
    }

    /// `harness import --group` of the capture with its keys: the sessions each client case
    /// stands for, fewest first; the suite written must pass `harness check`.
    pub fn group(&self, dialect_file: &Path) -> Vec<i64> {
        let (file, port) = (dialect_file.display().to_string(), self.port.to_string());
        let out = self.dir.path().join("grouped");
        let mut args = vec!["import"];
        args.extend(self.args(&file, &port));
        args.extend([
            "--keylog",
            &self.keylog,
            "--group",
            "--out",
            out.to_str().unwrap(),
        ]);
        let import = harness(&args);
        let said = format!("{}{}", stdout(&import), stderr(&import));
        assert_eq!(import.status.code(), Some(0), "{said}");
        let mut counts: Vec<i64> = std::fs::read_dir(out.join("cases"))
            .unwrap()
            .map(|e| {
                let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
                let value: toml::Value = toml::from_str(&text).unwrap();
                value["sessions"]["count"].as_integer().unwrap()
            })
            .collect();
        counts.sort();
        let check = harness(&["check", out.to_str().unwrap()]);
        assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
        counts
    }
}
