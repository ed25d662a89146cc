//! A command target's server as a process group the harness owns: started in a group of its
//! own with a private `TMPDIR` (and `HARNESS_CACHE_DIR`, the outer temporary folder, for
//! caches meant to outlive it), and stopped whole — SIGTERM to the group, SIGKILL to what is
//! left after a grace period, then the folder removed — when the run ends, fails, or the
//! harness is interrupted (SIGINT, SIGTERM, SIGHUP).

use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use std::path::PathBuf;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// How long a server has to stop after SIGTERM before its group is killed.
pub const GRACE: Duration = Duration::from_secs(5);

/// Servers running now: what an interrupted harness must stop before it exits.
static RUNNING: Mutex<Vec<(Pid, PathBuf)>> = Mutex::new(Vec::new());

/// A running command target. Dropping it stops it whole.
pub struct ServerProcess {
    child: tokio::process::Child,
    group: Option<Pid>,
    tmp: PathBuf,
}

impl ServerProcess {
    /// Starts `command` (its stdin, stdout and stderr already set) in a process group of its
    /// own, with `TMPDIR` set to a folder of its own that is removed when it stops.
    pub fn spawn(command: &mut tokio::process::Command) -> std::io::Result<ServerProcess> {
        // Traversable by the user a server script may switch to (PostgreSQL refuses root),
        // listable only by the harness's user; DirBuilder's mode is masked by the umask.
        let tmp = super::private_folder::create("harness-target", 0o711)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        command
            .process_group(0)
            .env("TMPDIR", &tmp)
            .env("HARNESS_TARGET_TMP", &tmp)
            // Where what should outlive one server (a cluster made by initdb, host keys) goes.
            .env("HARNESS_CACHE_DIR", std::env::temp_dir())
            .kill_on_drop(true);
        let child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        let group = child.id().and_then(|id| Pid::from_raw(id as i32));
        if let Some(group) = group {
            lock().push((group, tmp.clone()));
            stop_all_on_signal();
        }
        Ok(ServerProcess { child, group, tmp })
    }

    pub fn child(&mut self) -> &mut tokio::process::Child {
        &mut self.child
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(group) = self.group {
            stop_group(group, &mut || {
                let _ = self.child.try_wait();
            });
            lock().retain(|(g, _)| *g != group);
        }
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(Pid, PathBuf)>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// SIGTERM to the group; SIGKILL to it if anything in it still runs after [`GRACE`].
/// `reap` collects the group leader's exit (a zombie still counts as a member).
fn stop_group(group: Pid, reap: &mut dyn FnMut()) {
    if kill_process_group(group, Signal::TERM).is_err() {
        return; // already gone
    }
    if gone_within(group, GRACE, Duration::from_millis(20), reap) {
        return;
    }
    let _ = kill_process_group(group, Signal::KILL);
    // A killed process is gone only once the kernel has run its exit, which on a loaded
    // machine is not at once: wait for that (briefly), so nothing outlives the harness.
    gone_within(group, KILLED_WITHIN, Duration::from_millis(10), reap);
}

/// Whether `group` is gone within `within`, looked at every `poll` (its leader reaped first).
fn gone_within(group: Pid, within: Duration, poll: Duration, reap: &mut dyn FnMut()) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        reap();
        if test_kill_process_group(group).is_err() {
            return true;
        }
        std::thread::sleep(poll);
    }
    false
}

/// How long a SIGKILLed group may take to be gone (a zombie leader, reaped, included).
const KILLED_WITHIN: Duration = Duration::from_secs(2);

/// On SIGINT, SIGTERM or SIGHUP: every running server stopped, its folder removed, and the
/// harness gone with the conventional status (128 + the signal).
fn stop_all_on_signal() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        handle.spawn(async {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut interrupt), Ok(mut terminate), Ok(mut hangup)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                return;
            };
            let code = tokio::select! {
                _ = interrupt.recv() => 130,
                _ = terminate.recv() => 143,
                _ = hangup.recv() => 129,
            };
            let running = std::mem::take(&mut *lock());
            for (group, tmp) in running {
                stop_group(group, &mut || {});
                let _ = std::fs::remove_dir_all(&tmp);
            }
            std::process::exit(code);
        });
    });
}
