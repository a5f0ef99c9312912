//! [`RunFrame`]: what every load model's run shares — the threads that drive
//! it, when it stops, where its op indices start, whether it is recorded,
//! the clock its per-second series uses, an optional ramp and the abort
//! signal. A load model adds only what is its own (workers for the closed
//! model; a rate and an in-flight bound for the open one).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Ramp;

/// When a run ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stop {
    /// No op starts after this long.
    After(Duration),
    /// Exactly this many ops (or arrivals) run.
    Count(u64),
}

/// Set when the run must stop issuing ops (an `abort(...)` criterion can no
/// longer hold), with when and why. Every load model checks it before each
/// op or arrival; clones share one signal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cancel {
    flag: Arc<AtomicBool>,
    why: Arc<Mutex<Option<(f64, String)>>>,
}

impl Cancel {
    /// Asks every load model to stop issuing ops, at `t_ms` since the run
    /// started, for `reason`. Only the first trip is kept; returns whether
    /// this call was it.
    pub(crate) fn trip(&self, t_ms: f64, reason: String) -> bool {
        let mut why = self.why.lock().unwrap_or_else(|p| p.into_inner());
        if why.is_some() {
            return false;
        }
        *why = Some((t_ms, reason));
        self.flag.store(true, Ordering::Relaxed);
        true
    }

    /// Whether the run was asked to stop.
    #[inline]
    pub(crate) fn is_tripped(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// When (ms since the run started) and why the run was stopped.
    pub(crate) fn tripped(&self) -> Option<(f64, String)> {
        self.why.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The part of a run every load model shares.
#[derive(Debug, Clone)]
pub(crate) struct RunFrame {
    /// OS threads driving the run (at most one per core for async ops).
    pub(crate) threads: usize,
    /// When the run ends.
    pub(crate) stop: Stop,
    /// Index of the first op.
    pub(crate) first_index: u64,
    /// Whether ops are recorded (false during warm-up).
    pub(crate) record: bool,
    /// The scenario's time origin, for the per-second series.
    pub(crate) origin: Instant,
    /// Stages: the load follows this profile (workers or arrivals per
    /// second) instead of a fixed level.
    pub(crate) ramp: Option<Ramp>,
    /// Stops the run early.
    pub(crate) cancel: Cancel,
}
