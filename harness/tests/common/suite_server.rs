//! A shipped suite's server script (`suites/SUITE/servers/SCRIPT PHASE PORT`) started by a
//! test as the harness starts a command target: in a process group of its own, with a
//! `TMPDIR` of its own, ready once its port listens or its stderr says so, and stopped whole.

use super::live_tls::free_port;
use super::repo_root;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which script, in which phase (policy, configuration).
pub struct ServerScript {
    pub suite: &'static str,
    pub script: &'static str,
    pub phase: &'static str,
    /// A line of the server's stderr that says it is ready (else: once its port listens).
    /// PostgreSQL accepts connections while it starts, only to refuse them.
    pub ready_when: Option<&'static str>,
}

/// A running server script on a free loopback port; its process group is stopped (and the
/// script waited for) when dropped.
pub struct SuiteServer {
    child: Child,
    pub port: u16,
    /// SIGINT for a server with `ready_when` (PostgreSQL: a fast shutdown, which its folder
    /// watcher ignores), else SIGTERM.
    stop_signal: &'static str,
}

impl SuiteServer {
    /// Started with a `TMPDIR` of its own inside `dir` (removed with it) and the shared
    /// `HARNESS_CACHE_DIR`, its stderr in `dir/PHASE.log`; started again on another port, up
    /// to three times, if another process took its port first.
    pub fn start(server: &ServerScript, dir: &Path) -> SuiteServer {
        let log = dir.join(format!("{}.log", server.phase));
        let tmp = dir.join(format!("{}-tmp", server.phase));
        std::fs::create_dir(&tmp).unwrap();
        // Reachable by a server that switches user (PostgreSQL's), as the harness makes it.
        for folder in [dir, tmp.as_path()] {
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o711)).unwrap();
        }
        let name = format!("{} {}", server.script, server.phase);
        for _ in 0..3 {
            match SuiteServer::try_start(server, &tmp, &log) {
                Ok(started) => return started,
                Err(said) if said.contains("Address already in use") => continue,
                Err(said) => panic!("{name} did not start: {said}"),
            }
        }
        panic!("{name} found its port taken three times");
    }

    fn try_start(server: &ServerScript, tmp: &Path, log: &Path) -> Result<SuiteServer, String> {
        let port = free_port();
        let script = repo_root()
            .join("suites")
            .join(server.suite)
            .join("servers")
            .join(server.script);
        let child = Command::new("bash")
            .arg(script)
            .args([server.phase, &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .env("TMPDIR", tmp)
            .env("HARNESS_CACHE_DIR", std::env::temp_dir())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut started = SuiteServer {
            child,
            port,
            stop_signal: if server.ready_when.is_some() {
                "INT"
            } else {
                "TERM"
            },
        };
        let since = Instant::now();
        loop {
            let ready = match server.ready_when {
                Some(line) => std::fs::read_to_string(log).unwrap().contains(line),
                None => listening(port),
            };
            if ready {
                return Ok(started);
            }
            let exited = started.child.try_wait().unwrap().is_some();
            if exited || since.elapsed() > Duration::from_secs(60) {
                drop(started);
                return Err(std::fs::read_to_string(log).unwrap());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for SuiteServer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args([
                "-s",
                self.stop_signal,
                "--",
                &format!("-{}", self.child.id()),
            ])
            .status();
        let _ = self.child.wait();
    }
}

/// Whether something listens on the loopback port, asked without connecting (a probe would
/// be a session of its own to the server, in a capture running beside it).
fn listening(port: u16) -> bool {
    let out = Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .unwrap();
    !out.stdout.is_empty()
}
