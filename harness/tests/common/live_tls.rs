//! Helpers for tests that record real TLS clients and servers on loopback: tcpdump on `lo`
//! for one port (stopped whole, its file complete), the key-logging shim for libpq (an
//! LD_PRELOAD library compiled by the test), and the judged results of a capture.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Skips (with a note) unless on CI, where the check must run.
pub fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}: live TLS captures are required on CI"
    );
    eprintln!("note: {why}; skipping");
}

/// tcpdump on loopback for one port; interrupted and waited for when stopped or dropped.
pub struct Tcpdump {
    child: Option<Child>,
    pub file: PathBuf,
}

impl Tcpdump {
    /// Starts tcpdump on `lo` for `port` into `file` and waits until it listens.
    pub fn start(port: u16, file: &Path) -> Result<Tcpdump, String> {
        Tcpdump::start_on(&["-i", "lo", "-s", "0"], port, file)
    }

    /// Starts tcpdump with `interface` options (`-i any -y LINUX_SLL2`, a snap length) for
    /// `port` into `file`, and waits until it listens.
    pub fn start_on(interface: &[&str], port: u16, file: &Path) -> Result<Tcpdump, String> {
        let mut child = Command::new("tcpdump")
            .args(interface)
            .args(["-B", "8192", "--immediate-mode", "-U", "-w"])
            .arg(file)
            .args(["tcp", "port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("tcpdump cannot run ({e})"))?;
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut said = String::new();
        loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.wait();
                return Err(format!("tcpdump could not capture: {said}"));
            }
            said.push_str(&line);
            if line.contains("listening on") {
                std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
                return Ok(Tcpdump {
                    child: Some(child),
                    file: file.to_path_buf(),
                });
            }
        }
    }

    /// Waits until the capture holds `sessions` closed connections (tcpdump may get the last
    /// packets late on a busy machine; up to 10 s), then stops tcpdump.
    pub fn stop_after(mut self, dialect: &str, port: u16, sessions: usize) {
        let dialect = harness::dialect::by_name(dialect).unwrap();
        for _ in 0..200 {
            let mut closed = 0;
            let _ = harness::capture::import(&self.file, Some(port), dialect, |_, case| {
                closed += usize::from(matches!(case.capture.ended_by.as_str(), "fin" | "reset"));
                Ok(())
            });
            if closed >= sessions {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The LD_PRELOAD library that makes any OpenSSL 1.1.1+ client log its keys (libpq does not
/// honour SSLKEYLOGFILE): it wraps SSL_CTX_new and sets a keylog callback that appends each
/// line to the file `HARNESS_KEYLOG` names. OpenSSL's prototypes are declared here, so it
/// builds without libssl-dev's headers; the symbols are found at run time in the client's
/// libssl.
const SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_method_st SSL_METHOD;
typedef void (*keylog_cb)(const SSL *, const char *);
static void append(const SSL *ssl, const char *line) {
  (void)ssl;
  const char *path = getenv("HARNESS_KEYLOG");
  FILE *f = path ? fopen(path, "a") : NULL;
  if (f) { fprintf(f, "%s\n", line); fclose(f); }
}
SSL_CTX *SSL_CTX_new(const SSL_METHOD *method) {
  SSL_CTX *(*real)(const SSL_METHOD *) =
      (SSL_CTX * (*)(const SSL_METHOD *)) dlsym(RTLD_NEXT, "SSL_CTX_new");
  void (*set)(SSL_CTX *, keylog_cb) =
      (void (*)(SSL_CTX *, keylog_cb))dlsym(RTLD_DEFAULT, "SSL_CTX_set_keylog_callback");
  SSL_CTX *ctx = real ? real(method) : NULL;
  if (ctx && set) set(ctx, append);
  return ctx;
}
"#;

/// Compiles the key-logging shim into `dir`; `Err` says why it could not.
pub fn keylog_shim(dir: &Path) -> Result<PathBuf, String> {
    let source = dir.join("keylog-shim.c");
    let library = dir.join("keylog-shim.so");
    std::fs::write(&source, SHIM).map_err(|e| e.to_string())?;
    let built = Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .output()
        .map_err(|e| format!("gcc cannot run ({e})"))?;
    if !built.status.success() {
        return Err(format!(
            "gcc could not build the shim: {}",
            String::from_utf8_lossy(&built.stderr)
        ));
    }
    Ok(library)
}

/// The first of `tools` that is not on the PATH, if one is not.
pub fn missing_tool(tools: &[&str]) -> Option<String> {
    tools
        .iter()
        .find(|tool| {
            Command::new("which")
                .arg(tool)
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .map(|tool| format!("{tool} is not installed"))
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `harness judge` of a capture as JSON: the exit code and each session's result by its
/// client port (`case` is `#N 127.0.0.1:PORT`).
pub fn judged(args: &[&str]) -> (Option<i32>, Vec<(u16, serde_json::Value)>) {
    let out = super::harness(&[&["judge"], args, &["--format", "json"]].concat());
    let text = super::stdout(&out);
    let results = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "result")
        .map(|r| {
            let case = r["case"].as_str().unwrap_or_default();
            let port = case
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("no client port in {case}"));
            (port, r)
        })
        .collect();
    (out.status.code(), results)
}
