//! Random and corrupted input never panics and never allocates without bound: pcap import,
//! each dialect's framer and classifier, and the case, suite and policy parsers.
//!
//! Every property runs through [`campaign::check`]: 256 cases in a normal `cargo test`, or a
//! long fuzz campaign with `FUZZ_SECONDS`/`FUZZ_INPUTS` set (`ci/fuzz.sh`). Inputs a campaign
//! found failing are kept in `tests/fixtures/regressions/` and replayed by [`regressions`].

#[path = "../common/mod.rs"]
mod common;

mod campaign;
mod declarative;
mod feed;
mod http;
mod import;
mod msnp;
mod parsers;
mod postgres;
mod recordings;
mod regressions;
mod ssh;
mod tls;
mod tls_flight;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Tracks live and peak heap bytes of this test binary, and of each thread.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Bytes this thread allocated less those it freed, and the most that ever was.
    static THREAD_LIVE: Cell<isize> = const { Cell::new(0) };
    static THREAD_PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count_on_this_thread(change: isize) {
    // Const-initialized and without a destructor: never allocates, never fails.
    let _ = THREAD_LIVE.try_with(|live| {
        live.set(live.get() + change);
        let _ = THREAD_PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

// SAFETY: every call forwards to the system allocator unchanged; only counters are added.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        count_on_this_thread(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        count_on_this_thread(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Measures the peak heap growth while `work` runs. Callers hold [`SERIAL`] so the peak belongs
/// to their work alone.
fn peak_heap_during(work: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    work();
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

/// Measures the peak heap growth of this thread while `work` runs on it, whatever other
/// tests do meanwhile.
fn peak_heap_on_this_thread_during(work: impl FnOnce()) -> usize {
    let base = THREAD_LIVE.with(Cell::get);
    THREAD_PEAK.with(|peak| peak.set(base));
    work();
    (THREAD_PEAK.with(Cell::get) - base).max(0) as usize
}

/// Tests that measure heap run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
