//! [`RunFrame`]: what every load model's run shares — the threads that drive
//! it, when it stops, where its op indices start, whether it is recorded,
//! the clock its load series uses, an optional ramp and the abort
//! signal. A load model adds only what is its own (workers for the closed
//! model; a rate and an in-flight bound for the open one).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{OpResult, OpStatus, Ramp};
use crate::journal::Journal;
use crate::measure::{SeriesPlan, SliceSink};

/// When a run ends.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Stop {
    /// No op starts after this long.
    After(Duration),
    /// Exactly this many ops (or arrivals) run.
    Count(u64),
}

/// Set when the run must stop issuing ops (an `abort(...)` criterion can no
/// longer hold; when and why go to the journal). Every load model checks it
/// before each op or arrival; clones share one signal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cancel {
    flag: Arc<AtomicBool>,
    /// Wakes ops raced against the cancellation.
    tripped: Arc<tokio::sync::Notify>,
}

impl Cancel {
    /// Asks every load model to stop issuing ops. Returns whether this call
    /// was the first to (the one whose reason the run reports).
    pub(crate) fn trip(&self) -> bool {
        if self.flag.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.tripped.notify_waiters();
        true
    }

    /// Completes once the run is asked to stop: an op raced against it is
    /// abandoned at once, however long it would still take.
    pub(crate) async fn cancelled(&self) {
        let notified = self.tripped.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        if self.is_tripped() {
            return;
        }
        notified.await;
    }

    /// Whether the run was asked to stop.
    #[inline]
    pub(crate) fn is_tripped(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
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
    /// The scenario's time origin, for the load series.
    pub(crate) origin: Instant,
    /// Stages: the load follows this profile (workers or arrivals per
    /// second) instead of a fixed level.
    pub(crate) ramp: Option<Ramp>,
    /// Stops the run early.
    pub(crate) cancel: Cancel,
    /// Longest an op may take; one past it ends as an error with this
    /// latency.
    pub(crate) op_timeout: Option<Duration>,
    /// Whether the run can be cancelled while ops are in flight (it has
    /// `abort(...)` criteria): then each op is raced against the
    /// cancellation.
    pub(crate) cancellable: bool,
    /// Where a recorded run's load slices are written (kept in memory
    /// without one).
    pub(crate) stream: Option<Arc<Journal>>,
    /// Closed model: each worker's pause between ops.
    pub(crate) think: Option<brunt_grammar::ThinkTime>,
    /// The scenario's seed (think times are drawn from it).
    pub(crate) seed: u64,
    /// The stripe of the run's workers, ops and arrivals this process runs
    /// (`BRUNT_SEGMENT`; the whole by default).
    pub(crate) segment: super::Segment,
}

impl RunFrame {
    /// The load series a driver thread's recorder cuts, when the run is
    /// recorded: the run's clock, how many threads record it, and where the
    /// slices go.
    pub(crate) fn series(&self) -> Option<SeriesPlan> {
        self.record.then(|| SeriesPlan {
            origin: self.origin,
            threads: self.threads,
            sink: match &self.stream {
                Some(stream) => SliceSink::Stream(Arc::clone(stream)),
                None => SliceSink::Memory(Vec::new()),
            },
        })
    }
}

/// How a guarded op ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpEnd {
    /// It finished, with this status.
    Finished(OpStatus),
    /// It passed `op_timeout`.
    TimedOut,
    /// The run was cancelled while it was in flight: abandoned, not counted.
    Abandoned,
}

/// Runs one op under the frame's guards: the op timeout and the
/// cancellation. (Unguarded runs await the op directly, at no cost.)
pub(crate) async fn guarded<F>(op: F, frame: &RunFrame) -> OpEnd
where
    F: std::future::Future,
    F::Output: OpResult,
{
    let op = async {
        match frame.op_timeout {
            Some(limit) => match tokio::time::timeout(limit, op).await {
                Ok(result) => OpEnd::Finished(result.status()),
                Err(_) => OpEnd::TimedOut,
            },
            None => OpEnd::Finished(op.await.status()),
        }
    };
    if !frame.cancellable {
        return op.await;
    }
    tokio::select! {
        biased;
        end = op => end,
        () = frame.cancel.cancelled() => OpEnd::Abandoned,
    }
}
