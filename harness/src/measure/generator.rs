//! What the load generator itself spent, counted beside the ops it drove:
//! the arrival threads' time ([`GeneratorLoad`]). A report reads it (and
//! the pooled states, `PoolUse`) to tell the system's limits from Brunt's
//! own.

use std::time::Duration;

/// How the arrival threads spent their time, summed over threads. A
/// generator that never had to wait for its schedule and still fell behind
/// it set the pace itself (or the machine starved it): then the run measures
/// Brunt, not the system under test.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct GeneratorLoad {
    /// CPU time of the arrival threads; `None` where it cannot be read.
    pub(crate) cpu: Option<Duration>,
    /// Time the arrival threads spent waiting for the next arrival's time
    /// (parked or spinning toward it).
    pub(crate) waiting: Duration,
    /// Time the arrival threads spent issuing, summed over threads: from
    /// each thread's start to its last arrival (the drain of ops still in
    /// flight after it is not issuing).
    pub(crate) wall: Duration,
    /// Wall time of the issuing, threads overlapping: the longest thread's,
    /// summed over runs.
    pub(crate) span: Duration,
}

impl GeneratorLoad {
    /// Adds another run's load (runs are sequential).
    pub(crate) fn add(&mut self, other: GeneratorLoad) {
        self.cpu = match (self.cpu, other.cpu) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.waiting += other.waiting;
        self.wall += other.wall;
        self.span += other.span;
    }

    /// Fraction of the arrival threads' issuing time not spent waiting for
    /// the schedule, 0–1: near 1, the generator was always behind.
    pub(crate) fn busy(&self) -> Option<f64> {
        let wall = self.wall.as_secs_f64();
        (wall > 0.0).then(|| 1.0 - self.waiting.as_secs_f64().min(wall) / wall)
    }

    /// CPU time of all arrival threads over the issuing's wall time, in
    /// cores (1.0 = one core busy throughout).
    pub(crate) fn cpu_cores(&self) -> Option<f64> {
        let span = self.span.as_secs_f64();
        self.cpu
            .filter(|_| span > 0.0)
            .map(|cpu| cpu.as_secs_f64() / span)
    }
}
