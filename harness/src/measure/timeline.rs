//! Per-second load series, cut from each driver thread's cumulative latency
//! histogram. At the first op of a new second the thread stores the
//! difference between its histogram and the previous cut as a sparse list of
//! (bin value, count): one comparison per op on the hot path, a few
//! microseconds per thread per second, and memory that grows with the run's
//! length in seconds, never with its op count. The series merges the
//! threads' slices exactly, so every second's percentiles come from all of
//! its ops (never an average of per-thread percentiles).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::{OpTotals, load_metrics};
use crate::report::{LoadPoint, MetricValue};

/// One thread's ops that finished within one second of the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Slice {
    /// Ops finished in the second.
    pub(crate) ops: u64,
    /// Of which errors.
    pub(crate) errors: u64,
    /// Latency bins hit: (highest value of the bin in ns, count).
    pub(crate) bins: Vec<(u64, u64)>,
}

/// Cuts one thread's recording into seconds since the run's origin.
pub(crate) struct SecondSlicer {
    origin: Instant,
    second: u64,
    next_boundary: Instant,
    previous: Option<Histogram<u64>>,
    previous_ops: u64,
    previous_errors: u64,
    slices: BTreeMap<u64, Slice>,
}

impl SecondSlicer {
    /// A slicer whose first second is the one `now` falls in.
    pub(crate) fn new(origin: Instant, now: Instant) -> SecondSlicer {
        let second = now.saturating_duration_since(origin).as_secs();
        SecondSlicer {
            origin,
            second,
            next_boundary: origin + Duration::from_secs(second + 1),
            previous: None,
            previous_ops: 0,
            previous_errors: 0,
            slices: BTreeMap::new(),
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

    /// Closes the last second and returns every slice, by second.
    pub(crate) fn finish(
        mut self,
        latency: &Histogram<u64>,
        ops: u64,
        errors: u64,
    ) -> BTreeMap<u64, Slice> {
        self.close(latency, ops, errors);
        self.slices
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
        let slice = self.slices.entry(self.second).or_default();
        slice.ops += ops - self.previous_ops;
        slice.errors += errors - self.previous_errors;
        slice.bins.extend(bins);
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
    /// Adds one thread's slices.
    pub(crate) fn absorb(&mut self, slices: BTreeMap<u64, Slice>) {
        for (second, slice) in slices {
            let (ops, errors, bins) = self.seconds.entry(second).or_default();
            *ops += slice.ops;
            *errors += slice.errors;
            for (value, count) in slice.bins {
                *bins.entry(value).or_default() += count;
            }
        }
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
    /// measured load, anchored at its first whole second. Seconds the load
    /// covered only in part (where it started and ended) are left out.
    pub(crate) fn windows(&self, seconds: u64) -> Vec<(f64, BTreeMap<String, MetricValue>)> {
        let start_ms = self.spans.iter().map(|s| s.0).reduce(f64::min);
        let end_ms = self.spans.iter().map(|s| s.1).reduce(f64::max);
        let (Some(start_ms), Some(end_ms)) = (start_ms, end_ms) else {
            return Vec::new();
        };
        // A second the load missed by less than this still counts as whole:
        // a 4 s schedule that ends 0.03 ms before 4.000 s covered [3, 4).
        let slack = WHOLE_SECOND_SLACK_MS;
        let first = ((start_ms - slack) / 1e3).ceil().max(0.0) as u64;
        let end = ((end_ms + slack) / 1e3).floor() as u64;
        let mut out = Vec::new();
        let mut start = first;
        while seconds > 0 && start + seconds <= end {
            let mut totals = OpTotals {
                measured: Duration::from_secs(seconds),
                ..OpTotals::default()
            };
            for (_, (ops, errors, bins)) in self.seconds.range(start..start + seconds) {
                totals.ops += ops;
                totals.errors += errors;
                for (value, count) in bins {
                    totals.latency.saturating_record_n(*value, *count);
                }
            }
            let mut metrics = BTreeMap::new();
            load_metrics(&totals, &mut metrics);
            out.push((start as f64 * 1e3, metrics));
            start += seconds;
        }
        out
    }

    /// One point per second that saw a finished op, with percentiles from
    /// every op of that second.
    pub(crate) fn points(&self) -> Vec<LoadPoint> {
        self.seconds
            .iter()
            .map(|(second, (ops, errors, bins))| {
                let total: u64 = bins.values().sum();
                let quantile = |q: f64| -> Option<f64> {
                    let rank = ((q * total as f64).ceil() as u64).max(1);
                    let mut seen = 0;
                    bins.iter().find_map(|(value, count)| {
                        seen += count;
                        (seen >= rank).then_some(*value as f64)
                    })
                };
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
        let mut slicer = SecondSlicer::new(origin, origin);
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
        let slices = slicer.finish(&h, 110, 1);
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
}
