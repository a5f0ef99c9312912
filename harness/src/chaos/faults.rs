//! Faults shipped with Brunt. Each draws its parameters from its
//! `FaultCtx` generator (so a replay does the same harm), says what it did
//! in the log, and undoes what it did before it returns (ballast freed,
//! descriptors closed, a paused process resumed), so a fault's effect is
//! the stretch it ran, not the rest of the run.

use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use super::engine::{ChaosFuture, Fault, FaultCtx};

#[doc(no_inline)]
pub use super::signal::Signal;

/// A value of `range` (its start when empty). A fault drawing several
/// parameters draws them in turn from one generator, so they are
/// independent of each other.
pub(crate) fn draw_u64(rng: &mut ChaCha8Rng, range: &RangeInclusive<u64>) -> u64 {
    if range.start() >= range.end() {
        return *range.start();
    }
    rng.random_range(range.clone())
}

/// A duration of `range`, to the nanosecond.
pub(crate) fn draw_duration(rng: &mut ChaCha8Rng, range: &RangeInclusive<Duration>) -> Duration {
    let nanos = |d: &Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(draw_u64(rng, &(nanos(range.start())..=nanos(range.end()))))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// Memory ballast: allocates a size drawn from `sizes` (bytes), writes every
/// page so it is resident, holds it (`.hold`, default 100 ms), frees it.
pub fn ballast(sizes: RangeInclusive<u64>) -> Ballast {
    Ballast {
        sizes,
        hold: Duration::from_millis(100)..=Duration::from_millis(100),
    }
}

/// See [`ballast`].
#[derive(Debug, Clone)]
pub struct Ballast {
    sizes: RangeInclusive<u64>,
    hold: RangeInclusive<Duration>,
}

impl Ballast {
    /// How long the memory is held, drawn from this range.
    pub fn hold(mut self, hold: RangeInclusive<Duration>) -> Ballast {
        self.hold = hold;
        self
    }
}

/// The page size writes are spread by, so every page becomes resident.
const PAGE: usize = 4096;

impl Fault for Ballast {
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        let mut rng = ctx.rng();
        let size = draw_u64(&mut rng, &self.sizes);
        let hold = draw_duration(&mut rng, &self.hold);
        Box::pin(async move {
            let mut ballast = Vec::<u8>::new();
            ballast
                .try_reserve_exact(size as usize)
                .map_err(|e| anyhow::anyhow!("cannot allocate {}: {e}", mib(size)))?;
            ballast.resize(size as usize, 0);
            for page in ballast.chunks_mut(PAGE) {
                page[0] = 1;
            }
            std::hint::black_box(&ballast);
            ctx.detail(format!("ballast {} for {hold:?}", mib(size)));
            tokio::time::sleep(hold).await;
            drop(ballast);
            Ok(())
        })
    }
}

/// A task storm: spawns a number of tokio tasks drawn from `tasks`, each
/// yielding a few times, and waits for all of them.
pub fn task_storm(tasks: RangeInclusive<u64>) -> TaskStorm {
    TaskStorm { tasks }
}

/// See [`task_storm`].
#[derive(Debug, Clone)]
pub struct TaskStorm {
    tasks: RangeInclusive<u64>,
}

/// Yields per task of a storm: enough that the tasks interleave with the
/// system's own.
const STORM_YIELDS: u32 = 8;

impl Fault for TaskStorm {
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        let n = draw_u64(&mut ctx.rng(), &self.tasks);
        Box::pin(async move {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..n {
                set.spawn(async {
                    for _ in 0..STORM_YIELDS {
                        tokio::task::yield_now().await;
                    }
                });
            }
            while let Some(done) = set.join_next().await {
                done?;
            }
            ctx.detail(format!("task storm: {n} tasks"));
            Ok(())
        })
    }
}

/// CPU burn: `threads` OS threads spin for a time drawn from `burn`.
pub fn cpu_burn(threads: u32, burn: RangeInclusive<Duration>) -> CpuBurn {
    CpuBurn { threads, burn }
}

/// See [`cpu_burn`].
#[derive(Debug, Clone)]
pub struct CpuBurn {
    threads: u32,
    burn: RangeInclusive<Duration>,
}

impl Fault for CpuBurn {
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        let burn = draw_duration(&mut ctx.rng(), &self.burn);
        let threads = self.threads;
        Box::pin(async move {
            let until = Instant::now() + burn;
            let spinners: Vec<_> = (0..threads)
                .map(|_| {
                    tokio::task::spawn_blocking(move || {
                        let mut x = 0u64;
                        while Instant::now() < until {
                            for _ in 0..1_000 {
                                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                            }
                        }
                    })
                })
                .collect();
            for s in spinners {
                s.await?;
            }
            ctx.detail(format!("cpu burn: {threads} threads for {burn:?}"));
            Ok(())
        })
    }
}

/// A delay: the fault sleeps a time drawn from `range` (timing chaos
/// between other faults; the health check follows it).
pub fn delay(range: RangeInclusive<Duration>) -> Delay {
    Delay { range }
}

/// See [`delay`].
#[derive(Debug, Clone)]
pub struct Delay {
    range: RangeInclusive<Duration>,
}

impl Fault for Delay {
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        let d = draw_duration(&mut ctx.rng(), &self.range);
        Box::pin(async move {
            tokio::time::sleep(d).await;
            ctx.detail(format!("delay {d:?}"));
            Ok(())
        })
    }
}

/// Descriptor pressure: opens a number of descriptors drawn from `count`
/// (of `/dev/null`), holds them (`.hold`, default 100 ms), closes them.
/// Running out of descriptors stops the opening, and is said in the log.
pub fn fd_pressure(count: RangeInclusive<u64>) -> FdPressure {
    FdPressure {
        count,
        hold: Duration::from_millis(100)..=Duration::from_millis(100),
    }
}

/// See [`fd_pressure`].
#[derive(Debug, Clone)]
pub struct FdPressure {
    count: RangeInclusive<u64>,
    hold: RangeInclusive<Duration>,
}

impl FdPressure {
    /// How long the descriptors are held, drawn from this range.
    pub fn hold(mut self, hold: RangeInclusive<Duration>) -> FdPressure {
        self.hold = hold;
        self
    }
}

impl Fault for FdPressure {
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        let mut rng = ctx.rng();
        let n = draw_u64(&mut rng, &self.count);
        let hold = draw_duration(&mut rng, &self.hold);
        Box::pin(async move {
            let mut files = Vec::new();
            let mut exhausted = None;
            for _ in 0..n {
                match std::fs::File::open("/dev/null") {
                    Ok(f) => files.push(f),
                    Err(e) => {
                        exhausted = Some(e);
                        break;
                    }
                }
            }
            ctx.detail(match &exhausted {
                None => format!("fd pressure: {n} descriptors for {hold:?}"),
                Some(_) => format!("fd pressure: {n} descriptors asked, ran out before all"),
            });
            tokio::time::sleep(hold).await;
            drop(files);
            Ok(())
        })
    }
}

/// Which process a signal fault targets, asked when the fault runs (a
/// restarted server has a new pid).
pub type Target = Arc<dyn Fn() -> Option<u32> + Send + Sync>;

/// Sends `signal` to the process `target` names, through the safety filter.
pub fn kill(target: impl Fn() -> Option<u32> + Send + Sync + 'static, signal: Signal) -> Kill {
    Kill {
        target: Arc::new(target),
        signal,
    }
}

/// See [`kill`].
#[derive(Clone)]
pub struct Kill {
    target: Target,
    signal: Signal,
}

impl Fault for Kill {
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        let pid = (self.target)();
        let signal = self.signal;
        Box::pin(async move {
            ctx.detail(format!("{} to the target", signal.name()));
            let pid = pid.ok_or_else(|| anyhow::anyhow!("no target process to signal"))?;
            ctx.signal(pid, signal)
        })
    }
}

/// Pauses the process `target` names with `SIGSTOP` for a time drawn from
/// `range`, then resumes it with `SIGCONT` — also when the fault is cut
/// short, so no process is left stopped.
pub fn pause(
    target: impl Fn() -> Option<u32> + Send + Sync + 'static,
    range: RangeInclusive<Duration>,
) -> Pause {
    Pause {
        target: Arc::new(target),
        range,
    }
}

/// See [`pause`].
#[derive(Clone)]
pub struct Pause {
    target: Target,
    range: RangeInclusive<Duration>,
}

/// Resumes a stopped process when dropped.
struct Resume(FaultCtx, u32);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = self.0.signal(self.1, Signal::Cont);
    }
}

impl Fault for Pause {
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        let pid = (self.target)();
        let d = draw_duration(&mut ctx.rng(), &self.range);
        Box::pin(async move {
            ctx.detail(format!("SIGSTOP for {d:?}, then SIGCONT"));
            let pid = pid.ok_or_else(|| anyhow::anyhow!("no target process to pause"))?;
            ctx.signal(pid, Signal::Stop)?;
            let resume = Resume(ctx, pid);
            tokio::time::sleep(d).await;
            drop(resume);
            Ok(())
        })
    }
}
