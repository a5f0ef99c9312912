//! Per-second load series, cut from each driver thread's cumulative latency
//! histogram. At the first op of a new second the thread hands the
//! difference between its histogram and the previous cut, as a sparse list
//! of (bin value, count), to a [`SliceSink`]: the run's stream, where it is
//! written out at once (one comparison per op on the hot path, a few
//! microseconds per thread per second, and no memory that grows with the
//! run's length: a 10-minute soak keeps the recorder as flat as a
//! 10-second run). When the run is assembled the series is read back and
//! merges the threads' slices exactly, so every second's percentiles come
//! from all of its ops (never an average of per-thread percentiles).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{OpTotals, load_metrics};
use crate::report::{LoadPoint, MetricValue, StreamRecord, StreamWriter};

/// One thread's ops that finished within one second of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Slice {
    /// The second, counted from the run's start.
    pub(crate) second: u64,
    /// Ops finished in the second.
    pub(crate) ops: u64,
    /// Of which errors.
    pub(crate) errors: u64,
    /// Latency bins hit: (highest value of the bin in ns, count).
    pub(crate) bins: Vec<(u64, u64)>,
}

/// Where a slicer hands its finished seconds.
pub(crate) enum SliceSink {
    /// Written to the run's stream as `load_slice` records.
    Stream(Arc<StreamWriter>),
    /// Kept (tests, and runs without a stream).
    Memory(Vec<Slice>),
}

impl SliceSink {
    fn take(&mut self, slice: Slice) {
        match self {
            SliceSink::Stream(stream) => stream.append(&StreamRecord::LoadSlice(slice)),
            SliceSink::Memory(kept) => kept.push(slice),
        }
    }
}

/// Cuts one thread's recording into seconds since the run's origin.
pub(crate) struct SecondSlicer {
    origin: Instant,
    second: u64,
    next_boundary: Instant,
    previous: Option<Histogram<u64>>,
    previous_ops: u64,
    previous_errors: u64,
    sink: SliceSink,
}

impl SecondSlicer {
    /// A slicer whose first second is the one `now` falls in.
    pub(crate) fn new(origin: Instant, now: Instant, sink: SliceSink) -> SecondSlicer {
        let second = now.saturating_duration_since(origin).as_secs();
        SecondSlicer {
            origin,
            second,
            next_boundary: origin + Duration::from_secs(second + 1),
            previous: None,
            previous_ops: 0,
            previous_errors: 0,
            sink,
        }
    }

    /// Whether an op finishing at `t` belongs to a later second than the
    /// one being filled.
    #[cfg(test)]
    pub(crate) fn due(&self, t: Instant) -> bool {
        t >= self.next_boundary
    }

    /// When the second being filled ends.
    pub(crate) fn next_boundary(&self) -> Instant {
        self.next_boundary
    }

    /// Closes the current second with the recording so far and moves to the
    /// second `t` falls in.
    pub(crate) fn cut(&mut self, latency: &Histogram<u64>, ops: u64, errors: u64, t: Instant) {
        self.close(latency, ops, errors);
        self.second = t.saturating_duration_since(self.origin).as_secs();
        self.next_boundary = self.origin + Duration::from_secs(self.second + 1);
    }

    /// Closes the last second; returns the sink (with the slices, if it
    /// keeps them).
    pub(crate) fn finish(mut self, latency: &Histogram<u64>, ops: u64, errors: u64) -> SliceSink {
        self.close(latency, ops, errors);
        self.sink
    }

    fn close(&mut self, latency: &Histogram<u64>, ops: u64, errors: u64) {
        if ops == self.previous_ops {
            return;
        }
        let bins: Vec<(u64, u64)> = latency
            .iter_recorded()
            .filter_map(|bin| {
                let value = bin.value_iterated_to();
                let before = self.previous.as_ref().map_or(0, |p| p.count_at(value));
                let count = bin.count_at_value().saturating_sub(before);
                (count > 0).then_some((value, count))
            })
            .collect();
        self.sink.take(Slice {
            second: self.second,
            ops: ops - self.previous_ops,
            errors: errors - self.previous_errors,
            bins,
        });
        self.previous = Some(latency.clone());
        self.previous_ops = ops;
        self.previous_errors = errors;
    }
}

/// How much of a second, in ms, the measured load may miss at either end of
/// its span for that second to count as whole in windowed criteria.
const WHOLE_SECOND_SLACK_MS: f64 = 10.0;

/// Every thread's slices, merged by second.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    seconds: BTreeMap<u64, (u64, u64, BTreeMap<u64, u64>)>,
    /// When measured load ran: (start, end) in ms since the run started.
    spans: Vec<(f64, f64)>,
}

impl Timeline {
    /// Adds slices (of any thread, in any order).
    pub(crate) fn absorb(&mut self, slices: impl IntoIterator<Item = Slice>) {
        for slice in slices {
            let (ops, errors, bins) = self.seconds.entry(slice.second).or_default();
            *ops += slice.ops;
            *errors += slice.errors;
            for (value, count) in slice.bins {
                *bins.entry(value).or_default() += count;
            }
        }
    }

    /// When measured load ran: (start, end) in ms since the run started.
    pub(crate) fn spans(&self) -> &[(f64, f64)] {
        &self.spans
    }

    /// Notes that measured load ran from `start_ms` to `end_ms`.
    pub(crate) fn add_span(&mut self, start_ms: f64, end_ms: f64) {
        self.spans.push((start_ms, end_ms));
    }

    /// Adds another timeline (a later drive's).
    pub(crate) fn merge(&mut self, other: Timeline) {
        self.spans.extend(other.spans);
        for (second, (ops, errors, bins)) in other.seconds {
            let entry = self.seconds.entry(second).or_default();
            entry.0 += ops;
            entry.1 += errors;
            for (value, count) in bins {
                *entry.2.entry(value).or_default() += count;
            }
        }
    }

    /// The metrics of every whole window of `seconds` seconds inside the
    /// measured load: windows are cut inside each stretch of measured load
    /// (a pause between two drives holds no window), anchored at the
    /// stretch's first whole second. Seconds the load covered only in part
    /// (where a stretch started and ended) are left out.
    pub(crate) fn windows(&self, seconds: u64) -> Vec<(f64, BTreeMap<String, MetricValue>)> {
        let mut out = Vec::new();
        for (start_ms, end_ms) in self.stretches() {
            self.windows_within(start_ms, end_ms, seconds, &mut out);
        }
        out
    }

    /// The spans of measured load, overlapping or touching ones joined.
    fn stretches(&self) -> Vec<(f64, f64)> {
        let mut spans = self.spans.clone();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut joined: Vec<(f64, f64)> = Vec::new();
        for (start, end) in spans {
            match joined.last_mut() {
                Some(last) if start <= last.1 + WHOLE_SECOND_SLACK_MS => last.1 = last.1.max(end),
                _ => joined.push((start, end)),
            }
        }
        joined
    }

    fn windows_within(
        &self,
        start_ms: f64,
        end_ms: f64,
        seconds: u64,
        out: &mut Vec<(f64, BTreeMap<String, MetricValue>)>,
    ) {
        let whole = whole_seconds_within(start_ms, end_ms);
        let mut start = whole.start;
        while seconds > 0 && start + seconds <= whole.end {
            let window: Vec<u64> = (start..start + seconds).collect();
            if let Some(metrics) = self.metrics_of(&window) {
                out.push((start as f64 * 1e3, metrics));
            }
            start += seconds;
        }
    }

    /// The whole seconds of measured load inside `[from_ms, to_ms]` (ms
    /// since the run started): a second counts when the load covered it and
    /// it lies inside the span, within the same slack as windows. Chaos
    /// periods are judged on these seconds only, so a second that straddles
    /// the first fault belongs to neither "before" nor "after".
    pub(crate) fn whole_seconds(&self, from_ms: f64, to_ms: f64) -> Vec<u64> {
        let mut out = Vec::new();
        for (start_ms, end_ms) in self.stretches() {
            out.extend(whole_seconds_within(
                start_ms.max(from_ms),
                end_ms.min(to_ms),
            ));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The load metrics of these seconds together (`None` without any).
    pub(crate) fn metrics_of(&self, seconds: &[u64]) -> Option<BTreeMap<String, MetricValue>> {
        if seconds.is_empty() {
            return None;
        }
        let mut totals = OpTotals {
            measured: Duration::from_secs(seconds.len() as u64),
            ..OpTotals::default()
        };
        for second in seconds {
            if let Some((ops, errors, bins)) = self.seconds.get(second) {
                totals.ops += ops;
                totals.errors += errors;
                for (value, count) in bins {
                    totals.latency.saturating_record_n(*value, *count);
                }
            }
        }
        let mut metrics = BTreeMap::new();
        load_metrics(&totals, &mut metrics);
        Some(metrics)
    }

    /// The 99th-percentile latency of one second, ns (`None` when no op
    /// finished in it).
    pub(crate) fn p99_of(&self, second: u64) -> Option<f64> {
        let (_, _, bins) = self.seconds.get(&second)?;
        quantile_of(bins, 0.99)
    }

    /// One point per second that saw a finished op, with percentiles from
    /// every op of that second.
    pub(crate) fn points(&self) -> Vec<LoadPoint> {
        self.seconds
            .iter()
            .map(|(second, (ops, errors, bins))| {
                let quantile = |q: f64| quantile_of(bins, q);
                LoadPoint {
                    t_ms: *second as f64 * 1e3,
                    ops: *ops,
                    errors: *errors,
                    latency_p50_ns: quantile(0.50),
                    latency_p90_ns: quantile(0.90),
                    latency_p99_ns: quantile(0.99),
                    latency_max_ns: bins.keys().next_back().map(|v| *v as f64),
                }
            })
            .collect()
    }
}

/// The whole seconds between `start_ms` and `end_ms`. A second the load
/// missed by less than the slack still counts as whole: a 4 s schedule that
/// ends 0.03 ms before 4.000 s covered [3, 4).
fn whole_seconds_within(start_ms: f64, end_ms: f64) -> std::ops::Range<u64> {
    let slack = WHOLE_SECOND_SLACK_MS;
    let first = ((start_ms - slack) / 1e3).ceil().max(0.0) as u64;
    let end = ((end_ms + slack) / 1e3).floor().max(0.0) as u64;
    first..end.max(first)
}

/// The `q` quantile of a second's latency bins (highest value of the bin
/// holding that rank), ns.
fn quantile_of(bins: &BTreeMap<u64, u64>, q: f64) -> Option<f64> {
    let total: u64 = bins.values().sum();
    let rank = ((q * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    bins.iter().find_map(|(value, count)| {
        seen += count;
        (seen >= rank).then_some(*value as f64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram() -> Histogram<u64> {
        Histogram::new_with_bounds(1, 3_600_000_000_000, 3).unwrap()
    }

    #[test]
    fn seconds_hold_their_own_ops_and_percentiles() {
        let origin = Instant::now();
        let mut h = histogram();
        let mut slicer = SecondSlicer::new(origin, origin, SliceSink::Memory(Vec::new()));
        // Second 0: 100 fast ops, one error.
        for _ in 0..100 {
            h.record(1_000).unwrap();
        }
        // Second 2 (second 1 saw nothing): 10 slow ops.
        let later = origin + Duration::from_millis(2_100);
        assert!(slicer.due(later));
        slicer.cut(&h, 100, 1, later);
        for _ in 0..10 {
            h.record(5_000_000).unwrap();
        }
        let SliceSink::Memory(slices) = slicer.finish(&h, 110, 1) else {
            unreachable!("a memory sink")
        };
        let mut timeline = Timeline::default();
        timeline.absorb(slices.clone());
        timeline.absorb(slices);
        let points = timeline.points();
        assert_eq!(points.len(), 2);
        assert_eq!(
            (points[0].t_ms, points[0].ops, points[0].errors),
            (0.0, 200, 2)
        );
        assert_eq!((points[1].t_ms, points[1].ops), (2000.0, 20));
        let fast = points[0].latency_p99_ns.unwrap();
        let slow = points[1].latency_p50_ns.unwrap();
        assert!((999.0..=1001.0).contains(&fast), "{fast}");
        assert!((4_990_000.0..=5_010_000.0).contains(&slow), "{slow}");
    }

    #[test]
    fn windows_are_cut_inside_each_stretch_of_load() {
        // Two drives, 0–3 s and 10–13 s, with a pause between them.
        let mut timeline = Timeline::default();
        timeline.add_span(0.0, 3000.0);
        timeline.add_span(10_000.0, 13_000.0);
        timeline.absorb((0..3).chain(10..13).map(|second| Slice {
            second,
            ops: 100,
            errors: 0,
            bins: vec![(1_000, 100)],
        }));
        let windows = timeline.windows(1);
        let starts: Vec<f64> = windows.iter().map(|w| w.0).collect();
        // No window of the empty pause (3–10 s), which would hold no ops.
        assert_eq!(starts, [0.0, 1000.0, 2000.0, 10_000.0, 11_000.0, 12_000.0]);
        assert!(windows.iter().all(|w| w.1["ops"].value == Some(100.0)));
    }
}
