//! The load series, cut from each driver thread's cumulative latency
//! histogram into bins on the run's clock. At the first op past a bin's
//! end the thread hands the difference between its histogram and the
//! previous cut, as a sparse list of (bin value, count), to a
//! [`SliceSink`]: the run's stream, where it is written out at once (one
//! comparison per op on the hot path, some microseconds per cut, and no
//! memory that grows with the run's length: a 10-minute soak keeps the
//! recorder as flat as a 10-second run). When the run is assembled the
//! slices are read back and merged exactly — by second for the report's
//! per-second series (windowed criteria, chaos periods, baselines), and
//! into uniform bins for charts — so every bin's percentiles come from all
//! of its ops (never an average of per-thread percentiles).
//!
//! Bins are fine where a run is short and coarser as it goes on: a thread
//! cuts every 10 ms in its drive's first 250 ms, every 50 ms up to 2.5 s,
//! 100 ms up to 10 s, 500 ms up to 50 s and every second after (coarser
//! from the start when a drive has many threads, to bound the cuts). Every width
//! divides the next and 1 s, and bins are aligned on the run's clock, so a
//! slice lies inside exactly one second and one bin of any coarser width:
//! threads that disagree on the width merge exactly all the same.

use std::collections::BTreeMap;
use std::time::Duration;

use super::OpTotals;
use crate::journal::Slice;
use brunt_report::{LoadBin, LoadBins, LoadPoint};

/// The widths a slicer cuts at, ms, finest first. Each divides the next
/// and 1,000: the nesting that makes every merge of slices exact.
pub(super) const WIDTHS_MS: [u64; 5] = [10, 50, 100, 500, 1_000];

/// The bin width for a stretch of load `elapsed_ms` long: a 100 ms run
/// gets ten bins, a 2 s one forty, a 9 s one ninety, a soak one per second.
/// It serves the slicer (time since its drive began) and the chart (the
/// run's length) alike, so a chart's bins are rarely finer than its slices
/// allow. The finest widths last a short while: a cut walks the thread's
/// histogram, tens of microseconds (below 100 µs for ops spread over
/// 20 µs – 2 ms), so a 10 s drive cuts 145 times per thread (about 0.1 %
/// of its time) and a soak about once a second.
pub(super) fn ladder_ms(elapsed_ms: u64) -> u64 {
    match elapsed_ms {
        0..250 => 10,
        250..2_500 => 50,
        2_500..10_000 => 100,
        10_000..50_000 => 500,
        _ => 1_000,
    }
}

/// Most bins a chart holds before its bins widen past one second: a
/// 10-minute soak keeps a bin per second, an hour's run gets 6 s bins.
const MOST_CHART_BINS: u64 = 600;

/// Fewest ops a chart's bin should hold on average: with fewer, one op
/// more or less moves a bin's throughput by over 5 % and its p99 is its
/// slowest op, so bins widen (down to [`FEWEST_CHART_BINS`]).
const FEWEST_OPS_PER_BIN: f64 = 20.0;

/// Fewest bins a chart is widened to: a line, not a few dots.
const FEWEST_CHART_BINS: f64 = 10.0;

/// The width of a chart's bins over a run whose measured load spans
/// `length_ms` from its first start to its last end, and ran `ops` ops in
/// `busy_ms` of it (pauses between drives left out), given the widest
/// slice it has: from the ladder for the run's length (about a hundred
/// bins for a short run, one a second for a soak), widened while bins
/// would average fewer than [`FEWEST_OPS_PER_BIN`] and at least
/// [`FEWEST_CHART_BINS`] remain. Always a multiple of every slice's width,
/// so each slice falls in exactly one bin.
fn chart_width_ms(length_ms: f64, busy_ms: f64, ops: u64, widest_slice_ms: u64) -> u64 {
    let length = length_ms.max(1.0);
    let busy = busy_ms.clamp(1.0, length);
    let whole = length.ceil() as u64;
    let mut width = if whole <= MOST_CHART_BINS * 1_000 {
        ladder_ms(whole)
    } else {
        whole.div_ceil(MOST_CHART_BINS * 1_000) * 1_000
    }
    .max(widest_slice_ms);
    let finest = width;
    for wider in WIDTHS_MS.into_iter().filter(|w| *w > finest) {
        let sparse = (ops as f64) * (width as f64) / busy < FEWEST_OPS_PER_BIN;
        if !sparse || length / (wider as f64) < FEWEST_CHART_BINS {
            break;
        }
        width = wider;
    }
    width
}

/// Start of a slice's bin, ms since the run started.
fn start_ms(slice: &Slice) -> u64 {
    slice.second * 1_000 + slice.offset_ms
}

/// Ops, errors and latency bins (highest value in ns → count) of a stretch
/// of time, summed over threads.
#[derive(Debug, Clone, Default)]
struct Counts {
    ops: u64,
    errors: u64,
    latency: BTreeMap<u64, u64>,
}

impl Counts {
    fn add(&mut self, ops: u64, errors: u64, bins: impl IntoIterator<Item = (u64, u64)>) {
        self.ops += ops;
        self.errors += errors;
        for (value, count) in bins {
            *self.latency.entry(value).or_default() += count;
        }
    }

    fn quantile(&self, q: f64) -> Option<f64> {
        quantile_of(&self.latency, q)
    }

    fn max(&self) -> Option<f64> {
        self.latency.keys().next_back().map(|v| *v as f64)
    }
}

/// How much of a second, in ms, the measured load may miss at either end of
/// its span for that second to count as whole in windowed criteria.
const WHOLE_SECOND_SLACK_MS: f64 = 10.0;

/// Every thread's slices, merged by second and by bin.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    seconds: BTreeMap<u64, Counts>,
    /// Keyed by (start, width) in ms: slices of different widths that
    /// start together are kept apart until a chart picks its width.
    bins: BTreeMap<(u64, u64), Counts>,
    /// When measured load ran: (start, end) in ms since the run started.
    spans: Vec<(f64, f64)>,
}

impl Timeline {
    /// Adds slices (of any thread, in any order).
    pub(crate) fn absorb(&mut self, slices: impl IntoIterator<Item = Slice>) {
        for slice in slices {
            let key = (start_ms(&slice), slice.width_ms);
            self.bins.entry(key).or_default().add(
                slice.ops,
                slice.errors,
                slice.bins.iter().copied(),
            );
            self.seconds
                .entry(slice.second)
                .or_default()
                .add(slice.ops, slice.errors, slice.bins);
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
        for (second, tally) in other.seconds {
            self.seconds
                .entry(second)
                .or_default()
                .add(tally.ops, tally.errors, tally.latency);
        }
        for (key, tally) in other.bins {
            self.bins
                .entry(key)
                .or_default()
                .add(tally.ops, tally.errors, tally.latency);
        }
    }

    /// The load of every whole window of `seconds` seconds inside the
    /// measured load, with the window's start (ms): windows are cut inside each stretch of measured load
    /// (a pause between two drives holds no window), anchored at the
    /// stretch's first whole second. Seconds the load covered only in part
    /// (where a stretch started and ended) are left out.
    pub(crate) fn windows(&self, seconds: u64) -> Vec<(f64, OpTotals)> {
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
        out: &mut Vec<(f64, OpTotals)>,
    ) {
        let whole = whole_seconds_within(start_ms, end_ms);
        let mut start = whole.start;
        while seconds > 0 && start + seconds <= whole.end {
            let window: Vec<u64> = (start..start + seconds).collect();
            if let Some(totals) = self.totals_of(&window) {
                out.push((start as f64 * 1e3, totals));
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

    /// The load of these seconds together (`None` without any).
    pub(crate) fn totals_of(&self, seconds: &[u64]) -> Option<OpTotals> {
        if seconds.is_empty() {
            return None;
        }
        let mut totals = OpTotals {
            measured: Duration::from_secs(seconds.len() as u64),
            ..OpTotals::default()
        };
        for second in seconds {
            if let Some(tally) = self.seconds.get(second) {
                totals.ops += tally.ops;
                totals.errors += tally.errors;
                for (value, count) in &tally.latency {
                    totals.latency.saturating_record_n(*value, *count);
                }
            }
        }
        Some(totals)
    }

    /// The 99th-percentile latency of one second, ns (`None` when no op
    /// finished in it).
    pub(crate) fn p99_of(&self, second: u64) -> Option<f64> {
        self.seconds.get(&second)?.quantile(0.99)
    }

    /// One point per second that saw a finished op, with percentiles from
    /// every op of that second.
    pub(crate) fn points(&self) -> Vec<LoadPoint> {
        self.seconds
            .iter()
            .map(|(second, tally)| LoadPoint {
                t_ms: *second as f64 * 1e3,
                ops: tally.ops,
                errors: tally.errors,
                latency_p50_ns: tally.quantile(0.50),
                latency_p90_ns: tally.quantile(0.90),
                latency_p99_ns: tally.quantile(0.99),
                latency_max_ns: tally.max(),
            })
            .collect()
    }

    /// The load in uniform bins for charts (`None` when no op finished):
    /// as fine as the measured load's length calls for (see
    /// [`chart_width_ms`]) and never finer than a slice, every bin the load
    /// covered listed — one in which no op finished with zero ops — with
    /// how much of it the load covered.
    pub(crate) fn chart_bins(&self) -> Option<LoadBins> {
        let widest = self.bins.keys().map(|&(_, width)| width).max()?;
        let mut stretches = self.stretches();
        if stretches.is_empty() {
            // A run that died inside its drive streamed slices but no
            // span: take the slices' own extent as covered.
            let first = self.bins.keys().map(|&(start, _)| start).min()?;
            let last = self.bins.keys().map(|&(s, w)| s + w).max()?;
            stretches.push((first as f64, last as f64));
        }
        let first_ms = stretches.first()?.0.max(0.0);
        let last_ms = stretches.iter().map(|s| s.1).fold(first_ms, f64::max);
        let ops = self.bins.values().map(|c| c.ops).sum();
        let busy: f64 = stretches.iter().map(|s| s.1 - s.0).sum();
        let width = chart_width_ms(last_ms - first_ms, busy, ops, widest);
        let mut tallies: BTreeMap<u64, Counts> = BTreeMap::new();
        for (&(start, _), tally) in &self.bins {
            tallies.entry(start / width).or_default().add(
                tally.ops,
                tally.errors,
                tally.latency.iter().map(|(v, c)| (*v, *c)),
            );
        }
        let covered = |index: u64| -> f64 {
            let (from, to) = ((index * width) as f64, ((index + 1) * width) as f64);
            stretches
                .iter()
                .map(|&(start, end)| (end.min(to) - start.max(from)).max(0.0))
                .sum()
        };
        let first = first_ms as u64 / width;
        let last = (last_ms.ceil() as u64)
            .saturating_sub(1)
            .max(first_ms as u64)
            / width;
        let mut indices: Vec<u64> = (first..=last).filter(|i| covered(*i) > 0.0).collect();
        indices.extend(tallies.keys().copied());
        indices.sort_unstable();
        indices.dedup();
        let empty = Counts::default();
        let points = indices
            .into_iter()
            .map(|index| {
                let tally = tallies.get(&index).unwrap_or(&empty);
                LoadBin {
                    t_ms: (index * width) as f64,
                    covered_ms: covered(index),
                    ops: tally.ops,
                    errors: tally.errors,
                    latency_p50_ns: tally.quantile(0.50),
                    latency_p90_ns: tally.quantile(0.90),
                    latency_p99_ns: tally.quantile(0.99),
                    latency_max_ns: tally.max(),
                }
            })
            .collect();
        Some(LoadBins {
            width_ms: width as f64,
            points,
        })
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

/// The `q` quantile of latency bins (highest value of the bin holding that
/// rank), ns.
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
    use std::time::Instant;

    use hdrhistogram::Histogram;

    use super::super::slicer::finest_ms;
    use super::super::{BinSlicer, SeriesPlan, SliceSink};
    use super::*;

    fn histogram() -> Histogram<u64> {
        Histogram::new_with_bounds(1, 3_600_000_000_000, 3).unwrap()
    }

    fn memory(origin: Instant, threads: usize) -> SeriesPlan {
        SeriesPlan {
            origin,
            threads,
            sink: SliceSink::Memory(Vec::new()),
        }
    }

    /// One driver thread recording `ops` — (ms since the origin it
    /// finished, latency in ns, error) in time order — as the recorder
    /// does: a cut before the first op past the bin's end.
    fn thread_slices(
        origin: Instant,
        began_ms: u64,
        threads: usize,
        ops: &[(u64, u64, bool)],
    ) -> Vec<Slice> {
        let at = |ms: u64| origin + Duration::from_millis(ms);
        let mut h = histogram();
        let mut slicer = BinSlicer::new(memory(origin, threads), at(began_ms));
        let (mut count, mut errors) = (0, 0);
        for &(t, latency, error) in ops {
            if slicer.due(at(t)) {
                slicer.cut(&h, count, errors, at(t));
            }
            h.record(latency).unwrap();
            count += 1;
            errors += u64::from(error);
        }
        let SliceSink::Memory(slices) = slicer.finish(&h, count, errors) else {
            unreachable!("a memory sink")
        };
        slices
    }

    /// Ops finishing every `step_ms` from `from_ms` to `to_ms`, latency
    /// varying with time so every bin has its own percentiles, every 7th
    /// an error.
    fn ops(from_ms: u64, to_ms: u64, step_ms: u64) -> Vec<(u64, u64, bool)> {
        (from_ms..to_ms)
            .step_by(step_ms as usize)
            .enumerate()
            .map(|(i, t)| {
                (
                    t,
                    1_000 + (t % 997) * 1_000 + (i as u64 % 13) * 10_000,
                    i % 7 == 0,
                )
            })
            .collect()
    }

    /// What a bin of `[from, to)` ms holds, computed from the ops
    /// themselves: (ops, errors, p50, p99).
    fn direct(
        ops: &[(u64, u64, bool)],
        from: u64,
        to: u64,
    ) -> (u64, u64, Option<f64>, Option<f64>) {
        let mut h = histogram();
        let mut errors = 0;
        for &(_, latency, error) in ops.iter().filter(|o| (from..to).contains(&o.0)) {
            h.record(latency).unwrap();
            errors += u64::from(error);
        }
        let q =
            |q: f64| (!h.is_empty()).then(|| h.highest_equivalent(h.value_at_quantile(q)) as f64);
        (h.len(), errors, q(0.5), q(0.99))
    }

    #[test]
    fn widths_nest_and_many_threads_cut_coarser() {
        for pair in WIDTHS_MS.windows(2) {
            assert_eq!(pair[1] % pair[0], 0, "{pair:?}");
        }
        for elapsed in [
            0, 999, 1_000, 4_999, 5_000, 9_999, 10_000, 49_999, 50_000, 10_000_000,
        ] {
            assert!(WIDTHS_MS.contains(&ladder_ms(elapsed)), "{elapsed}");
        }
        assert_eq!(
            [1, 2, 4, 8, 64, 1024].map(finest_ms),
            [10, 10, 10, 50, 500, 1_000]
        );
        // A chart's bins: about a hundred for a short run, one a second
        // for a soak, never finer than a slice.
        let busy = 1_000_000;
        assert_eq!(chart_width_ms(100.0, 100.0, busy, 10), 10);
        assert_eq!(chart_width_ms(2_000.0, 2_000.0, busy, 50), 50);
        assert_eq!(chart_width_ms(9_000.0, 9_000.0, busy, 100), 100);
        assert_eq!(chart_width_ms(100.0, 100.0, busy, 500), 500);
        assert_eq!(chart_width_ms(60_000.0, 60_000.0, busy, 1_000), 1_000);
        assert_eq!(chart_width_ms(600_000.0, 600_000.0, busy, 1_000), 1_000);
        assert_eq!(chart_width_ms(3_600_000.0, 3_600_000.0, busy, 1_000), 6_000);
        // Wider where bins would hold few ops (200 ops in 9 s: 2 a 100 ms
        // bin, 11 a 500 ms one), but not down to fewer than ten bins.
        assert_eq!(chart_width_ms(9_000.0, 9_000.0, 200, 100), 500);
        assert_eq!(chart_width_ms(100.0, 100.0, 20, 10), 10);
        // Only the time the load ran counts: 200 ops in 1 s of a 9 s span.
        assert_eq!(chart_width_ms(9_000.0, 1_000.0, 200, 100), 100);
    }

    #[test]
    fn fine_slices_merge_exactly_into_seconds_and_chart_bins() {
        let origin = Instant::now();
        // Two threads of one drive that disagree on when it began (0.95 s
        // and 1.02 s), so their widths change at different times; ops
        // every 3 ms (one thread) and 7 ms (the other) until 3.4 s.
        let a = ops(950, 3_400, 3);
        let b = ops(1_020, 3_400, 7);
        let mut timeline = Timeline::default();
        let slices_a = thread_slices(origin, 950, 2, &a);
        let slices_b = thread_slices(origin, 1_020, 2, &b);
        // Fine while the drive is young, coarser later.
        assert_eq!(slices_a.first().map(|s| s.width_ms), Some(10));
        assert_eq!(slices_a.last().map(|s| s.width_ms), Some(50));
        timeline.absorb(slices_a);
        timeline.absorb(slices_b);
        timeline.add_span(950.0, 3_400.0);
        let mut all: Vec<(u64, u64, bool)> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();

        // The report's seconds: exactly each second's ops.
        let points = timeline.points();
        assert_eq!(
            points.iter().map(|p| p.t_ms).collect::<Vec<_>>(),
            [0.0, 1_000.0, 2_000.0, 3_000.0]
        );
        for p in &points {
            let second = p.t_ms as u64;
            let (ops, errors, p50, p99) = direct(&all, second, second + 1_000);
            assert_eq!(
                (p.ops, p.errors, p.latency_p50_ns, p.latency_p99_ns),
                (ops, errors, p50, p99),
                "second {second}"
            );
        }

        // The chart's bins: 50 ms for a 2.45 s run, each exactly its ops.
        let bins = timeline.chart_bins().expect("ops were measured");
        assert_eq!(bins.width_ms, 50.0);
        assert_eq!(bins.points.first().map(|b| b.t_ms), Some(950.0));
        assert_eq!(bins.points.last().map(|b| b.t_ms), Some(3_350.0));
        assert_eq!(bins.points.len(), 49, "every bin from 950 ms to 3.4 s");
        for bin in &bins.points {
            let from = bin.t_ms as u64;
            let (ops, errors, p50, p99) = direct(&all, from, from + 50);
            assert_eq!(
                (bin.ops, bin.errors, bin.latency_p50_ns, bin.latency_p99_ns),
                (ops, errors, p50, p99),
                "bin at {from} ms"
            );
            assert_eq!(bin.covered_ms, 50.0, "bin at {from} ms");
        }
        let total: u64 = bins.points.iter().map(|b| b.ops).sum();
        assert_eq!(total, all.len() as u64);
    }

    #[test]
    fn partial_bins_say_how_much_of_them_the_load_covered() {
        let origin = Instant::now();
        // A 124 ms drive from 3 ms to 127 ms (10 ms bins) that stalls
        // between 50 and 70 ms.
        let ops: Vec<(u64, u64, bool)> = ops(3, 127, 1)
            .into_iter()
            .filter(|o| !(50..70).contains(&o.0))
            .collect();
        let mut timeline = Timeline::default();
        timeline.absorb(thread_slices(origin, 3, 2, &ops));
        timeline.add_span(3.0, 127.0);
        let bins = timeline.chart_bins().expect("ops were measured");
        assert_eq!(bins.width_ms, 10.0);
        let starts: Vec<f64> = bins.points.iter().map(|b| b.t_ms).collect();
        let expected: Vec<f64> = (0..13).map(|i| f64::from(i) * 10.0).collect();
        assert_eq!(starts, expected, "every bin the load covered, stalls too");
        let covered: Vec<f64> = bins.points.iter().map(|b| b.covered_ms).collect();
        assert_eq!(covered[0], 7.0, "the drive began 3 ms into the first bin");
        assert_eq!(covered[12], 7.0, "and ended 7 ms into the last");
        assert!(covered[1..12].iter().all(|c| *c == 10.0), "{covered:?}");
        // The first bin holds 7 ops in 7 ms: the same rate as a whole one.
        assert_eq!((bins.points[0].ops, bins.points[1].ops), (7, 10));
        // The stall: bins with no op, not missing ones.
        assert_eq!((bins.points[5].ops, bins.points[6].ops), (0, 0));
        assert_eq!(bins.points[5].latency_p99_ns, None);
    }

    #[test]
    fn a_pause_between_drives_is_not_covered() {
        let origin = Instant::now();
        let mut timeline = Timeline::default();
        timeline.absorb(thread_slices(origin, 0, 1, &ops(0, 200, 1)));
        timeline.absorb(thread_slices(origin, 500, 1, &ops(500, 700, 1)));
        timeline.add_span(0.0, 200.0);
        timeline.add_span(500.0, 700.0);
        let bins = timeline.chart_bins().expect("ops were measured");
        assert_eq!(bins.width_ms, 50.0, "a 700 ms span");
        let starts: Vec<f64> = bins.points.iter().map(|b| b.t_ms).collect();
        assert_eq!(
            starts,
            [0.0, 50.0, 100.0, 150.0, 500.0, 550.0, 600.0, 650.0],
            "no bin in the pause"
        );
        assert!(
            bins.points
                .iter()
                .all(|b| b.ops == 50 && b.covered_ms == 50.0)
        );
    }

    #[test]
    fn seconds_hold_their_own_ops_and_percentiles() {
        let origin = Instant::now();
        let mut h = histogram();
        let mut slicer = BinSlicer::new(memory(origin, 1), origin);
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
            offset_ms: 0,
            width_ms: 1_000,
            ops: 100,
            errors: 0,
            bins: vec![(1_000, 100)],
        }));
        let windows = timeline.windows(1);
        let starts: Vec<f64> = windows.iter().map(|w| w.0).collect();
        // No window of the empty pause (3–10 s), which would hold no ops.
        assert_eq!(starts, [0.0, 1000.0, 2000.0, 10_000.0, 11_000.0, 12_000.0]);
        assert!(windows.iter().all(|w| w.1.ops == 100));
    }
}
