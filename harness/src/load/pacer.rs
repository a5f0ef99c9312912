//! The open model's precise pacer: wakes an arrival thread for its next
//! arrival within a few microseconds of its intended time.
//!
//! tokio's timer has a 1 ms tick: an arrival timed with it leaves up to a
//! millisecond late, and that lag lands in every open-model latency as if the
//! system under test had caused it. A precise sender sends on time, so the
//! pacer sets a `timerfd` (its thread's runtime waits for it in its own I/O
//! wait, with the thread's timer slack lowered to 1 ns on Linux) for shortly
//! before the arrival, then spins on the clock for the rest. Spinning is
//! budgeted: at most [`SPIN_SHARE`] of the interval between a thread's
//! arrivals, and none where that share is too short to matter
//! ([`MIN_SPIN`]) — at high rates the pacer only waits, wakes a little late
//! and sends every arrival that is due at once (each still measured from its
//! intended start; the lateness is `arrival.lag.*`). A spinning pacer at
//! 20,000/s would take the cores the system under test needs. Ops in flight
//! keep progressing throughout: the runtime polls them (and the tasks they
//! spawned) whenever they are woken, waiting or spinning.
//!
//! Time spent waiting or spinning toward an arrival is the generator waiting
//! for its schedule, not the generator behind it.

use std::cell::Cell;
use std::future::Future;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The longest spin: at low rates a core idles in a deep sleep state between
/// arrivals and wakes later still (p99 ≈ 120 µs); spinning a little longer
/// there costs almost nothing.
const MAX_SPIN_WINDOW: Duration = Duration::from_micros(250);

/// Share of an arrival interval the pacer may spend spinning (4 %), at most
/// [`MAX_SPIN_WINDOW`].
const SPIN_SHARE: f64 = 0.04;

/// Where the pacer does not spin (high rates), it waits no shorter than
/// this: each wait and wake costs the thread ~10–15 µs of CPU here (most of
/// it the context switch), so waking once per arrival at 25,000/s a thread
/// would take most of a core; waking every 100 µs (plus the wake's
/// overshoot) and sending every arrival then due bounds the wakes, and the
/// lateness (`arrival.lag.*`) stays within ≈ 150 µs.
const MIN_PARK: Duration = Duration::from_micros(100);

/// Where the pacer does not spin and its interval is at least twice
/// [`MIN_PARK`] (4,000–5,000 arrivals a second per thread: intervals of
/// 200–250 µs, where waiting 100 µs would wake it for every arrival), it
/// waits at least this many intervals: a wake in four sends two arrivals, a
/// fifth fewer wakes for a quarter interval more lateness. Shorter
/// intervals already batch at the floor (100 µs plus the wake's overshoot
/// spans one and a half of them or more), and keep its lower lateness.
const PARK_INTERVALS: f64 = 1.25;

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

/// The deadline the pacer's thread waits for: a `timerfd` (nanosecond
/// precision) registered with the thread's runtime, so the runtime sleeps in
/// its own I/O wait until the arrival's time and keeps driving the ops in
/// flight meanwhile. tokio's timer could not: its wheel has 1 ms slots.
#[cfg(target_os = "linux")]
struct Alarm {
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
    /// When it is set to ring; `None` when it is not set.
    set_for: Cell<Option<Instant>>,
}

#[cfg(target_os = "linux")]
impl Alarm {
    fn new() -> std::io::Result<Alarm> {
        use std::os::fd::FromRawFd;
        // SAFETY: timerfd_create takes no pointers; a valid descriptor is
        // owned from here on.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        // SAFETY: the descriptor is the `OwnedFd`'s, open until it drops
        // with the `AsyncFd`.
        let fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE)
        }
        .map_err(std::io::Error::from)?;
        Ok(Alarm {
            fd,
            set_for: Cell::new(None),
        })
    }

    /// Sets the alarm to ring `after` from now (at `at`).
    fn set(&self, after: Duration, at: Instant) {
        use std::os::fd::AsRawFd;
        let after = after.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `spec` outlives the call; the old value is not asked for.
        unsafe {
            libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut());
        }
        self.set_for.set(Some(at));
    }

    /// Ready once the alarm rang; registers `cx` to be woken when it does.
    fn poll_rang(&self, cx: &mut Context<'_>) -> Poll<()> {
        use std::os::fd::AsRawFd;
        loop {
            let mut guard = match self.fd.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(guard)) => guard,
                // Never for a timerfd; ringing at once errs on the safe
                // side (the caller re-checks the clock).
                Poll::Ready(Err(_)) => return Poll::Ready(()),
            };
            let mut expirations = 0u64;
            // SAFETY: reads 8 bytes into a u64 that outlives the call.
            let read = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&raw mut expirations).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
            // Read or not, the alarm is not readable again until it is set
            // again and rings: a second read to see it empty is not needed.
            guard.clear_ready();
            if read == std::mem::size_of::<u64>() as isize {
                self.set_for.set(None);
                return Poll::Ready(());
            }
        }
    }
}

/// Where there is no timerfd: tokio's timer, to the millisecond.
#[cfg(not(target_os = "linux"))]
struct Alarm {
    sleep: std::cell::RefCell<std::pin::Pin<Box<tokio::time::Sleep>>>,
    set_for: Cell<Option<Instant>>,
}

#[cfg(not(target_os = "linux"))]
impl Alarm {
    fn new() -> std::io::Result<Alarm> {
        Ok(Alarm {
            sleep: std::cell::RefCell::new(Box::pin(tokio::time::sleep(Duration::ZERO))),
            set_for: Cell::new(None),
        })
    }

    fn set(&self, _after: Duration, at: Instant) {
        self.sleep.borrow_mut().as_mut().reset(at.into());
        self.set_for.set(Some(at));
    }

    fn poll_rang(&self, cx: &mut Context<'_>) -> Poll<()> {
        let rang = self.sleep.borrow_mut().as_mut().poll(cx);
        if rang.is_ready() {
            self.set_for.set(None);
        }
        rang
    }
}

/// Paces one arrival thread: [`Pacer::until`] completes at an instant,
/// within a few microseconds where the pacer may spin.
pub(crate) struct Pacer {
    alarm: Alarm,
    spin: Duration,
    /// The shortest wait for the alarm ([`MIN_PARK`] where the pacer does
    /// not spin).
    min_park: Duration,
}

/// A future that completes at an instant, precisely.
pub(crate) struct Until<'a> {
    pacer: &'a Pacer,
    at: Instant,
}

impl Future for Until<'_> {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let pacer = self.pacer;
        loop {
            let now = Instant::now();
            if now >= self.at {
                return Poll::Ready(());
            }
            let left = self.at - now;
            if left <= pacer.spin {
                // Spinning: back to the runtime, which polls the ops in
                // flight (and the I/O that completes them) and this again.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let wake = now + (left - pacer.spin).max(pacer.min_park);
            if pacer.alarm.set_for.get().is_none_or(|set| set > wake) {
                pacer.alarm.set(wake - now, wake);
            }
            if pacer.alarm.poll_rang(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl Pacer {
    /// A pacer for arrivals `interval` apart on average: it spins for 4 %
    /// of the interval before each, at most 250 µs; where that is under
    /// 10 µs it does not spin, and waits at least 100 µs at a time (1.25
    /// intervals where an interval is 200 µs or more). Must be made on the
    /// runtime that drives it (its alarm registers there).
    pub(crate) fn for_interval(interval: Duration) -> std::io::Result<Pacer> {
        let budget = interval.mul_f64(SPIN_SHARE).min(MAX_SPIN_WINDOW);
        let spins = budget >= MIN_SPIN;
        Ok(Pacer {
            alarm: Alarm::new()?,
            spin: if spins { budget } else { Duration::ZERO },
            min_park: if spins {
                Duration::ZERO
            } else if interval >= 2 * MIN_PARK {
                interval.mul_f64(PARK_INTERVALS)
            } else {
                MIN_PARK
            },
        })
    }

    /// A future completing at `at`.
    pub(crate) fn until(&self, at: Instant) -> Until<'_> {
        Until { pacer: self, at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_kept_to_the_microsecond_while_ops_progress() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        lower_timer_slack();
        let lateness = rt.block_on(async {
            // 2,000 arrivals a second: the pacer spins for the last 20 µs.
            let pacer = Pacer::for_interval(Duration::from_micros(500)).unwrap();
            let start = Instant::now();
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
