//! The closed model: `workers` concurrent loops, each awaiting its op before
//! issuing the next.

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::drivers::{DriverJob, DriverThreads};
use super::workload::{OpResult, Thinker, Workload};
use super::{GeneratorLoad, LoadRun, OpEnd, Ramp, RunFrame, Stop, guarded};
use crate::measure::{OpRecorder, ProgressBoard};

/// How often an idle worker of a ramping run checks whether the ramp has
/// reached it.
const RAMP_IDLE: Duration = Duration::from_millis(5);

/// One closed run: the shared frame and a number of workers.
#[derive(Debug, Clone)]
pub(crate) struct ClosedPlan {
    /// Threads, stop, indices, recording, origin, ramp, cancel.
    pub(crate) frame: RunFrame,
    /// Concurrent workers (with a ramp: the most that ever run; worker `i`
    /// runs only while the ramp's level is above `i`).
    pub(crate) workers: u32,
}

/// Ops a worker runs back to back before yielding to the other workers on
/// its thread: an op that is always ready would otherwise keep them from
/// ever running, and the declared concurrency would be a fiction. (A worker
/// alone on its thread never yields.)
const OPS_PER_YIELD: u32 = 256;

/// Lets the other workers on this thread run: pending once, its waker woken
/// at once. (tokio's `yield_now` defers that wake until the runtime has
/// checked its I/O — an `epoll_wait` per yield, which every 256 no-ops is
/// 5 % of a no-op's cost.)
struct TakeTurns(bool);

impl std::future::Future for TakeTurns {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Hands out op indices in chunks, so workers rarely touch the shared
/// counter; with `limit` set, exactly `limit - first` indices are issued.
struct IndexSource {
    next: AtomicU64,
    limit: Option<u64>,
    chunk: u64,
}

impl IndexSource {
    fn claim(&self) -> Option<(u64, u64)> {
        let start = self.next.fetch_add(self.chunk, Ordering::Relaxed);
        match self.limit {
            Some(limit) if start >= limit => None,
            Some(limit) => Some((start, (start + self.chunk).min(limit))),
            None => Some((start, start + self.chunk)),
        }
    }
}

/// What a worker carries across a panic of its op: its claimed indices and
/// how many ops it ran (a flow's position).
#[derive(Default)]
struct WorkerState {
    next: Cell<u64>,
    end: Cell<u64>,
    nth: Cell<u64>,
}

/// What every worker of one driver thread shares.
struct Worker<'a, W> {
    workload: &'a W,
    frame: &'a RunFrame,
    indices: &'a IndexSource,
    deadline: Option<Instant>,
    recorder: &'a RefCell<OpRecorder>,
    /// Whether other workers share this thread (then workers take turns).
    shares_thread: bool,
    /// This worker's rank in the run (0, 1, …): the ramp's order and its
    /// think time's seed.
    rank: usize,
    /// With a ramp: the ramp and when it began.
    ramp: Option<(&'a Ramp, Instant)>,
}

impl<W> Clone for Worker<'_, W> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W> Copy for Worker<'_, W> {}

impl<W: Workload> Worker<'_, W> {
    /// The worker's loop. Ops are called and awaited directly, without a
    /// per-op `catch_unwind` (which would keep the op from being inlined and
    /// cost a no-op loop several percent); [`Worker::run`] catches a panic
    /// once for the whole loop and restarts it.
    async fn ops(
        self,
        progress: &WorkerState,
        state: &mut Option<W::State>,
        thinker: &mut Option<Thinker>,
    ) {
        let record = self.frame.record;
        let cancellable = self.frame.cancellable;
        let guard = self.frame.op_timeout.is_some() || cancellable;
        let mut since_yield = 0u32;
        loop {
            // Before every op: stop if an abort criterion tripped (one
            // relaxed load), and now and then give the other workers on this
            // thread their turn.
            if cancellable && self.frame.cancel.is_tripped() {
                return;
            }
            since_yield += 1;
            if self.shares_thread && since_yield.is_multiple_of(OPS_PER_YIELD) {
                TakeTurns(false).await;
            }
            if let Some((ramp, began)) = self.ramp {
                let now = Instant::now();
                if self.deadline.is_some_and(|d| now >= d) {
                    return;
                }
                if self.rank as f64 >= ramp.level_at(now - began) {
                    tokio::time::sleep(RAMP_IDLE).await;
                    continue;
                }
            }
            // The worker's state, built before its first op (or taken from
            // the states an earlier run left idle): a failed build ends the
            // worker before it claims any index.
            let state = match state {
                Some(state) => state,
                None => match self.workload.acquire().await {
                    Some(built) => state.insert(built),
                    None => return,
                },
            };
            if progress.next.get() == progress.end.get() {
                match self.indices.claim() {
                    Some((a, b)) => {
                        progress.next.set(a);
                        progress.end.set(b);
                    }
                    None => return,
                }
            }
            let local = progress.next.get();
            progress.next.set(local + 1);
            let index = self.frame.first_index + self.frame.segment.position(local);
            let nth = if W::FLOWS {
                let nth = progress.nth.get();
                progress.nth.set(nth + 1);
                nth
            } else {
                0
            };
            let op = self.workload.pick(index, nth);
            let start = Instant::now();
            if self.deadline.is_some_and(|d| start >= d) {
                return;
            }
            if guard {
                let end = guarded(self.workload.call(state, op, index), self.frame).await;
                let ended = Instant::now();
                let nanos = (ended - start).as_nanos().min(u128::from(u64::MAX)) as u64;
                let mut recorder = self.recorder.borrow_mut();
                match end {
                    OpEnd::Abandoned => return,
                    OpEnd::Finished(status) if !record => recorder.count(status, op.index()),
                    OpEnd::TimedOut if !record => {
                        recorder.count(super::OpStatus::Error, op.index())
                    }
                    OpEnd::Finished(status) => recorder.record(nanos, status, op.index(), ended),
                    OpEnd::TimedOut => recorder.record_timed_out(nanos, op.index(), ended),
                }
            } else {
                let status = self.workload.call(state, op, index).await.status();
                if record {
                    let ended = Instant::now();
                    let nanos = (ended - start).as_nanos().min(u128::from(u64::MAX)) as u64;
                    self.recorder
                        .borrow_mut()
                        .record(nanos, status, op.index(), ended);
                } else {
                    self.recorder.borrow_mut().count(status, op.index());
                }
            }
            if let Some(thinker) = thinker.as_mut() {
                // A user's pause before the next op, never past the run's end.
                let until = Instant::now() + thinker.next();
                let until = self.deadline.map_or(until, |d| until.min(d));
                tokio::time::sleep_until(until.into()).await;
            }
        }
    }

    /// One closed-model worker: runs [`Worker::ops`], and when an op panics,
    /// counts that op as an error and resumes with the next index, so a
    /// panic costs one op, never the worker. (Only Brunt's own code runs
    /// outside the op in the loop, and it does not panic: a caught panic is
    /// always an op's. Its latency is not recorded: the op never finished.)
    /// The worker's state goes back to the workload's idle states at the end,
    /// for the next run (a warm-up's states serve the measured run).
    async fn run(self) {
        let progress = WorkerState::default();
        let mut state = None;
        let mut thinker = self
            .frame
            .think
            .map(|think| Thinker::new(think, self.frame.seed, self.rank as u64));
        loop {
            let ops = self.ops(&progress, &mut state, &mut thinker);
            match AssertUnwindSafe(ops).catch_unwind().await {
                Ok(()) => break,
                Err(_) => {
                    let mut recorder = self.recorder.borrow_mut();
                    if self.frame.record {
                        recorder.record_unfinished();
                    } else {
                        recorder.count(super::OpStatus::Error, 0);
                    }
                }
            }
        }
        if let Some(state) = state {
            self.workload.put_idle(state);
        }
    }
}

/// Runs `workload` under the closed model on `plan.frame.threads` driver
/// threads (see `drivers`), each multiplexing its share of the workers.
/// Blocks until every worker stopped.
pub(crate) fn run_closed<W: Workload>(
    plan: ClosedPlan,
    driver_threads: DriverThreads<'_>,
    workload: &W,
    progress: &Arc<ProgressBoard>,
) -> LoadRun {
    let frame = &plan.frame;
    let segment = frame.segment;
    // This segment's workers: those of the whole whose rank is in its
    // stripe (all of them for the whole). A count has ops in every segment,
    // so a segment whose stripe holds no worker (fewer workers than
    // segments) still runs one.
    let workers = match frame.stop {
        Stop::Count(n) if segment.share(n) > 0 => segment.share_u32(plan.workers).max(1),
        _ => segment.share_u32(plan.workers),
    };
    let threads = frame.threads.clamp(1, workers.max(1) as usize);
    // Indices are counted per segment (0, 1, …) and become the whole run's
    // when an op takes one: `first_index + segment.position(local)`.
    let (limit, chunk) = match frame.stop {
        Stop::Count(n) => {
            let mine = segment.share(n);
            (
                Some(mine),
                (mine / (u64::from(workers.max(1)) * 8)).clamp(1, 64),
            )
        }
        // Indices need only be unique: large chunks keep threads off the
        // shared counter.
        Stop::After(_) => (None, 4096),
    };
    let indices = IndexSource {
        next: AtomicU64::new(0),
        limit,
        chunk,
    };
    let began = Instant::now();
    let deadline = match frame.stop {
        Stop::After(d) => Some(began + d),
        Stop::Count(_) => None,
    };
    let kinds = workload.kinds();
    let jobs: Vec<DriverJob<'_, OpRecorder>> = (0..threads)
        .map(|t| {
            let workers_here =
                workers as usize / threads + usize::from(t < workers as usize % threads);
            let indices = &indices;
            let tally = frame.record.then(|| progress.register());
            let job: DriverJob<'_, OpRecorder> = Box::new(move || {
                Box::pin(async move {
                    let recorder = RefCell::new(OpRecorder::new(tally, frame.series(), kinds));
                    let worker = Worker {
                        workload,
                        frame,
                        indices,
                        deadline,
                        recorder: &recorder,
                        shares_thread: workers_here > 1,
                        rank: t,
                        ramp: frame.ramp.as_ref().map(|r| (r, began)),
                    };
                    let mut running: FuturesUnordered<_> = (0..workers_here)
                        .map(|j| {
                            Worker {
                                rank: segment.position((t + j * threads) as u64) as usize,
                                ..worker
                            }
                            .run()
                        })
                        .collect();
                    while running.next().await.is_some() {}
                    drop(running);
                    recorder.into_inner()
                })
            });
            job
        })
        .collect();
    let recorders = driver_threads.run_each(jobs);
    let elapsed = began.elapsed();
    let issued = indices.next.load(Ordering::Relaxed);
    // Past every index any segment used, and the same for every segment of
    // a count (so the next drive's stripes stay apart): `first + n` for a
    // count, and for a duration past this segment's last position (every
    // segment's next index stays `first` modulo N).
    let next_index = match frame.stop {
        Stop::Count(n) => frame.first_index + n,
        Stop::After(_) => frame.first_index + issued * segment.stride(),
    };
    LoadRun {
        recorders,
        elapsed,
        issuing: elapsed,
        next_index,
        generator: GeneratorLoad::default(),
        pool: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::drivers::Drivers;
    use std::sync::Mutex;

    fn frame(threads: usize, stop: Stop) -> RunFrame {
        RunFrame {
            threads,
            stop,
            first_index: 0,
            record: true,
            origin: Instant::now(),
            ramp: None,
            cancel: crate::load::Cancel::default(),
            op_timeout: None,
            cancellable: false,
            stream: None,
            think: None,
            seed: 0,
            segment: crate::load::Segment::WHOLE,
        }
    }

    #[test]
    fn iterations_run_each_index_exactly_once() {
        let seen = Mutex::new(Vec::new());
        let op = |i: u64| {
            seen.lock().unwrap().push(i);
            async move {
                if i.is_multiple_of(10) {
                    Err("every tenth")
                } else {
                    Ok(())
                }
            }
        };
        let plan = ClosedPlan {
            frame: frame(2, Stop::Count(1_003)),
            workers: 7,
        };
        let mut run = run_closed(
            plan,
            DriverThreads::Kept(&Drivers::default()),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        let totals = run.totals();
        assert_eq!(totals.ops, 1_003);
        assert_eq!(totals.errors, 101);
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..1_003).collect::<Vec<_>>());
        assert_eq!(run.next_index, 1_003);
    }

    #[test]
    fn segments_of_a_count_run_each_index_of_the_whole_once() {
        for count in [1u32, 2, 4] {
            let seen = Mutex::new(Vec::new());
            let mut drives = Vec::new();
            for index in 0..count {
                let op = |i: u64| {
                    seen.lock().unwrap().push(i);
                    async { Ok::<_, ()>(()) }
                };
                let plan = ClosedPlan {
                    frame: RunFrame {
                        first_index: 40,
                        segment: crate::load::Segment { index, count },
                        ..frame(2, Stop::Count(1_003))
                    },
                    workers: 7,
                };
                let mut run = run_closed(
                    plan,
                    DriverThreads::Kept(&Drivers::default()),
                    &crate::load::workload::plain(&op),
                    &Arc::new(ProgressBoard::default()),
                );
                drives.push((run.totals().ops, run.next_index));
            }
            let mut seen = seen.into_inner().unwrap();
            seen.sort_unstable();
            assert_eq!(seen, (40..1_043).collect::<Vec<_>>(), "{count} segments");
            let ops: u64 = drives.iter().map(|(ops, _)| ops).sum();
            assert_eq!(ops, 1_003, "{count} segments");
            // Every segment moves on to the same next index.
            assert!(drives.iter().all(|(_, next)| *next == 1_043), "{drives:?}");
        }
    }

    #[test]
    fn a_segment_with_no_worker_of_its_own_still_runs_its_ops() {
        let op = |_i: u64| async { Ok::<_, ()>(()) };
        let plan = ClosedPlan {
            frame: RunFrame {
                segment: crate::load::Segment { index: 3, count: 4 },
                ..frame(1, Stop::Count(10))
            },
            workers: 2,
        };
        let mut run = run_closed(
            plan,
            DriverThreads::Kept(&Drivers::default()),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        assert_eq!(run.totals().ops, 2, "positions 3 and 7 of 10");
    }

    #[test]
    fn panics_inside_ops_count_as_errors() {
        let op = |i: u64| async move {
            if i.is_multiple_of(4) {
                panic!("op {i} panics");
            }
            Ok::<_, ()>(())
        };
        let plan = ClosedPlan {
            frame: frame(2, Stop::Count(100)),
            workers: 2,
        };
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut run = run_closed(
            plan,
            DriverThreads::Kept(&Drivers::default()),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        std::panic::set_hook(previous);
        let totals = run.totals();
        assert_eq!((totals.ops, totals.errors), (100, 25));
    }

    #[test]
    fn workers_on_one_thread_share_it_even_when_ops_are_always_ready() {
        let seen = Mutex::new(Vec::new());
        let op = |i: u64| {
            seen.lock().unwrap().push(i);
            async { Ok::<_, ()>(()) }
        };
        let plan = ClosedPlan {
            frame: frame(1, Stop::Count(4 * 1024)),
            workers: 4,
        };
        run_closed(
            plan,
            DriverThreads::Kept(&Drivers::default()),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 4 * 1024);
        // One worker running to the end would issue every index in order;
        // workers taking turns interleave their chunks.
        assert!(!seen.is_sorted(), "one worker ran every op: no concurrency");
    }

    #[test]
    fn duration_runs_stop_on_time_with_concurrency() {
        let op = |_i: u64| async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok::<_, ()>(())
        };
        let plan = ClosedPlan {
            frame: frame(2, Stop::After(Duration::from_millis(200))),
            workers: 8,
        };
        let mut run = run_closed(
            plan,
            DriverThreads::Kept(&Drivers::default()),
            &crate::load::workload::plain(&op),
            &Arc::new(ProgressBoard::default()),
        );
        let totals = run.totals();
        // 8 workers of ~10 ms ops for 200 ms: about 160 ops; serial would be 20.
        assert!(totals.ops > 80 && totals.ops <= 8 * 21, "{}", totals.ops);
        assert!(run.elapsed >= Duration::from_millis(200));
        assert!(
            run.elapsed < Duration::from_millis(400),
            "{:?}",
            run.elapsed
        );
    }
}
