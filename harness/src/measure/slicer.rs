//! Cutting one driver thread's cumulative latency histogram into slices of
//! the run's clock as it records (see `timeline` for why and how the
//! slices merge): the [`BinSlicer`] on the hot path and the [`SliceSink`]
//! its slices go to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::timeline::{WIDTHS_MS, ladder_ms};
use crate::journal::{Journal, Record, Slice};

/// Most cuts per second one drive's threads make together at its finest
/// width: a drive of two threads cuts 200 times a second at first, one of
/// 64 blocking workers would cut 6,400 times at 10 ms, so it starts at
/// 500 ms instead.
const MOST_CUTS_PER_S: u64 = 400;

/// The finest width a drive of `threads` recording threads cuts at.
pub(super) fn finest_ms(threads: usize) -> u64 {
    let threads = threads.max(1) as u64;
    WIDTHS_MS
        .into_iter()
        .find(|width| threads * (1_000 / width) <= MOST_CUTS_PER_S)
        .unwrap_or(1_000)
}

/// Where a slicer hands its finished slices.
pub(crate) enum SliceSink {
    /// Written to the run's stream as `load_slice` records.
    Stream(Arc<Journal>),
    /// Kept (tests, and runs without a stream).
    Memory(Vec<Slice>),
}

impl SliceSink {
    fn take(&mut self, slice: Slice) {
        match self {
            SliceSink::Stream(stream) => stream.append(&Record::LoadSlice(slice)),
            SliceSink::Memory(kept) => kept.push(slice),
        }
    }
}

/// How a recorded drive's threads cut their series: on the run's clock,
/// how many threads record (which bounds how fine they cut), and where the
/// slices go.
pub(crate) struct SeriesPlan {
    /// The run's time origin.
    pub(crate) origin: Instant,
    /// Threads recording the drive.
    pub(crate) threads: usize,
    /// Where the slices go.
    pub(crate) sink: SliceSink,
}

/// Cuts one thread's recording into bins of the run's clock.
pub(crate) struct BinSlicer {
    origin: Instant,
    /// When the thread's drive began: bins widen with the time since.
    began: Instant,
    finest_ms: u64,
    /// The bin being filled: start (ms since the origin) and width.
    start_ms: u64,
    width_ms: u64,
    next_boundary: Instant,
    /// The recording at the last cut (one histogram, updated in place
    /// rather than cloned at every cut).
    previous: Option<Histogram<u64>>,
    previous_ops: u64,
    previous_errors: u64,
    sink: SliceSink,
}

impl BinSlicer {
    /// A slicer for a thread of a drive that begins `now`.
    pub(crate) fn new(plan: SeriesPlan, now: Instant) -> BinSlicer {
        let mut slicer = BinSlicer {
            origin: plan.origin,
            began: now,
            finest_ms: finest_ms(plan.threads),
            start_ms: 0,
            width_ms: 1_000,
            next_boundary: now,
            previous: None,
            previous_ops: 0,
            previous_errors: 0,
            sink: plan.sink,
        };
        slicer.enter(now);
        slicer
    }

    /// Whether an op finishing at `t` belongs to a later bin than the one
    /// being filled.
    #[cfg(test)]
    pub(crate) fn due(&self, t: Instant) -> bool {
        t >= self.next_boundary
    }

    /// When the bin being filled ends.
    pub(crate) fn next_boundary(&self) -> Instant {
        self.next_boundary
    }

    /// Moves to the bin `t` falls in: as wide as the ladder says for the
    /// time since the drive began, aligned on the run's clock.
    fn enter(&mut self, t: Instant) {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let since_origin = ms(t.saturating_duration_since(self.origin));
        let width = ladder_ms(ms(t.saturating_duration_since(self.began))).max(self.finest_ms);
        self.width_ms = width;
        self.start_ms = since_origin / width * width;
        self.next_boundary = self.origin + Duration::from_millis(self.start_ms + width);
    }

    /// Closes the current bin with the recording so far and moves to the
    /// bin `t` falls in.
    pub(crate) fn cut(&mut self, latency: &Histogram<u64>, ops: u64, errors: u64, t: Instant) {
        self.close(latency, ops, errors);
        self.enter(t);
    }

    /// Closes the last bin; returns the sink (with the slices, if it keeps
    /// them).
    pub(crate) fn finish(mut self, latency: &Histogram<u64>, ops: u64, errors: u64) -> SliceSink {
        self.close(latency, ops, errors);
        self.sink
    }

    fn close(&mut self, latency: &Histogram<u64>, ops: u64, errors: u64) {
        if ops == self.previous_ops {
            return;
        }
        let previous = self
            .previous
            .get_or_insert_with(|| Histogram::new_from(latency));
        let bins: Vec<(u64, u64)> = latency
            .iter_recorded()
            .filter_map(|bin| {
                let value = bin.value_iterated_to();
                let count = bin
                    .count_at_value()
                    .saturating_sub(previous.count_at(value));
                (count > 0).then_some((value, count))
            })
            .collect();
        // Same bounds as the recording: `previous` becomes equal to it.
        for &(value, count) in &bins {
            previous.saturating_record_n(value, count);
        }
        self.sink.take(Slice {
            second: self.start_ms / 1_000,
            offset_ms: self.start_ms % 1_000,
            width_ms: self.width_ms,
            ops: ops - self.previous_ops,
            errors: errors - self.previous_errors,
            bins,
        });
        self.previous_ops = ops;
        self.previous_errors = errors;
    }
}
