//! Which open connection has gone longest without sending a whole message. When the server is
//! full, that one is closed to admit a newcomer, so idle and slow-drip clients cannot hold
//! every slot until their idle timeout while real clients are refused. Past its admission
//! budget, a connection that has not been admitted stays as quiet as it was, however often it
//! sends: cheap chatter does not hold a slot either.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Open connections ordered by when they last completed a message.
#[derive(Default)]
pub struct Activity {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    by_quiet_since: BTreeMap<(Instant, u64), Arc<Notify>>,
}

/// One connection's place in [`Activity`]; leaves it when dropped.
pub struct Tracked {
    activity: Arc<Activity>,
    key: (Instant, u64),
    connected: Instant,
    /// Notified when the server closes this connection to admit another.
    pub evicted: Arc<Notify>,
}

impl Activity {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the map half-updated: every change is one call.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts tracking a new connection, quiet from now.
    pub fn track(self: &Arc<Self>) -> Tracked {
        let evicted = Arc::new(Notify::new());
        let mut inner = self.lock();
        let key = (Instant::now(), inner.next_id);
        inner.next_id += 1;
        inner.by_quiet_since.insert(key, evicted.clone());
        Tracked {
            activity: self.clone(),
            key,
            connected: key.0,
            evicted,
        }
    }

    /// Tells the connection quiet longest to close, if it has been quiet at least `min_quiet`.
    /// Returns whether one was told.
    pub fn evict_quietest(&self, min_quiet: Duration) -> bool {
        let mut inner = self.lock();
        let Some(entry) = inner.by_quiet_since.first_entry() else {
            return false;
        };
        if entry.key().0.elapsed() < min_quiet {
            return false;
        }
        // Removed here so the next newcomer picks a different one.
        entry.remove().notify_one();
        true
    }

    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().by_quiet_since.len()
    }
}

impl Tracked {
    /// The connection completed a message: it is no longer quiet, if it has been admitted
    /// or is still within `budget` of connecting.
    pub fn touch(&mut self, admitted: bool, budget: Duration) {
        if !admitted && self.connected.elapsed() >= budget {
            return;
        }
        let mut inner = self.activity.lock();
        // Already evicted: stays out, so it is not chosen twice.
        if inner.by_quiet_since.remove(&self.key).is_some() {
            self.key.0 = Instant::now();
            inner.by_quiet_since.insert(self.key, self.evicted.clone());
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.activity.lock().by_quiet_since.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_quietest_connection_is_evicted_once_it_has_been_quiet_long_enough() {
        let activity = Arc::new(Activity::default());
        let first = activity.track();
        let mut second = activity.track();
        assert!(
            !activity.evict_quietest(Duration::from_secs(60)),
            "too recent"
        );
        second.touch(false, Duration::from_secs(60));
        let told = first.evicted.clone();
        assert!(activity.evict_quietest(Duration::ZERO));
        // The first was quiet longest: it is told (the notification waits for it).
        let notified = tokio::time::timeout(Duration::from_millis(100), told.notified()).await;
        assert!(notified.is_ok());
        assert_eq!(
            activity.open(),
            1,
            "an evicted connection is not chosen again"
        );
        drop(first);
        drop(second);
        assert_eq!(activity.open(), 0);
        assert!(!activity.evict_quietest(Duration::ZERO));
    }

    #[tokio::test]
    async fn chatter_past_the_admission_budget_keeps_no_one_from_eviction() {
        let activity = Arc::new(Activity::default());
        let mut chatty = activity.track();
        let mut admitted = activity.track();
        std::thread::sleep(Duration::from_millis(20));
        // Both send; only the admitted one counts as active.
        chatty.touch(false, Duration::from_millis(10));
        admitted.touch(true, Duration::from_millis(10));
        let told = chatty.evicted.clone();
        assert!(activity.evict_quietest(Duration::from_millis(15)));
        let notified = tokio::time::timeout(Duration::from_millis(100), told.notified()).await;
        assert!(
            notified.is_ok(),
            "the chatty, unadmitted connection is the one evicted"
        );
        assert!(!activity.evict_quietest(Duration::from_millis(15)));
    }
}
