//! The open model: arrivals on a fixed schedule (`rate` per second),
//! whatever the system under test does. Each op's latency is measured from
//! its *intended* start, so a stall delays the schedule's ops and shows in
//! the percentiles instead of being hidden by a generator that waited
//! (coordinated omission, as wrk2 corrects it). Service time, from the op's
//! actual start, is recorded beside it.
//!
//! Arrivals are dealt round-robin to the driver threads (thread `j` of `T`
//! takes arrivals `j, j+T, …`), each keeping its own schedule, in-flight set
//! and recorder. An arrival that finds `max_in_flight` ops running is
//! dropped and counted, never silently skipped.

use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::runtime::Handle;

use super::{Cancel, LoadRun, Ramp, Stop};
use crate::measure::{OpRecorder, ProgressBoard, thread_cpu_time};

/// An op that started more than this after its intended start is `late`
/// (unless the inter-arrival interval is longer: then one interval).
const LATE_AFTER: Duration = Duration::from_millis(2);

/// One open run.
#[derive(Debug, Clone)]
pub(crate) struct OpenPlan {
    /// Arrivals per second.
    pub(crate) rate: f64,
    /// Most ops in flight at once, over all threads.
    pub(crate) max_in_flight: u32,
    /// Driver threads.
    pub(crate) threads: usize,
    /// When arrivals stop.
    pub(crate) stop: Stop,
    /// Index of the first arrival.
    pub(crate) first_index: u64,
    /// Whether ops are recorded (false during warm-up).
    pub(crate) record: bool,
    /// The run's time origin, for the per-second series.
    pub(crate) origin: Instant,
    /// Stages: arrivals follow this rate profile instead of `rate`.
    pub(crate) ramp: Option<Ramp>,
    /// Stops the run early (an `abort(...)` criterion tripped).
    pub(crate) cancel: Cancel,
}

/// How the arrival threads spent their time, summed over threads. A
/// generator that never had to wait for its schedule and still fell behind
/// it set the pace itself (or the machine starved it): then the run measures
/// Brunt, not the system under test.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct GeneratorLoad {
    /// CPU time of the arrival threads; `None` where it cannot be read.
    pub(crate) cpu: Option<Duration>,
    /// Time the arrival threads spent waiting for the next arrival's time.
    pub(crate) waiting: Duration,
    /// Wall time of the arrival threads.
    pub(crate) wall: Duration,
}

impl GeneratorLoad {
    /// Adds another run's load.
    pub(crate) fn add(&mut self, other: GeneratorLoad) {
        self.cpu = match (self.cpu, other.cpu) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.waiting += other.waiting;
        self.wall += other.wall;
    }

    /// Fraction of the arrival threads' time not spent waiting for the
    /// schedule, 0–1: near 1, the generator was always behind.
    pub(crate) fn busy(&self) -> Option<f64> {
        let wall = self.wall.as_secs_f64();
        (wall > 0.0).then(|| 1.0 - self.waiting.as_secs_f64().min(wall) / wall)
    }

    /// CPU time of the arrival threads over their wall time, 0–1.
    pub(crate) fn cpu_share(&self) -> Option<f64> {
        let wall = self.wall.as_secs_f64();
        self.cpu
            .filter(|_| wall > 0.0)
            .map(|cpu| cpu.as_secs_f64() / wall)
    }
}

struct Completed {
    intended: Instant,
    started: Instant,
    ended: Instant,
    ok: bool,
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// Runs `op` under the open model; blocks until every issued op finished.
pub(crate) fn run_open<F, Fut, T, E>(
    plan: OpenPlan,
    handle: &Handle,
    op: &F,
    progress: &Arc<ProgressBoard>,
) -> LoadRun
where
    F: Fn(u64) -> Fut + Sync,
    Fut: Future<Output = Result<T, E>>,
{
    let threads = plan.threads.max(1);
    let total_arrivals = match (&plan.ramp, plan.stop) {
        (Some(ramp), _) => ramp.arrivals(),
        (None, Stop::Count(n)) => n,
        (None, Stop::After(d)) => (d.as_secs_f64() * plan.rate).ceil() as u64,
    };
    let in_flight_per_thread = (plan.max_in_flight as usize).div_ceil(threads).max(1);
    let late_after = LATE_AFTER.max(Duration::from_secs_f64(1.0 / plan.rate));
    let start = Instant::now();
    let results: Vec<(OpRecorder, Instant, GeneratorLoad)> = std::thread::scope(|scope| {
        let spawned: Vec<_> = (0..threads)
            .map(|j| {
                let plan = &plan;
                let tally = plan.record.then(|| progress.register());
                std::thread::Builder::new()
                    .name(format!("brunt-arrivals-{j}"))
                    .spawn_scoped(scope, move || {
                        let origin = plan.record.then_some(plan.origin);
                        let recorder = RefCell::new(OpRecorder::open(tally, origin));
                        let cpu_before = thread_cpu_time();
                        let wall_before = Instant::now();
                        let (last_issue, waiting) = handle.block_on(arrivals(
                            op,
                            plan,
                            j as u64,
                            threads as u64,
                            total_arrivals,
                            in_flight_per_thread,
                            start,
                            late_after,
                            &recorder,
                        ));
                        let load = GeneratorLoad {
                            cpu: thread_cpu_time()
                                .zip(cpu_before)
                                .map(|(after, before)| after.saturating_sub(before)),
                            waiting,
                            wall: wall_before.elapsed(),
                        };
                        (recorder.into_inner(), last_issue, load)
                    })
                    .expect("spawning an arrival thread")
            })
            .collect();
        spawned
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let elapsed = start.elapsed();
    let last_issue = results.iter().map(|(_, t, _)| *t).max().unwrap_or(start);
    let issuing = last_issue - start + Duration::from_secs_f64(1.0 / plan.rate);
    let mut generator = GeneratorLoad::default();
    for (_, _, load) in &results {
        generator.add(*load);
    }
    LoadRun {
        generator,
        recorders: results.into_iter().map(|(r, _, _)| r).collect(),
        elapsed,
        issuing,
        next_index: plan.first_index + total_arrivals,
    }
}

#[allow(clippy::too_many_arguments)]
async fn arrivals<F, Fut, T, E>(
    op: &F,
    plan: &OpenPlan,
    lane: u64,
    lanes: u64,
    total_arrivals: u64,
    max_in_flight: usize,
    start: Instant,
    late_after: Duration,
    recorder: &RefCell<OpRecorder>,
) -> (Instant, Duration)
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut last_issue = start;
    let record = |done: Completed| {
        if plan.record {
            recorder.borrow_mut().record_open(
                nanos(done.ended - done.intended),
                nanos(done.ended - done.started),
                done.ok,
                done.started - done.intended > late_after,
                done.ended,
            );
        }
    };
    let mut running = FuturesUnordered::new();
    let mut arrival = lane;
    let mut waiting = Duration::ZERO;
    while arrival < total_arrivals && !plan.cancel.load(std::sync::atomic::Ordering::Relaxed) {
        let due = match &plan.ramp {
            Some(ramp) => ramp.time_of(arrival).unwrap_or_else(|| ramp.total()),
            None => Duration::from_secs_f64(arrival as f64 / plan.rate),
        };
        let intended = start + due;
        // Ahead of schedule: complete what finishes while waiting for the
        // next arrival's time. (Time spent here is the generator's slack.)
        let now = Instant::now();
        if now < intended {
            loop {
                tokio::select! {
                    biased;
                    Some(done) = running.next(), if !running.is_empty() => record(done),
                    () = tokio::time::sleep_until(intended.into()) => break,
                }
                if Instant::now() >= intended {
                    break;
                }
            }
            waiting += now.elapsed();
        }
        last_issue = Instant::now();
        // Behind schedule the wait above is skipped: still complete what
        // is ready, or in-flight ops would never finish and every later
        // arrival would be dropped for the generator's own lag.
        while let Some(Some(done)) = running.next().now_or_never() {
            record(done);
        }
        if running.len() >= max_in_flight {
            if plan.record {
                recorder.borrow_mut().record_dropped();
            }
        } else {
            let index = plan.first_index + arrival;
            let started = Instant::now();
            let issued = std::panic::catch_unwind(AssertUnwindSafe(|| op(index)));
            running.push(async move {
                let ok = match issued {
                    Ok(future) => {
                        matches!(AssertUnwindSafe(future).catch_unwind().await, Ok(Ok(_)))
                    }
                    Err(_) => false,
                };
                Completed {
                    intended,
                    started,
                    ended: Instant::now(),
                    ok,
                }
            });
        }
        arrival += lanes;
    }
    while let Some(done) = running.next().await {
        record(done);
    }
    (last_issue, waiting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::OpTotals;

    #[test]
    fn a_stall_shows_in_corrected_latency_not_in_service_time() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
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
            rate: 500.0,
            max_in_flight: 1000,
            threads: 2,
            stop: Stop::After(Duration::from_secs(1)),
            first_index: 0,
            record: true,
            origin: Instant::now(),
            ramp: None,
            cancel: Cancel::default(),
        };
        let run = run_open(plan, rt.handle(), &op, &Arc::new(ProgressBoard::default()));
        let mut totals = OpTotals::default();
        run.recorders.into_iter().for_each(|r| totals.absorb(r));
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
    fn arrivals_beyond_the_in_flight_bound_are_dropped_and_counted() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let op = |_i: u64| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, ()>(())
        };
        let plan = OpenPlan {
            rate: 1000.0,
            max_in_flight: 10,
            threads: 2,
            stop: Stop::Count(200),
            first_index: 0,
            record: true,
            origin: Instant::now(),
            ramp: None,
            cancel: Cancel::default(),
        };
        let run = run_open(plan, rt.handle(), &op, &Arc::new(ProgressBoard::default()));
        let mut totals = OpTotals::default();
        run.recorders.into_iter().for_each(|r| totals.absorb(r));
        assert_eq!(
            totals.ops + totals.dropped,
            200,
            "every arrival accounted for"
        );
        assert!(totals.dropped > 100, "dropped {}", totals.dropped);
    }
}
