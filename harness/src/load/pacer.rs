//! The open model's precise pacer: runs an arrival thread's future to
//! completion on that thread, and wakes it for the next arrival within a few
//! microseconds of its intended time.
//!
//! tokio's timer has a 1 ms tick: an arrival timed with it leaves up to a
//! millisecond late, and that lag lands in every open-model latency as if the
//! system under test had caused it. A precise sender sends on time, so the
//! pacer parks the thread (a futex wait, with the thread's timer slack
//! lowered to 1 ns on Linux) until shortly before the arrival, then spins on
//! the clock for the rest. Spinning is budgeted: at most [`SPIN_SHARE`] of
//! the interval between a thread's arrivals, and none where that share is
//! too short to matter ([`MIN_SPIN`]) — at high rates the pacer only parks,
//! wakes a little late and sends every arrival that is due at once (each
//! still measured from its intended start; the lateness is
//! `arrival.lag.*`). A spinning pacer at 20,000/s would take the cores the
//! system under test needs. Ops in flight keep progressing throughout: their
//! wakers unpark the thread, which polls them and goes back to waiting.
//!
//! Time spent parked or spinning toward an arrival is the generator waiting
//! for its schedule, not the generator behind it.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

/// How long before a deadline the default pacer stops sleeping and spins.
/// Parking with 1 ns of timer slack wakes p50 ≈ 45 µs, p90 ≈ 60 µs late
/// here; a spin this long covers the wake's usual lateness and no more.
const SPIN_WINDOW: Duration = Duration::from_micros(75);

/// The longest spin: at low rates a core idles in a deep sleep state between
/// arrivals and wakes later still (p99 ≈ 120 µs); spinning a little longer
/// there costs almost nothing.
const MAX_SPIN_WINDOW: Duration = Duration::from_micros(250);

/// Share of an arrival interval the pacer may spend spinning (4 %), at most
/// [`MAX_SPIN_WINDOW`].
const SPIN_SHARE: f64 = 0.04;

/// Where the pacer does not spin (high rates), it parks no shorter than
/// this: each park and wake costs the thread ~10 µs of CPU, so waking once
/// per arrival at 25,000/s a thread would take most of a core; waking every
/// 100 µs (plus the park's overshoot) and sending every arrival then due
/// bounds the wakes, and the lateness (`arrival.lag.*`) stays within
/// ≈ 150 µs.
const MIN_PARK: Duration = Duration::from_micros(100);

/// Below this, a spin budget is not worth spending: it would not cover the
/// park's usual lateness anyway, and at the rates that leave so little
/// (over 4,000 arrivals per second per thread) a parked wake sends every
/// due arrival at once.
const MIN_SPIN: Duration = Duration::from_micros(10);

/// Lowers the calling thread's timer slack to 1 ns, so its timed waits end
/// when asked rather than up to 50 µs later (Linux's default slack). Other
/// platforms keep their default.
pub(crate) fn lower_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only sets a per-thread scheduling value.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Wakes the pacer's thread when an op it drives becomes ready.
struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }
}

/// The deadline the future being driven waits for, set by [`Pacer::until`].
pub(crate) struct Pacer {
    deadline: Cell<Option<Instant>>,
    spin: Duration,
    /// The shortest park ([`MIN_PARK`] where the pacer does not spin).
    min_park: Duration,
}

impl Default for Pacer {
    fn default() -> Pacer {
        Pacer {
            deadline: Cell::new(None),
            spin: SPIN_WINDOW,
            min_park: Duration::ZERO,
        }
    }
}

/// A future that completes at an instant, precisely, when driven by
/// [`Pacer::block_on`].
pub(crate) struct Until<'a> {
    pacer: &'a Pacer,
    at: Instant,
}

impl Future for Until<'_> {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        let earliest = match self.pacer.deadline.get() {
            Some(d) if d <= self.at => d,
            _ => self.at,
        };
        self.pacer.deadline.set(Some(earliest));
        Poll::Pending
    }
}

impl Pacer {
    /// A pacer for arrivals `interval` apart on average: it spins for 4 %
    /// of the interval before each, at most 250 µs; where that is under
    /// 10 µs it does not spin, and parks at least 100 µs at a time.
    pub(crate) fn for_interval(interval: Duration) -> Pacer {
        let budget = interval.mul_f64(SPIN_SHARE).min(MAX_SPIN_WINDOW);
        let spins = budget >= MIN_SPIN;
        Pacer {
            deadline: Cell::new(None),
            spin: if spins { budget } else { Duration::ZERO },
            min_park: if spins { Duration::ZERO } else { MIN_PARK },
        }
    }

    /// A future completing at `at`. Only [`Pacer::block_on`] on this pacer
    /// wakes it: it registers no waker of its own.
    pub(crate) fn until(&self, at: Instant) -> Until<'_> {
        Until { pacer: self, at }
    }

    /// Drives `future` on this thread with `handle`'s runtime entered (so
    /// ops may use its timers and I/O), waking for the deadlines of
    /// [`Pacer::until`] precisely and for every op's waker at once.
    pub(crate) fn block_on<F: Future>(&self, handle: &Handle, future: F) -> F::Output {
        let _runtime = handle.enter();
        lower_timer_slack();
        let waker = Arc::new(ThreadWaker {
            thread: std::thread::current(),
            woken: AtomicBool::new(true),
        });
        let task_waker = Waker::from(Arc::clone(&waker));
        let mut cx = Context::from_waker(&task_waker);
        let mut future = pin!(future);
        loop {
            if waker.woken.swap(false, Ordering::AcqRel) {
                self.deadline.set(None);
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return output;
                }
                continue;
            }
            match self.deadline.get() {
                None => std::thread::park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        waker.woken.store(true, Ordering::Release);
                        continue;
                    }
                    let left = deadline - now;
                    if left > self.spin {
                        std::thread::park_timeout((left - self.spin).max(self.min_park));
                    } else {
                        std::hint::spin_loop();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_kept_to_the_microsecond_while_ops_progress() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let pacer = Pacer::default();
        let start = Instant::now();
        let lateness = pacer.block_on(rt.handle(), async {
            // An op in flight on a tokio timer completes while the pacer waits.
            let op = tokio::spawn(tokio::time::sleep(Duration::from_millis(3)));
            let mut late = Vec::new();
            for k in 1..=200u32 {
                let at = start + Duration::from_micros(500) * k;
                pacer.until(at).await;
                late.push(Instant::now() - at);
            }
            op.await.unwrap();
            late
        });
        let mut lateness = lateness;
        lateness.sort();
        let median = lateness[lateness.len() / 2];
        // Timer-tick pacing would be ~500 µs late at the median.
        assert!(median < Duration::from_micros(250), "median {median:?}");
    }
}
