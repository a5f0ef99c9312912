//! The open model's pool of worker states (a connection, a session): at
//! most a bound of them, and a queue for the arrivals that find none idle.
//!
//! An open model that builds a new state for every arrival finding none
//! idle spirals once the system slows down: slower answers leave fewer
//! states idle, so more are built (a connection each), which slows the
//! system further — thousands of connections against a server that serves
//! a few dozen. A client's real pool has a bound and queues behind it; so
//! does this one. A queued arrival keeps its intended start, so the wait
//! shows in `latency` (measured from the intended start), not hidden.
//!
//! Each arrival thread owns a share of the bound (no lock on the hot
//! path); the shares sum to the bound, and the arrival threads are never
//! more than the bound, so every thread may hold at least one state.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::workload::Op;

/// Without `connections`, enough states for the declared rate at this
/// service time (Little's law: states = rate × time an op holds one), so a
/// system answering within it never queues for one.
pub(crate) const DEFAULT_STATE_TIME_S: f64 = 0.016;

/// The default bound's floor: a low rate still gets a few states.
pub(crate) const DEFAULT_MIN_STATES: u32 = 16;

/// The default bound's ceiling: a server's connection limit is often 512
/// or 1,024 per worker process; a generator holding more is the spiral.
pub(crate) const DEFAULT_MAX_STATES: u32 = 1024;

/// The bound on states held at once when `connections` is not declared:
/// `rate × 16 ms`, within 16–1,024 (and never above `max_in_flight`, which
/// bounds the ops that could use them).
pub(crate) fn default_connections(rate: f64, max_in_flight: u32) -> u32 {
    let needed = (rate.max(0.0) * DEFAULT_STATE_TIME_S).ceil();
    let bounded = needed.clamp(f64::from(DEFAULT_MIN_STATES), f64::from(DEFAULT_MAX_STATES));
    (bounded as u32).min(max_in_flight.max(1))
}

/// An arrival admitted but not yet started: what it will run and when it
/// was meant to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub(crate) intended: Instant,
    pub(crate) op: Op,
    pub(crate) index: u64,
}

/// What an admitted arrival does now.
pub(crate) enum Start<S> {
    /// Run with this idle state.
    Idle(S),
    /// Run once a new state is built (the pool had room for one).
    Build,
    /// Wait in the queue for a state to come back.
    Queued,
}

/// One arrival thread's share of the pool.
pub(crate) struct LanePool<'a, S> {
    idle: Vec<S>,
    /// States this thread holds: idle, in use, or being built.
    held: usize,
    share: usize,
    queue: VecDeque<Pending>,
    /// States held over every thread, and the most at once.
    total: &'a AtomicUsize,
    peak: &'a AtomicUsize,
    queued: u64,
    built: u64,
}

impl<'a, S> LanePool<'a, S> {
    /// A thread's pool of at most `share` states, counting into `total`
    /// and `peak` shared with the other threads.
    pub(crate) fn new(share: usize, total: &'a AtomicUsize, peak: &'a AtomicUsize) -> Self {
        LanePool {
            idle: Vec::new(),
            held: 0,
            share,
            queue: VecDeque::new(),
            total,
            peak,
            queued: 0,
            built: 0,
        }
    }

    /// Where an admitted arrival runs: on an idle state, a new one if the
    /// share has room, else in the queue (kept in arrival order).
    pub(crate) fn admit(&mut self, pending: Pending) -> Start<S> {
        if let Some(state) = self.idle.pop() {
            return Start::Idle(state);
        }
        if self.held < self.share {
            self.hold();
            return Start::Build;
        }
        self.queued += 1;
        self.queue.push_back(pending);
        Start::Queued
    }

    fn hold(&mut self) {
        self.held += 1;
        self.built += 1;
        let now = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    /// Takes back the state of an op that ended (`None`: building it
    /// failed, the pool has room again). The longest-queued arrival, if
    /// any, is handed it (or room to build one).
    pub(crate) fn release(&mut self, state: Option<S>) -> Option<(Pending, Start<S>)> {
        match state {
            Some(state) => match self.queue.pop_front() {
                Some(next) => Some((next, Start::Idle(state))),
                None => {
                    self.idle.push(state);
                    None
                }
            },
            None => {
                self.held -= 1;
                self.total.fetch_sub(1, Ordering::Relaxed);
                let next = self.queue.pop_front()?;
                self.hold();
                Some((next, Start::Build))
            }
        }
    }

    /// Arrivals still queued, given up on (the run was cut short).
    pub(crate) fn abandon_queue(&mut self) -> usize {
        let n = self.queue.len();
        self.queue.clear();
        n
    }

    /// Arrivals that waited for a state, and states built.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.queued, self.built)
    }

    /// The idle states, for the workload's next run.
    pub(crate) fn into_idle(self) -> Vec<S> {
        self.total.fetch_sub(self.held, Ordering::Relaxed);
        self.idle
    }
}

/// The shares of `bound` states over `lanes` threads: equal, the first
/// ones taking one more when it does not divide.
pub(crate) fn share(bound: usize, lanes: usize, lane: usize) -> usize {
    bound / lanes + usize::from(lane < bound % lanes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(index: u64) -> Pending {
        Pending {
            intended: Instant::now(),
            op: super::super::workload::ONLY,
            index,
        }
    }

    #[test]
    fn arrivals_beyond_the_bound_queue_and_take_states_in_arrival_order() {
        let (total, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut pool: LanePool<'_, u32> = LanePool::new(2, &total, &peak);
        assert!(matches!(pool.admit(pending(0)), Start::Build));
        assert!(matches!(pool.admit(pending(1)), Start::Build));
        assert!(matches!(pool.admit(pending(2)), Start::Queued));
        assert!(matches!(pool.admit(pending(3)), Start::Queued));
        // State 7 comes back: the longest-waiting arrival (2) gets it.
        match pool.release(Some(7)) {
            Some((p, Start::Idle(7))) => assert_eq!(p.index, 2),
            _ => panic!("the queued arrival 2 should run on the returned state"),
        }
        // A failed build frees room: arrival 3 builds anew.
        match pool.release(None) {
            Some((p, Start::Build)) => assert_eq!(p.index, 3),
            _ => panic!("the queued arrival 3 should build a state"),
        }
        assert_eq!(pool.release(Some(8)).map(|(p, _)| p.index), None);
        assert!(matches!(pool.admit(pending(4)), Start::Idle(8)));
        assert_eq!(pool.counts(), (2, 3), "2 queued, 3 built");
        assert_eq!(peak.load(Ordering::Relaxed), 2, "never more than the bound");
        pool.into_idle();
        assert_eq!(total.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn shares_sum_to_the_bound() {
        for (bound, lanes) in [(16, 2), (17, 2), (5, 3), (1, 1), (1024, 7)] {
            let sum: usize = (0..lanes).map(|j| share(bound, lanes, j)).sum();
            assert_eq!(sum, bound, "{bound} over {lanes}");
        }
    }

    #[test]
    fn the_default_bound_follows_the_rate_within_its_limits() {
        assert_eq!(default_connections(10_000.0, 1000), 160);
        assert_eq!(default_connections(100.0, 1000), 16);
        assert_eq!(default_connections(1_000_000.0, 100_000), 1024);
        assert_eq!(
            default_connections(10_000.0, 64),
            64,
            "max_in_flight caps it"
        );
    }
}
