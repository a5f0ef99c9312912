//! The open model: arrivals on a fixed schedule (`rate` per second),
//! whatever the system under test does. Each op's latency is measured from
//! its *intended* start, so a stall delays the schedule's ops and shows in
//! the percentiles instead of being hidden by a generator that waited
//! (coordinated omission, as wrk2 corrects it). Service time, from the op's
//! actual start, is recorded beside it.
//!
//! Arrivals are dealt round-robin to the driver threads (thread `j` of `T`
//! takes arrivals `j, j+T, …`), each keeping its own schedule, in-flight set,
//! share of the worker states (see `pool`) and recorder. An arrival that
//! finds no idle state and no room to build one queues for one; an arrival
//! that finds `max_in_flight` ops running or queued — over all threads, one
//! shared count touched once per admitted op and once per completion — is
//! dropped and counted, never silently skipped.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::drivers::{DriverJob, DriverThreads, Drivers};
use super::pool::{LanePool, Pending, Start, default_connections, share};
use super::workload::{Op, Workload};
use super::{LoadRun, OpEnd, Pacer, RunFrame, Stop, guarded};
use crate::measure::{
    GeneratorLoad, OpRecorder, OpStatus, PoolUse, ProgressBoard, thread_cpu_time,
};

/// An op that started more than this after its intended start is `late`
/// (unless the inter-arrival interval is longer: then one interval).
const LATE_AFTER: Duration = Duration::from_millis(2);

/// One open run: the shared frame, a rate and an in-flight bound.
#[derive(Debug, Clone)]
pub(crate) struct OpenPlan {
    /// Threads, stop, indices, recording, origin, ramp, cancel.
    pub(crate) frame: RunFrame,
    /// Arrivals per second (with a ramp: its average, for the late
    /// threshold).
    pub(crate) rate: f64,
    /// Most ops in flight at once (running or queued for a state), over
    /// all threads.
    pub(crate) max_in_flight: u32,
    /// Most worker states held at once (`connections`); `None`: the
    /// default bound for a workload holding states, none for one that
    /// holds none.
    pub(crate) connections: Option<u32>,
}

struct Completed<S> {
    intended: Instant,
    started: Instant,
    ended: Instant,
    /// `None` when the op panicked: an error with no latency.
    end: Option<OpEnd>,
    op: Op,
    /// The state it ran with, back to the lane's idle states; `None` when
    /// building one failed (then the op never ran).
    state: Option<S>,
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// What one arrival thread hands back.
struct LaneResult {
    recorder: OpRecorder,
    last_issue: Instant,
    load: GeneratorLoad,
    /// Arrivals queued for a state, states built.
    pool: (u64, u64),
}

/// Runs `workload` under the open model; blocks until every issued op
/// finished. Each arrival thread keeps the states its ops used, idle, for
/// its next arrivals, and builds one more only when none is idle: a pool
/// that grows to what the load needs (at most `max_in_flight`), as a
/// client's connection pool does, rather than `max_in_flight` states built
/// up front.
pub(crate) fn run_open<W: Workload>(
    plan: OpenPlan,
    drivers: &Drivers,
    workload: &W,
    progress: &Arc<ProgressBoard>,
) -> LoadRun {
    let frame = &plan.frame;
    let segment = frame.segment;
    let threads = frame.threads.max(1);
    // Arrivals are numbered over the whole run; this segment sends those in
    // its stripe, each at the whole's time for it.
    let total_arrivals = match (&frame.ramp, frame.stop) {
        (Some(ramp), _) => ramp.arrivals(),
        (None, Stop::Count(n)) => n,
        (None, Stop::After(d)) => (d.as_secs_f64() * plan.rate).ceil() as u64,
    };
    let in_flight = AtomicUsize::new(0);
    // The pool's bound: declared, else the default for states that cost
    // something to hold; a plain op's `()` states are unbounded (the
    // in-flight bound limits them).
    // A segment holds its share of the bounds, so the segments together
    // hold what one run would.
    let max_in_flight = segment.share_u32(plan.max_in_flight).max(1);
    let bound = match plan.connections {
        Some(n) => Some(segment.share_u32(n).min(max_in_flight).max(1) as usize),
        None => workload.holds_states().then(|| {
            default_connections(plan.rate / segment.stride() as f64, max_in_flight) as usize
        }),
    };
    // Never more arrival threads than states: each holds at least one.
    let threads = bound.map_or(threads, |b| threads.min(b));
    let (held, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
    // One interval: with no whole arrival to issue (a staged profile shrunk
    // by a small BRUNT_SCALE) the rate is 0 and the interval endless.
    let interval = Duration::try_from_secs_f64(1.0 / plan.rate).unwrap_or(Duration::MAX);
    let late_after = LATE_AFTER.max(interval);
    let start = Instant::now();
    let jobs: Vec<DriverJob<'_, LaneResult>> = (0..threads)
        .map(|j| {
            let plan = &plan;
            let in_flight = &in_flight;
            let (held, peak) = (&held, &peak);
            let lane_share = bound.map_or(usize::MAX, |b| share(b, threads, j));
            let tally = frame.record.then(|| progress.register());
            let job: DriverJob<'_, LaneResult> = Box::new(move || {
                Box::pin(async move {
                    let recorder = RefCell::new(OpRecorder::open(
                        tally,
                        plan.frame.series(),
                        workload.kinds(),
                    ));
                    let cpu_before = thread_cpu_time();
                    let wall_before = Instant::now();
                    // Each lane issues every `threads`-th arrival of the
                    // segment's stripe.
                    let stride = threads as u64 * segment.stride();
                    let pacer = Pacer::for_interval(
                        interval.saturating_mul(u32::try_from(stride).unwrap_or(u32::MAX)),
                    )
                    .expect("creating the pacer's timer");
                    let lane = Lane {
                        plan,
                        max_in_flight: max_in_flight as usize,
                        first: segment.position(j as u64),
                        stride,
                        total_arrivals,
                        in_flight,
                        start,
                        late_after,
                        recorder: &recorder,
                        pacer: &pacer,
                    };
                    let pool = LanePool::new(lane_share, held, peak);
                    let (last_issue, waiting, pool) = arrivals(workload, lane, pool).await;
                    let issuing = last_issue.saturating_duration_since(wall_before);
                    let load = GeneratorLoad {
                        cpu: thread_cpu_time()
                            .zip(cpu_before)
                            .map(|(after, before)| after.saturating_sub(before)),
                        waiting: waiting.min(issuing),
                        wall: issuing,
                        span: issuing,
                    };
                    LaneResult {
                        recorder: recorder.into_inner(),
                        last_issue,
                        load,
                        pool,
                    }
                })
            });
            job
        })
        .collect();
    let results = DriverThreads::Kept(drivers).run_each(jobs);
    let elapsed = start.elapsed();
    let last_issue = results.iter().map(|r| r.last_issue).max().unwrap_or(start);
    let issuing = if segment.share(total_arrivals) == 0 {
        Duration::ZERO
    } else {
        (last_issue - start).saturating_add(
            interval.saturating_mul(u32::try_from(segment.stride()).unwrap_or(u32::MAX)),
        )
    };
    let pool = PoolUse {
        bound: bound.map_or(0, |b| b as u64),
        declared: plan.connections.is_some(),
        peak: peak.load(Ordering::Relaxed) as u64,
        queued: results.iter().map(|r| r.pool.0).sum(),
        built: results.iter().map(|r| r.pool.1).sum(),
    };
    let mut generator = GeneratorLoad::default();
    for r in &results {
        generator.cpu = match (generator.cpu, r.load.cpu) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        generator.waiting += r.load.waiting;
        generator.wall += r.load.wall;
        generator.span = generator.span.max(r.load.span);
    }
    LoadRun {
        generator,
        pool,
        recorders: results.into_iter().map(|r| r.recorder).collect(),
        elapsed,
        issuing,
        next_index: frame.first_index + total_arrivals,
    }
}

/// One arrival thread's share of the schedule: arrivals `first`,
/// `first + stride`, … of the whole run.
struct Lane<'a> {
    plan: &'a OpenPlan,
    /// The segment's share of the in-flight bound.
    max_in_flight: usize,
    first: u64,
    stride: u64,
    total_arrivals: u64,
    /// Ops in flight over every lane.
    in_flight: &'a AtomicUsize,
    start: Instant,
    late_after: Duration,
    recorder: &'a RefCell<OpRecorder>,
    pacer: &'a Pacer,
}

/// Counts an op that ended on its lane's recorder: measured from its
/// intended start (latency) and from its actual start (service time); a
/// warm-up's op only counted.
fn record_completed<S>(lane: &Lane<'_>, done: &Completed<S>) {
    let frame = &lane.plan.frame;
    lane.in_flight.fetch_sub(1, Ordering::Relaxed);
    if done.state.is_none() {
        // No state could be built: the op never ran (`setup.errors`).
        return;
    }
    let kind = done.op.index();
    if !frame.record {
        match done.end {
            Some(OpEnd::Finished(status)) => lane.recorder.borrow_mut().count(status, kind),
            Some(OpEnd::Abandoned) => {}
            _ => lane.recorder.borrow_mut().count(OpStatus::Error, kind),
        }
        return;
    }
    let mut recorder = lane.recorder.borrow_mut();
    let late = done.started - done.intended > lane.late_after;
    let latency = nanos(done.ended - done.intended);
    let service = nanos(done.ended - done.started);
    match done.end {
        Some(OpEnd::Finished(status)) => {
            recorder.record_open(latency, service, status, kind, late, done.ended)
        }
        Some(OpEnd::TimedOut) => {
            recorder.record_open_timed_out(latency, service, kind, late, done.ended)
        }
        Some(OpEnd::Abandoned) => {}
        None => recorder.record_unfinished(),
    }
}

/// Runs an admitted arrival with an idle state, or builds one first. A
/// queued arrival starts when a state comes back: its service time starts
/// then, its latency counts from its intended start (the wait for a state
/// included, as a client's would).
fn run_op<'a, W: Workload>(
    workload: &'a W,
    frame: &'a RunFrame,
    pending: Pending,
    start: Start<W::State>,
) -> impl Future<Output = Completed<W::State>> + 'a {
    let issued = Instant::now();
    async move {
        let (mut state, started) = match start {
            Start::Idle(state) => (Some(state), issued),
            _ => (workload.acquire().await, Instant::now()),
        };
        let end = match state.as_mut() {
            Some(state) => AssertUnwindSafe(guarded(
                workload.call(state, pending.op, pending.index),
                frame,
            ))
            .catch_unwind()
            .await
            .ok(),
            None => Some(OpEnd::Abandoned),
        };
        Completed {
            intended: pending.intended,
            started,
            ended: Instant::now(),
            end,
            op: pending.op,
            state,
        }
    }
}

/// Issues one lane's arrivals on schedule and completes them; returns when
/// its last arrival was issued, how long it waited for its schedule, and
/// how many arrivals queued for a state and states it built.
async fn arrivals<W: Workload>(
    workload: &W,
    lane: Lane<'_>,
    mut pool: LanePool<'_, W::State>,
) -> (Instant, Duration, (u64, u64)) {
    let frame = &lane.plan.frame;
    let mut last_issue = lane.start;
    let max_in_flight = lane.max_in_flight;
    let record = |done: &Completed<W::State>| record_completed(&lane, done);
    let run = |pending: Pending, start: Start<W::State>| run_op(workload, frame, pending, start);
    let mut running = FuturesUnordered::new();
    // Records an op that ended and hands its state to the next queued
    // arrival, if any.
    macro_rules! complete {
        ($done:expr) => {{
            let done = $done;
            record(&done);
            if let Some((next, start)) = pool.release(done.state) {
                running.push(run(next, start));
            }
        }};
    }
    let mut arrival = lane.first;
    let mut waiting = Duration::ZERO;
    while arrival < lane.total_arrivals && !frame.cancel.is_tripped() {
        let due = match &frame.ramp {
            Some(ramp) => ramp.time_of(arrival).unwrap_or_else(|| ramp.total()),
            None => Duration::from_secs_f64(arrival as f64 / lane.plan.rate),
        };
        let intended = lane.start + due;
        // Ahead of schedule: complete what finishes while waiting for the
        // next arrival's time. (Time spent here is the generator's slack.)
        let now = Instant::now();
        if now < intended {
            loop {
                let done = tokio::select! {
                    biased;
                    Some(done) = running.next(), if !running.is_empty() => Some(done),
                    () = lane.pacer.until(intended) => None,
                };
                match done {
                    Some(done) => complete!(done),
                    None => break,
                }
                if Instant::now() >= intended {
                    break;
                }
            }
            waiting += now.elapsed();
        }
        last_issue = Instant::now();
        if frame.record {
            lane.recorder
                .borrow_mut()
                .record_lag(nanos(last_issue.saturating_duration_since(intended)));
        }
        // Behind schedule the wait above is skipped: still complete what
        // is ready, or in-flight ops would never finish and every later
        // arrival would be dropped for the generator's own lag.
        while let Some(Some(done)) = running.next().now_or_never() {
            complete!(done);
        }
        if lane.in_flight.fetch_add(1, Ordering::Relaxed) >= max_in_flight {
            lane.in_flight.fetch_sub(1, Ordering::Relaxed);
            if frame.record {
                lane.recorder.borrow_mut().record_dropped();
            }
        } else {
            let index = frame.first_index + arrival;
            // Open-model arrivals belong to no worker: a flow's position is
            // the arrival's.
            let pending = Pending {
                intended,
                op: workload.pick(index, arrival),
                index,
            };
            match pool.admit(pending) {
                Start::Queued => {}
                start => running.push(run(pending, start)),
            }
        }
        arrival += lane.stride;
    }
    if frame.cancel.is_tripped() {
        // Cut short: arrivals still waiting for a state never start.
        let abandoned = pool.abandon_queue();
        lane.in_flight.fetch_sub(abandoned, Ordering::Relaxed);
    }
    while let Some(done) = running.next().await {
        complete!(done);
    }
    let counts = pool.counts();
    for state in pool.into_idle() {
        workload.put_idle(state);
    }
    (last_issue, waiting, counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Cancel;

    fn frame(stop: Stop) -> RunFrame {
        RunFrame {
            threads: 2,
            stop,
            first_index: 0,
            record: true,
            origin: Instant::now(),
            ramp: None,
            cancel: Cancel::default(),
            op_timeout: None,
            cancellable: false,
            stream: None,
            think: None,
            seed: 0,
            segment: crate::load::Segment::WHOLE,
        }
    }

    #[test]
    fn a_stall_shows_in_corrected_latency_not_in_service_time() {
        // Every op takes a shared lock briefly; op 100 holds it for 200 ms,
        // so every thread stalls: a global stall.
        let lock = std::sync::Mutex::new(());
        let op = |i: u64| {
            let guard = lock.lock().unwrap();
            if i == 100 {
                std::thread::sleep(Duration::from_millis(200));
            }
            drop(guard);
            async { Ok::<_, ()>(()) }
        };
        let plan = OpenPlan {
            frame: frame(Stop::After(Duration::from_secs(1))),
            rate: 500.0,
            max_in_flight: 1000,
            connections: None,
        };
        let mut run = run_open(
            plan,
            &Drivers::default(),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        let totals = run.totals();
        assert_eq!(totals.ops, 500);
        // ~100 arrivals fell inside the 200 ms stall: well over 1 % of ops
        // waited ≥ 100 ms from their intended start.
        let p99 = totals.latency.value_at_quantile(0.99);
        assert!(p99 >= 100_000_000, "corrected p99 {p99} ns");
        let service_p50 = totals.service.as_ref().unwrap().value_at_quantile(0.50);
        assert!(service_p50 < 5_000_000, "service p50 {service_p50} ns");
        assert!(totals.late >= 50, "late {}", totals.late);
        assert!(run.elapsed >= Duration::from_millis(990));
    }

    #[test]
    fn segments_send_the_wholes_arrivals_each_at_its_time() {
        const RATE: f64 = 2_000.0;
        for count in [1u32, 2, 4] {
            let sent = std::sync::Mutex::new(Vec::new());
            let mut ops = 0;
            for index in 0..count {
                let start = Instant::now();
                let op = |i: u64| {
                    sent.lock().unwrap().push((i, start.elapsed()));
                    async { Ok::<_, ()>(()) }
                };
                let plan = OpenPlan {
                    frame: RunFrame {
                        first_index: 10,
                        segment: crate::load::Segment { index, count },
                        ..frame(Stop::Count(600))
                    },
                    rate: RATE,
                    max_in_flight: 1000,
                    connections: None,
                };
                let mut run = run_open(
                    plan,
                    &Drivers::default(),
                    &crate::load::workload::plain(&op),
                    &Arc::new(ProgressBoard::default()),
                );
                ops += run.totals().ops;
                assert_eq!(run.next_index, 610, "every segment moves on alike");
            }
            assert_eq!(ops, 600, "{count} segments");
            let mut sent = sent.into_inner().unwrap();
            sent.sort_unstable_by_key(|(i, _)| *i);
            let indices: Vec<u64> = sent.iter().map(|(i, _)| *i).collect();
            assert_eq!(indices, (10..610).collect::<Vec<_>>(), "{count} segments");
            // Arrival k of the whole is never sent before the whole's time
            // for it, k / rate, whichever segment sends it: each segment
            // keeps the whole's spacing rather than compressing its share.
            for (i, at) in sent {
                let due = Duration::from_secs_f64((i - 10) as f64 / RATE);
                assert!(
                    at + Duration::from_millis(1) >= due,
                    "{i} sent at {at:?}, due {due:?}"
                );
            }
        }
    }

    #[test]
    fn arrivals_beyond_the_in_flight_bound_are_dropped_and_counted() {
        let op = |_i: u64| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, ()>(())
        };
        let plan = OpenPlan {
            frame: frame(Stop::Count(200)),
            rate: 1000.0,
            max_in_flight: 10,
            connections: None,
        };
        let mut run = run_open(
            plan,
            &Drivers::default(),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        let totals = run.totals();
        assert_eq!(
            totals.ops + totals.dropped,
            200,
            "every arrival accounted for"
        );
        assert!(totals.dropped > 100, "dropped {}", totals.dropped);
    }

    #[test]
    fn the_drain_after_the_last_arrival_is_not_the_generator_busy() {
        // The last of 20 arrivals takes 500 ms: a drain three times as long
        // as the 190 ms of issuing, all of it waiting for the system.
        let op = |i: u64| async move {
            if i == 19 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok::<_, ()>(())
        };
        let plan = OpenPlan {
            frame: frame(Stop::Count(20)),
            rate: 100.0,
            max_in_flight: 100,
            connections: None,
        };
        let run = run_open(
            plan,
            &Drivers::default(),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        let busy = run.generator.busy().unwrap();
        assert!(
            busy < 0.25,
            "generator busy {:.0}% of the time",
            busy * 100.0
        );
        assert!(run.elapsed >= Duration::from_millis(600));
    }

    #[test]
    fn a_panicking_op_is_an_error_without_a_latency() {
        let op = |i: u64| async move {
            if i.is_multiple_of(5) {
                panic!("op {i} panics");
            }
            Ok::<_, ()>(())
        };
        let plan = OpenPlan {
            frame: frame(Stop::Count(50)),
            rate: 5000.0,
            max_in_flight: 100,
            connections: None,
        };
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut run = run_open(
            plan,
            &Drivers::default(),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        std::panic::set_hook(previous);
        let totals = run.totals();
        assert_eq!((totals.ops, totals.errors), (50, 10));
        assert_eq!(totals.latency.len(), 40, "panicked ops have no latency");
    }

    #[test]
    fn a_profile_without_a_whole_arrival_runs_nothing() {
        let op = |_i: u64| async { Ok::<_, ()>(()) };
        // 0 → 1/s over 1 s holds half an arrival.
        let ramp = crate::load::Ramp::new(
            0.0,
            &[crate::load::Stage {
                duration: Duration::from_secs(1),
                target: 1.0,
            }],
        );
        let plan = OpenPlan {
            frame: RunFrame {
                ramp: Some(ramp),
                ..frame(Stop::After(Duration::from_secs(1)))
            },
            rate: 0.0,
            max_in_flight: 10,
            connections: None,
        };
        let run = run_open(
            plan,
            &Drivers::default(),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        assert_eq!(run.next_index, 0);
        assert_eq!(run.issuing, Duration::ZERO);
    }

    #[test]
    fn the_in_flight_bound_holds_over_every_thread() {
        let now = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        let op = |_i: u64| {
            let (now, most) = (&now, &most);
            async move {
                let here = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(here, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, ()>(())
            }
        };
        let plan = OpenPlan {
            frame: frame(Stop::Count(100)),
            rate: 1000.0,
            max_in_flight: 1,
            connections: None,
        };
        let mut run = run_open(
            plan,
            &Drivers::default(),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        let totals = run.totals();
        // Two lanes with a bound of one each admitted two at once.
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert_eq!(totals.ops + totals.dropped, 100);
        assert!(totals.ops >= 4, "{}", totals.ops);
    }
}
