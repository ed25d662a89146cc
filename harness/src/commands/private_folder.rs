//! New folders in the temporary folder, made with the permissions they need from the start
//! (recorded sessions are production traffic; a server may run as another user).

use super::Failure;
use std::path::PathBuf;

/// A new folder `WHAT-PID-NANOS` with permissions `mode`, created atomically.
pub fn create(what: &str, mode: u32) -> Result<PathBuf, Failure> {
    use std::os::unix::fs::DirBuilderExt;
    let mut attempt = 0;
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("{what}-{}-{nanos}", std::process::id()));
        match std::fs::DirBuilder::new().mode(mode).create(&dir) {
            Ok(()) => return Ok(dir),
            // Two folders asked for in the same nanosecond: ask again.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                attempt += 1;
            }
            Err(e) => {
                return Err(Failure::Runtime(format!(
                    "cannot create {}: {e}",
                    dir.display()
                )));
            }
        }
    }
}
