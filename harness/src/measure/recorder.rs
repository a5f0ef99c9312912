//! Recording ops: one [`OpRecorder`] per driver thread (never per task, so
//! memory stays flat at any concurrency), merged into [`OpTotals`] when a
//! drive ends. Progress for the stream is published through per-thread
//! [`Tally`] slots the sampler reads; each is written by one thread only,
//! on its own cache line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::{BinSlicer, SeriesPlan, SliceSink, Timeline};
use super::{Encoded, GeneratorLoad, PoolUse, SavedKind, SavedTotals};

/// How an op ended, as Brunt counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpStatus {
    /// It succeeded.
    Ok,
    /// It failed: counted in `errors`, against `success_rate`.
    Error,
    /// It failed as it was meant to (an invalid request answered with its
    /// error): counted in `expected_errors`, neither in `errors` nor against
    /// `success_rate`.
    ExpectedError,
}

/// Highest latency the histograms resolve: one hour, in ns. Longer ops are
/// recorded as one hour (and show as such in `latency.max`).
const HIGHEST_NS: u64 = 3_600_000_000_000;
/// Significant figures: 0.1 % resolution at every magnitude.
const SIGFIG: u8 = 3;

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, SIGFIG).expect("constant histogram bounds are valid")
}

/// A "never" for recorders without a load series: far beyond any run.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Progress is published every this many ops (and on every error): the
/// stream needs it once per sampling interval, not per op.
const PUBLISH_EVERY: u64 = 64;

/// Ops and errors published by one driver thread, read by the sampler.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Tally {
    ops: AtomicU64,
    errors: AtomicU64,
}

/// Every thread's [`Tally`], summed for progress records.
#[derive(Default)]
pub(crate) struct ProgressBoard {
    tallies: Mutex<Vec<Arc<Tally>>>,
}

impl ProgressBoard {
    /// A new slot for one driver thread.
    pub(crate) fn register(&self) -> Arc<Tally> {
        let tally = Arc::new(Tally::default());
        self.tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&tally));
        tally
    }

    /// Measured ops and errors so far, across every drive.
    pub(crate) fn totals(&self) -> (u64, u64) {
        let tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        tallies.iter().fold((0, 0), |(ops, errors), t| {
            (
                ops + t.ops.load(Ordering::Relaxed),
                errors + t.errors.load(Ordering::Relaxed),
            )
        })
    }
}

/// One op kind's ops on one driver thread (a mix or flow only).
#[derive(Debug, Clone)]
pub(crate) struct KindTally {
    /// Latency of the kind's ops, ns.
    pub(crate) latency: Histogram<u64>,
    pub(crate) ops: u64,
    pub(crate) errors: u64,
    pub(crate) expected: u64,
}

impl Default for KindTally {
    fn default() -> Self {
        KindTally {
            latency: new_histogram(),
            ops: 0,
            errors: 0,
            expected: 0,
        }
    }
}

impl KindTally {
    fn merge(&mut self, other: &KindTally) {
        // Same bounds: adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.ops += other.ops;
        self.errors += other.errors;
        self.expected += other.expected;
    }
}

/// Records the measured ops of one driver thread.
pub(crate) struct OpRecorder {
    latency: Histogram<u64>,
    /// Open model only: time from the op's actual start (service time).
    service: Option<Histogram<u64>>,
    /// Open model only: how late each arrival was sent, ns.
    lag: Option<Histogram<u64>>,
    ops: u64,
    errors: u64,
    expected: u64,
    late: u64,
    dropped: u64,
    timeouts: u64,
    /// Per op kind of a mix or flow (empty for a single op).
    kinds: Vec<KindTally>,
    tally: Option<Arc<Tally>>,
    /// Cuts the recording into bins for the load series.
    slicer: Option<BinSlicer>,
    /// When the slicer must cut next (far in the future without one): one
    /// comparison per op on the hot path.
    next_cut: Instant,
}

impl OpRecorder {
    /// A recorder publishing progress to `tally` (or nowhere), cutting a
    /// load series on the clock of the run's start as `series` plans, if
    /// given, and keeping one histogram per op kind when there are several.
    pub(crate) fn new(
        tally: Option<Arc<Tally>>,
        series: Option<SeriesPlan>,
        kinds: usize,
    ) -> OpRecorder {
        let now = Instant::now();
        let slicer = series.map(|plan| BinSlicer::new(plan, now));
        OpRecorder {
            next_cut: slicer
                .as_ref()
                .map_or(now + NEVER, BinSlicer::next_boundary),
            slicer,
            latency: new_histogram(),
            service: None,
            lag: None,
            ops: 0,
            errors: 0,
            expected: 0,
            late: 0,
            dropped: 0,
            timeouts: 0,
            kinds: if kinds > 1 {
                (0..kinds).map(|_| KindTally::default()).collect()
            } else {
                Vec::new()
            },
            tally,
        }
    }

    /// A recorder for the open model, which also records service time.
    pub(crate) fn open(
        tally: Option<Arc<Tally>>,
        series: Option<SeriesPlan>,
        kinds: usize,
    ) -> OpRecorder {
        OpRecorder {
            service: Some(new_histogram()),
            lag: Some(new_histogram()),
            ..OpRecorder::new(tally, series, kinds)
        }
    }

    /// Records one open-model op: `latency_ns` from its intended start
    /// (coordinated-omission corrected), `service_ns` from its actual start,
    /// and whether it started late.
    #[inline]
    pub(crate) fn record_open(
        &mut self,
        latency_ns: u64,
        service_ns: u64,
        status: OpStatus,
        kind: usize,
        late: bool,
        ended: Instant,
    ) {
        if let Some(service) = &mut self.service {
            service.saturating_record(service_ns.max(1));
        }
        self.late += u64::from(late);
        self.record(latency_ns, status, kind, ended);
    }

    /// Records an open-model op that passed `op_timeout`: an error, timed
    /// to when it was given up on.
    pub(crate) fn record_open_timed_out(
        &mut self,
        latency_ns: u64,
        service_ns: u64,
        kind: usize,
        late: bool,
        ended: Instant,
    ) {
        self.timeouts += 1;
        self.record_open(latency_ns, service_ns, OpStatus::Error, kind, late, ended);
    }

    /// Records how late an arrival was sent after its intended time, ns
    /// (the pacer's lateness, whatever then happened to the arrival).
    #[inline]
    pub(crate) fn record_lag(&mut self, lag_ns: u64) {
        if let Some(lag) = &mut self.lag {
            lag.saturating_record(lag_ns.max(1));
        }
    }

    /// Counts an arrival dropped because too many ops were in flight.
    pub(crate) fn record_dropped(&mut self) {
        self.dropped += 1;
    }

    /// Records one op: its latency in ns, how it ended, its kind (in a mix
    /// or flow), and when it finished (for the load series).
    #[inline]
    pub(crate) fn record(
        &mut self,
        latency_ns: u64,
        status: OpStatus,
        kind: usize,
        ended: Instant,
    ) {
        if ended >= self.next_cut {
            self.cut(ended);
        }
        self.ops += 1;
        let error = status == OpStatus::Error;
        self.errors += u64::from(error);
        self.expected += u64::from(status == OpStatus::ExpectedError);
        // With several op kinds, each op is recorded once, in its kind's
        // histogram; the total is their sum, made when it is needed.
        match self.kinds.get_mut(kind) {
            Some(k) => {
                k.latency.saturating_record(latency_ns.max(1));
                k.ops += 1;
                k.errors += u64::from(error);
                k.expected += u64::from(status == OpStatus::ExpectedError);
            }
            None => self.latency.saturating_record(latency_ns.max(1)),
        }
        if self.ops.is_multiple_of(PUBLISH_EVERY) || error {
            self.publish();
        }
    }

    #[cold]
    fn cut(&mut self, ended: Instant) {
        self.sum_kinds();
        if let Some(slicer) = &mut self.slicer {
            slicer.cut(&self.latency, self.ops, self.errors, ended);
            self.next_cut = slicer.next_boundary();
        }
    }

    /// With several op kinds: the total histogram as the sum of theirs.
    fn sum_kinds(&mut self) {
        if self.kinds.is_empty() {
            return;
        }
        self.latency.reset();
        for kind in &self.kinds {
            // Same bounds: adding cannot fail.
            let _ = self.latency.add(&kind.latency);
        }
    }

    /// Counts an op that passed `op_timeout`: an error whose latency is the
    /// timeout (it was given up on then).
    pub(crate) fn record_timed_out(&mut self, latency_ns: u64, kind: usize, ended: Instant) {
        self.timeouts += 1;
        self.record(latency_ns, OpStatus::Error, kind, ended);
    }

    /// Counts an unrecorded op (a warm-up's): no latency, no series.
    #[inline]
    pub(crate) fn count(&mut self, status: OpStatus, kind: usize) {
        self.ops += 1;
        let error = u64::from(status == OpStatus::Error);
        self.errors += error;
        // A count-only run (a warm-up) keeps each kind's counts too, for
        // the report's `op.<name>.warmup.ops`.
        if let Some(k) = self.kinds.get_mut(kind) {
            k.ops += 1;
            k.errors += error;
        }
    }

    /// Ops and errors counted per op kind (empty for a single op).
    pub(crate) fn kind_counts(&self) -> Vec<(u64, u64)> {
        self.kinds.iter().map(|k| (k.ops, k.errors)).collect()
    }

    /// Ops and errors counted so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.ops, self.errors)
    }

    /// Counts an op that panicked: an error, with no latency (it never
    /// finished).
    pub(crate) fn record_unfinished(&mut self) {
        // Not in the latency histogram, so not in the load series'
        // percentiles either; its count reaches the series at the next cut.
        self.ops += 1;
        self.errors += 1;
        self.publish();
    }

    /// Makes the counts visible to the sampler's progress records.
    pub(crate) fn publish(&self) {
        if let Some(tally) = &self.tally {
            tally.ops.store(self.ops, Ordering::Relaxed);
            tally.errors.store(self.errors, Ordering::Relaxed);
        }
    }
}

/// How long building workers' states took, and how many failed.
#[derive(Debug, Clone)]
pub(crate) struct SetupTally {
    /// Time to build each state, ns.
    pub(crate) time: Histogram<u64>,
    /// States that failed to build.
    pub(crate) errors: u64,
}

impl Default for SetupTally {
    fn default() -> Self {
        SetupTally {
            time: new_histogram(),
            errors: 0,
        }
    }
}

impl SetupTally {
    /// Records one state built in `nanos` (or failed).
    pub(crate) fn record(&mut self, nanos: u64, ok: bool) {
        if ok {
            self.time.saturating_record(nanos.max(1));
        } else {
            self.errors += 1;
        }
    }

    fn merge(&mut self, other: &SetupTally) {
        let _ = self.time.add(&other.time);
        self.errors += other.errors;
    }
}

/// Everything measured by `drive` calls so far.
#[derive(Debug, Clone)]
pub(crate) struct OpTotals {
    /// Latency of every measured op, ns.
    pub(crate) latency: Histogram<u64>,
    /// Measured ops.
    pub(crate) ops: u64,
    /// Measured ops that returned `Err` or panicked.
    pub(crate) errors: u64,
    /// Measured ops that failed as they were meant to.
    pub(crate) expected: u64,
    /// Wall time of the measured load (warm-up excluded).
    pub(crate) measured: Duration,
    /// Open model: service time of every measured op, ns.
    pub(crate) service: Option<Histogram<u64>>,
    /// Open model: how late each arrival was sent, ns.
    pub(crate) lag: Option<Histogram<u64>>,
    /// Open model: how the workers' states were pooled.
    pub(crate) pool: PoolUse,
    /// Open model: ops that started later than their schedule allowed.
    pub(crate) late: u64,
    /// Open model: arrivals dropped at the in-flight bound.
    pub(crate) dropped: u64,
    /// Ops that passed `op_timeout` (also in `errors`).
    pub(crate) timeouts: u64,
    /// Whether an `op_timeout` was in force (then `timeouts` is reported).
    pub(crate) op_timeout: bool,
    /// Open model: the declared arrival rate, per second.
    pub(crate) declared_rate: Option<f64>,
    /// Open model: time the generator took to offer every arrival.
    pub(crate) issuing: Duration,
    /// Open model: how busy the arrival threads were.
    pub(crate) generator: GeneratorLoad,
    /// Ops, errors and latency per second and per chart bin.
    pub(crate) timeline: Timeline,
    /// Per op kind of a mix or flow, with the kinds' names.
    pub(crate) kinds: Vec<KindTally>,
    pub(crate) kind_names: Vec<String>,
    /// Workers' states built (`drive_with`), if any were.
    pub(crate) setup: Option<SetupTally>,
}

impl Default for OpTotals {
    fn default() -> Self {
        OpTotals {
            latency: new_histogram(),
            ops: 0,
            errors: 0,
            expected: 0,
            measured: Duration::ZERO,
            service: None,
            lag: None,
            pool: PoolUse::default(),
            late: 0,
            dropped: 0,
            timeouts: 0,
            op_timeout: false,
            declared_rate: None,
            issuing: Duration::ZERO,
            generator: GeneratorLoad::default(),
            timeline: Timeline::default(),
            kinds: Vec::new(),
            kind_names: Vec::new(),
            setup: None,
        }
    }
}

impl From<OpRecorder> for OpTotals {
    /// One thread's recording as totals (with no measured time: the run
    /// that owns the thread knows it).
    fn from(mut recorder: OpRecorder) -> OpTotals {
        recorder.publish();
        recorder.sum_kinds();
        let mut timeline = Timeline::default();
        if let Some(slicer) = recorder.slicer.take()
            && let SliceSink::Memory(kept) =
                slicer.finish(&recorder.latency, recorder.ops, recorder.errors)
        {
            timeline.absorb(kept);
        }
        OpTotals {
            latency: recorder.latency,
            ops: recorder.ops,
            errors: recorder.errors,
            expected: recorder.expected,
            service: recorder.service,
            lag: recorder.lag,
            late: recorder.late,
            dropped: recorder.dropped,
            timeouts: recorder.timeouts,
            timeline,
            kinds: recorder.kinds,
            ..OpTotals::default()
        }
    }
}

impl SavedTotals {
    /// The totals of one drive, in phase `phase`.
    pub(crate) fn new(totals: &OpTotals, phase: Option<usize>) -> SavedTotals {
        SavedTotals {
            phase,
            latency: Encoded(totals.latency.clone()),
            service: totals.service.clone().map(Encoded),
            lag: totals.lag.clone().map(Encoded),
            pool: totals.pool,
            ops: totals.ops,
            errors: totals.errors,
            measured_s: totals.measured.as_secs_f64(),
            late: totals.late,
            dropped: totals.dropped,
            timeouts: totals.timeouts,
            op_timeout: totals.op_timeout,
            declared_rate: totals.declared_rate,
            issuing_s: totals.issuing.as_secs_f64(),
            generator_cpu_s: totals.generator.cpu.map(|d| d.as_secs_f64()),
            generator_waiting_s: totals.generator.waiting.as_secs_f64(),
            generator_wall_s: totals.generator.wall.as_secs_f64(),
            generator_span_s: totals.generator.span.as_secs_f64(),
            spans: totals.timeline.spans().to_vec(),
            expected: totals.expected,
            kinds: totals
                .kinds
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    let name = totals.kind_names.get(k).map_or("op", String::as_str);
                    SavedKind {
                        name: name.to_string(),
                        latency: Encoded(t.latency.clone()),
                        ops: t.ops,
                        errors: t.errors,
                        expected: t.expected,
                    }
                })
                .collect(),
            setup: totals
                .setup
                .as_ref()
                .map(|s| (Encoded(s.time.clone()), s.errors)),
        }
    }

    /// The totals back (without the load series' slices).
    pub(crate) fn restore(&self) -> OpTotals {
        let seconds = |s: f64| Duration::from_secs_f64(s.max(0.0));
        let mut timeline = Timeline::default();
        for &(start, end) in &self.spans {
            timeline.add_span(start, end);
        }
        OpTotals {
            latency: self.latency.0.clone(),
            ops: self.ops,
            errors: self.errors,
            measured: seconds(self.measured_s),
            service: self.service.as_ref().map(|h| h.0.clone()),
            lag: self.lag.as_ref().map(|h| h.0.clone()),
            pool: self.pool,
            late: self.late,
            dropped: self.dropped,
            timeouts: self.timeouts,
            op_timeout: self.op_timeout,
            declared_rate: self.declared_rate,
            issuing: seconds(self.issuing_s),
            generator: GeneratorLoad {
                cpu: self.generator_cpu_s.map(seconds),
                waiting: seconds(self.generator_waiting_s),
                wall: seconds(self.generator_wall_s),
                span: seconds(self.generator_span_s),
            },
            timeline,
            expected: self.expected,
            kinds: self
                .kinds
                .iter()
                .map(|k| KindTally {
                    latency: k.latency.0.clone(),
                    ops: k.ops,
                    errors: k.errors,
                    expected: k.expected,
                })
                .collect(),
            kind_names: self.kinds.iter().map(|k| k.name.clone()).collect(),
            setup: self.setup.as_ref().map(|(time, errors)| SetupTally {
                time: time.0.clone(),
                errors: *errors,
            }),
        }
    }
}

impl OpTotals {
    /// Adds another set of totals (a thread's, a run's, a step's) to these.
    pub(crate) fn merge(&mut self, other: OpTotals) {
        self.timeline.merge(other.timeline);
        // Every histogram shares the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.ops += other.ops;
        self.errors += other.errors;
        self.expected += other.expected;
        self.measured += other.measured;
        if self.kinds.len() < other.kinds.len() {
            self.kinds
                .resize_with(other.kinds.len(), KindTally::default);
        }
        for (mine, theirs) in self.kinds.iter_mut().zip(&other.kinds) {
            mine.merge(theirs);
        }
        if self.kind_names.is_empty() {
            self.kind_names = other.kind_names.clone();
        }
        if let Some(setup) = &other.setup {
            self.setup
                .get_or_insert_with(SetupTally::default)
                .merge(setup);
        }
        self.late += other.late;
        self.dropped += other.dropped;
        self.timeouts += other.timeouts;
        self.op_timeout |= other.op_timeout;
        self.declared_rate = other.declared_rate.or(self.declared_rate);
        self.issuing += other.issuing;
        self.generator.add(other.generator);
        if let Some(service) = other.service {
            let total = self.service.get_or_insert_with(new_histogram);
            let _ = total.add(&service);
        }
        if let Some(lag) = other.lag {
            let total = self.lag.get_or_insert_with(new_histogram);
            let _ = total.add(&lag);
        }
        self.pool.add(other.pool);
    }

    /// Adds one thread's recorder.
    pub(crate) fn absorb(&mut self, recorder: OpRecorder) {
        self.merge(OpTotals::from(recorder));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_recorders_keep_every_op() {
        let board = ProgressBoard::default();
        let mut a = OpRecorder::new(Some(board.register()), None, 1);
        let mut b = OpRecorder::new(Some(board.register()), None, 1);
        let now = Instant::now();
        for i in 0..1000 {
            let status = if i % 10 != 0 {
                OpStatus::Ok
            } else {
                OpStatus::Error
            };
            a.record(1_000 + i, status, 0, now);
            b.record(5_000_000, OpStatus::Ok, 0, now);
        }
        // Published every 64 ops and on errors: never ahead of the truth.
        let (ops, errors) = board.totals();
        assert!((2000 - 2 * 64..=2000).contains(&ops), "{ops}");
        assert_eq!(errors, 100);
        let mut totals = OpTotals::default();
        totals.absorb(a);
        totals.absorb(b);
        assert_eq!(board.totals(), (2000, 100), "exact once absorbed");
        assert_eq!(totals.ops, 2000);
        assert_eq!(totals.errors, 100);
        assert_eq!(totals.latency.len(), 2000);
        let p99 = totals.latency.value_at_quantile(0.99);
        assert!((4_990_000..=5_010_000).contains(&p99), "{p99}");
    }

    #[test]
    fn journaled_totals_come_back_exact() {
        let mut recorder = OpRecorder::new(None, None, 1);
        let now = Instant::now();
        for i in 0..5_000u64 {
            let status = if i % 7 == 0 {
                OpStatus::Error
            } else {
                OpStatus::Ok
            };
            recorder.record(1_000 + i * i, status, 0, now);
        }
        let mut totals = OpTotals::default();
        totals.absorb(recorder);
        let line = serde_json::to_string(&SavedTotals::new(&totals, Some(2))).unwrap();
        let saved: SavedTotals = serde_json::from_str(&line).unwrap();
        assert_eq!(saved.phase, Some(2));
        let back = saved.restore();
        assert_eq!((back.ops, back.errors), (totals.ops, totals.errors));
        assert_eq!(back.latency, totals.latency, "every bin, every count");
        let broken = line.replace("\"latency\":\"", "\"latency\":\"!");
        assert!(serde_json::from_str::<SavedTotals>(&broken).is_err());
    }
}
