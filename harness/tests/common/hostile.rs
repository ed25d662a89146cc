//! What every hostile-server catalogue shares: a fake server on an ephemeral loopback port,
//! one case run at a time and measured (how long it took, how far the heap grew, how much the
//! fake server streamed), and the bounds each case keeps: a verdict by the step deadline (or
//! at it, where nothing was wrong but slowness), within the heap and transcript limits.
//! Included with `#[path = "common/hostile.rs"] mod hostile;` beside `heap`.

use crate::heap;
use harness::case::Case;
use harness::runner::{CaseRun, Settings, Target, drive};
use harness::verdict::VerdictKind;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// One case at a time, so that the peak heap belongs to it alone: held from before a case is
/// measured until its test has judged it (see [`Outcome`]).
static SERIAL: Mutex<()> = Mutex::new(());
/// Bytes the fake server has streamed in this case (its endless behaviours add to it).
pub static STREAMED: AtomicUsize = AtomicUsize::new(0);

/// How a catalogue bounds its cases.
pub struct Bounds {
    pub step_timeout: Duration,
    /// How late past the deadline a verdict may come on a busy machine.
    pub margin: Duration,
    pub transcript_limit: usize,
    /// The most heap a case may grow by, fake server included.
    pub heap_limit: usize,
    /// Past this the test itself gives up: a harness that ignored its deadline would hang.
    pub hang: Duration,
}

/// What one case did. It holds the catalogue's turn until it is dropped: the heap is counted
/// across the whole process, so whatever a test does after its case ran (its assertions, and
/// when one fails, the panic hook resolving a backtrace under `RUST_BACKTRACE`, which loads
/// the binary's debug info: some 60 MiB the first time) must be over before the next case is
/// measured, or it counts against that case.
pub struct Outcome {
    pub run: CaseRun,
    pub elapsed: Duration,
    /// Peak heap growth during the case, fake server included.
    pub peak: usize,
    /// What the fake server streamed.
    pub streamed: usize,
    /// The turn: released when the test is done with the outcome (or unwinds past it, after
    /// the panic hook ran).
    _alone: MutexGuard<'static, ()>,
}

/// Serves every connection with `behave` on an ephemeral loopback port.
pub async fn serve<F, Fut>(behave: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behave(stream));
        }
    });
    addr
}

/// Runs the case `prepare` makes against the fake server `start` brings up, alone and
/// measured. `prepare` runs before the measuring starts (what it builds is not the case's
/// growth).
pub fn measure<S, Fut>(bounds: &Bounds, prepare: impl FnOnce() -> Case, start: S) -> Outcome
where
    S: FnOnce() -> Fut,
    Fut: Future<Output = SocketAddr>,
{
    // Taken before the runtime is built, so that no other case allocates meanwhile, and kept
    // in the outcome until the test has judged it. A case that failed poisons it: the next
    // case's measurement is still its own.
    let alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let case = prepare();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let addr = start().await;
        let settings = Settings {
            step_timeout: bounds.step_timeout,
            transcript_limit: bounds.transcript_limit,
            ..Settings::default()
        };
        STREAMED.store(0, Ordering::Relaxed);
        let base = heap::LIVE.load(Ordering::Relaxed);
        heap::PEAK.store(base, Ordering::Relaxed);
        let started = Instant::now();
        let target = Target::plain(addr.to_string());
        let run = tokio::time::timeout(
            bounds.hang,
            drive(&target, &case, &BTreeMap::new(), &settings),
        )
        .await
        .expect("the step timeout is a deadline");
        Outcome {
            run,
            elapsed: started.elapsed(),
            peak: heap::PEAK.load(Ordering::Relaxed).saturating_sub(base),
            streamed: STREAMED.load(Ordering::Relaxed),
            _alone: alone,
        }
    })
}

impl Outcome {
    /// Prints what the case did (verdict, time, what the server streamed, the heap's growth)
    /// and asserts its verdict: of `kind`, its reason saying `reason`.
    // The HTTP and dialect-file catalogues print more than this line, and check for themselves.
    #[allow(dead_code)]
    pub fn assert_verdict(&self, label: &dyn std::fmt::Debug, kind: VerdictKind, reason: &str) {
        let verdict = &self.run.verdict;
        println!(
            "{label:?}: {} in {:.0?}; the server streamed {} KiB, the heap grew by at most {} KiB; {}",
            verdict.kind,
            self.elapsed,
            self.streamed / 1024,
            self.peak / 1024,
            verdict.reason
        );
        assert_eq!(verdict.kind, kind, "{verdict:?}");
        assert!(verdict.reason.contains(reason), "{verdict:?}");
    }

    /// The bounds every case keeps: decided before the deadline, or at it when
    /// `at_deadline`; the heap and the transcript within their limits.
    pub fn assert_bounded(&self, bounds: &Bounds, at_deadline: bool) {
        let elapsed = self.elapsed;
        assert!(
            elapsed < bounds.step_timeout + bounds.margin,
            "took {elapsed:?}"
        );
        if at_deadline {
            assert!(
                elapsed >= bounds.step_timeout,
                "decided early, in {elapsed:?}"
            );
        } else {
            assert!(
                elapsed < bounds.step_timeout,
                "waited for the deadline: {elapsed:?}"
            );
        }
        let peak = self.peak;
        assert!(peak <= bounds.heap_limit, "the heap grew by {peak} bytes");
        let kept: usize = self
            .run
            .transcript
            .entries
            .iter()
            .map(|e| e.data.byte_len())
            .sum();
        assert!(
            kept <= bounds.transcript_limit,
            "transcript kept {kept} bytes"
        );
    }

    /// Where the server streams on, it must have outrun what the harness may keep, or the
    /// heap bound means nothing.
    pub fn assert_streamed_over(&self, at_least: usize) {
        let streamed = self.streamed;
        assert!(
            streamed > at_least,
            "the server streamed only {streamed} bytes"
        );
    }
}
