//! How many connections a server process can hold: its open-file limit, raised from the soft
//! to the hard limit at start, less descriptors kept for everything else. A connection limit
//! above it would stop accepting (EMFILE) before it starts evicting.

use rustix::process::{Resource, getrlimit, setrlimit};

/// Descriptors kept for the process itself: the listener, logs, files, the runtime.
const RESERVED: usize = 64;

/// Raises the soft open-file limit to the hard limit; returns the soft limit now in force
/// (`None` where the platform does not say).
pub fn raise_descriptor_limit() -> Option<u64> {
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current
}

/// The most connections the process can hold open at once, given its descriptor limit.
pub fn connection_capacity() -> usize {
    match raise_descriptor_limit() {
        Some(limit) => usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(RESERVED)
            .max(1),
        None => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capacity_leaves_room_for_the_process() {
        let limit = raise_descriptor_limit().unwrap();
        assert_eq!(
            getrlimit(Resource::Nofile).current,
            getrlimit(Resource::Nofile).maximum
        );
        assert_eq!(
            connection_capacity() as u64,
            limit.saturating_sub(RESERVED as u64).max(1)
        );
    }
}
