//! What a run drives, as load testers write it: an op, or several named ops
//! drawn from a weighted mix (or run in a fixed flow), each worker holding a
//! state it built once (a connection, a session), and an op's result that
//! may be an *expected* error.
//!
//! Everything is dispatched statically: a mix is a name the op matches on,
//! never a boxed closure per op, so a mix of four ops costs what one does.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use crate::measure::OpStatus;

/// Identifies the worker whose state is being built (`Stress::drive_with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Worker {
    /// 0, 1, 2, … in the order states are built.
    pub index: u64,
}

/// What an op may return: a `Result` (`Ok` a success, `Err` an error) or an
/// [`OpStatus`] (for expected errors; see [`expect_err`]).
pub trait OpResult {
    /// How the op ended.
    fn status(&self) -> OpStatus;
}

impl<T, E> OpResult for Result<T, E> {
    #[inline]
    fn status(&self) -> OpStatus {
        if self.is_ok() {
            OpStatus::Ok
        } else {
            OpStatus::Error
        }
    }
}

impl OpResult for OpStatus {
    #[inline]
    fn status(&self) -> OpStatus {
        *self
    }
}

/// For an op that must fail (an invalid request sent on purpose): an `Err`
/// is the expected error, an `Ok` is the error (the system accepted what it
/// should have refused).
pub fn expect_err<T, E>(result: Result<T, E>) -> OpStatus {
    match result {
        Ok(_) => OpStatus::Error,
        Err(_) => OpStatus::ExpectedError,
    }
}

/// The op picked for one call, from the scenario's `mix` or `flow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    index: usize,
    name: &'static str,
}

impl Op {
    /// The op's name as declared (`"tools_list"`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its position in the declared mix or flow (0, 1, …).
    pub fn index(&self) -> usize {
        self.index
    }
}

/// The declared ops and how each call picks one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpTable {
    /// The op kinds, each name once, in declared order.
    names: Vec<&'static str>,
    /// Cumulative weights (a mix); empty for a flow.
    cumulative: Vec<u64>,
    /// A flow's steps, as kinds (a name may recur: login, browse, browse).
    steps: Vec<usize>,
    seed: u64,
}

impl OpTable {
    /// A weighted mix, drawn from `seed`.
    pub(crate) fn mix(entries: &[(&'static str, u32)], seed: u64) -> OpTable {
        let mut total = 0;
        OpTable {
            names: entries.iter().map(|(n, _)| *n).collect(),
            cumulative: entries
                .iter()
                .map(|(_, w)| {
                    total += u64::from(*w);
                    total
                })
                .collect(),
            steps: Vec::new(),
            seed,
        }
    }

    /// A flow: each worker runs the ops in this order, over and over.
    pub(crate) fn flow(steps: &[&'static str]) -> OpTable {
        let mut names: Vec<&'static str> = Vec::new();
        let steps = steps
            .iter()
            .map(|step| match names.iter().position(|n| n == step) {
                Some(kind) => kind,
                None => {
                    names.push(step);
                    names.len() - 1
                }
            })
            .collect();
        OpTable {
            names,
            cumulative: Vec::new(),
            steps,
            seed: 0,
        }
    }

    /// The op names, in declared order.
    pub(crate) fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// The op for the op of `index` that is a worker's `nth` (a mix draws
    /// by index, from the seed alone, so the same seed gives the same ops
    /// whatever the threads do; a flow goes by the worker's own count).
    #[inline]
    pub(crate) fn pick(&self, index: u64, nth: u64) -> Op {
        let k = match self.cumulative.last() {
            Some(&total) => {
                // A draw in 0..total by multiply-shift, not `%`: a division
                // would cost a no-op's worth of time per op.
                let draw =
                    ((u128::from(spread(self.seed ^ index)) * u128::from(total)) >> 64) as u64;
                self.cumulative.iter().position(|&c| c > draw).unwrap_or(0)
            }
            None => self.steps[(nth % self.steps.len() as u64) as usize],
        };
        Op {
            index: k,
            name: self.names[k],
        }
    }
}

/// A cheap 64-bit spread of `x` for the mix's draws: one multiply by the
/// golden ratio, an xor of the high half into the low, and another multiply
/// (consecutive indices land far apart; the draw takes the high bits).
#[inline]
fn spread(x: u64) -> u64 {
    let z = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (z ^ (z >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

/// SplitMix64: a well-mixed 64-bit hash of `x`, for seeding.
#[inline]
pub(crate) fn split_mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Think time between a worker's ops, drawn from the scenario seed and the
/// worker, so a run's pauses are reproducible.
pub(crate) struct Thinker {
    think: brunt_grammar::ThinkTime,
    rng: ChaCha8Rng,
}

impl Thinker {
    /// The pauses of worker `worker` under `seed`.
    pub(crate) fn new(think: brunt_grammar::ThinkTime, seed: u64, worker: u64) -> Thinker {
        Thinker {
            think,
            rng: ChaCha8Rng::seed_from_u64(split_mix(seed ^ worker.rotate_left(32))),
        }
    }

    /// The next pause.
    pub(crate) fn next(&mut self) -> std::time::Duration {
        use brunt_grammar::ThinkTime;
        match self.think {
            ThinkTime::Fixed(d) => d,
            ThinkTime::Uniform(low, high) => {
                let span = high.saturating_sub(low).as_nanos() as u64;
                let extra = if span == 0 {
                    0
                } else {
                    self.rng.random_range(0..=span)
                };
                low + std::time::Duration::from_nanos(extra)
            }
            ThinkTime::Exponential(mean) => {
                let u: f64 = self.rng.random_range(f64::EPSILON..1.0);
                mean.mul_f64(-u.ln())
            }
        }
    }
}

/// What a load model runs: builds a worker's state, picks its ops and calls
/// them. Implemented by [`Driven`]; the load models are generic over it.
pub(crate) trait Workload: Sync {
    /// A worker's state (`()` without one).
    type State: Send;

    /// A state for a worker that starts: an idle one (a warm-up's, an earlier
    /// step's), else a new one, timed; `None` when building it failed.
    fn acquire(&self) -> impl Future<Output = Option<Self::State>>;

    /// Takes a state back when its worker stops, for the next run.
    fn put_idle(&self, state: Self::State);

    /// Whether its states are the user's (a connection each, built by a
    /// setup): the open model bounds how many it holds. A plain op's `()`
    /// costs nothing to hold.
    fn holds_states(&self) -> bool {
        true
    }

    /// How many kinds of op there are (1 without a mix or flow).
    fn kinds(&self) -> usize;

    /// Whether picks depend on a worker's own count of ops (a flow may):
    /// without, the closed model does not keep the count.
    const FLOWS: bool = true;

    /// The kind of the op of `index`, a worker's `nth`.
    fn pick(&self, index: u64, nth: u64) -> Op;

    /// What an op returns.
    type Output: OpResult;

    /// Calls op `op` for index `index` with the worker's state.
    fn call(
        &self,
        state: &mut Self::State,
        op: Op,
        index: u64,
    ) -> impl Future<Output = Self::Output>;
}

/// A plain `Fn(u64) -> Future` op with no state and no mix: its future is
/// awaited as it is, with nothing wrapped around it (a no-op loop's speed
/// depends on that).
pub(crate) struct PlainOp<'a, F> {
    op: &'a F,
}

impl<'a, F> PlainOp<'a, F> {
    pub(crate) fn new(op: &'a F) -> PlainOp<'a, F> {
        PlainOp { op }
    }
}

impl<F, Fut, R> Workload for PlainOp<'_, F>
where
    F: Fn(u64) -> Fut + Sync,
    Fut: Future<Output = R>,
    R: OpResult,
{
    type State = ();
    type Output = R;
    const FLOWS: bool = false;

    async fn acquire(&self) -> Option<()> {
        Some(())
    }

    fn put_idle(&self, (): ()) {}

    fn holds_states(&self) -> bool {
        false
    }

    fn kinds(&self) -> usize {
        1
    }

    #[inline]
    fn pick(&self, _index: u64, _nth: u64) -> Op {
        ONLY
    }

    #[inline]
    fn call(&self, (): &mut (), _op: Op, index: u64) -> impl Future<Output = R> {
        (self.op)(index)
    }
}

/// A mix's op with no state: the op's own future, awaited as it is.
pub(crate) struct MixOp<'a, F> {
    op: &'a F,
    table: &'a OpTable,
}

impl<'a, F> MixOp<'a, F> {
    pub(crate) fn new(op: &'a F, table: &'a OpTable) -> MixOp<'a, F> {
        MixOp { op, table }
    }
}

impl<F, R> Workload for MixOp<'_, F>
where
    F: AsyncFn(Op, u64) -> R + Sync,
    R: OpResult,
{
    type State = ();
    type Output = R;

    async fn acquire(&self) -> Option<()> {
        Some(())
    }

    fn put_idle(&self, (): ()) {}

    fn holds_states(&self) -> bool {
        false
    }

    fn kinds(&self) -> usize {
        self.table.names().len()
    }

    #[inline]
    fn pick(&self, index: u64, nth: u64) -> Op {
        self.table.pick(index, nth)
    }

    #[inline]
    fn call(&self, (): &mut (), op: Op, index: u64) -> impl Future<Output = R> {
        (self.op)(op, index)
    }
}

/// A workload of closures: a setup, an op and the declared op table, with
/// the states its workers left idle and how building them went.
pub(crate) struct Driven<'a, S, Setup, Call> {
    setup: Setup,
    call: Call,
    table: Option<&'a OpTable>,
    /// Whether building states is counted (`drive_with`; a plain `drive`'s
    /// states are `()`).
    counted: bool,
    /// States left idle, with the driver thread that left them: the thread
    /// a state's spawned tasks run on, which it goes back to first.
    idle: Mutex<Vec<(Option<usize>, S)>>,
    built: AtomicU64,
    setups: Mutex<SetupRecord>,
}

/// How building the workers' states went.
#[derive(Default)]
pub(crate) struct SetupRecord {
    /// Build times and failures.
    pub(crate) tally: crate::measure::SetupTally,
    /// The first failure's message, for the timeline.
    pub(crate) first_error: Option<String>,
}

impl SetupRecord {
    fn record(&mut self, nanos: u64, ok: bool) {
        self.tally.record(nanos, ok);
    }
}

impl<'a, S, Setup, Call> Driven<'a, S, Setup, Call> {
    /// A workload of `call`, its states built by `setup` (counted in
    /// `setup.*` when `counted`), its ops picked from `table`.
    pub(crate) fn new(setup: Setup, call: Call, table: Option<&'a OpTable>, counted: bool) -> Self {
        Driven {
            setup,
            call,
            table,
            counted,
            idle: Mutex::new(Vec::new()),
            built: AtomicU64::new(0),
            setups: Mutex::new(SetupRecord::default()),
        }
    }

    /// How building states went so far (empty when not counted).
    pub(crate) fn take_setups(&self) -> Option<SetupRecord> {
        self.counted
            .then(|| std::mem::take(&mut *self.setups.lock().unwrap_or_else(|p| p.into_inner())))
    }
}

/// The op a plain `drive` gives every call.
pub(crate) const ONLY: Op = Op {
    index: 0,
    name: "op",
};

impl<S, Setup, SetupErr, Call, R> Workload for Driven<'_, S, Setup, Call>
where
    S: Send,
    Setup: AsyncFn(Worker) -> Result<S, SetupErr> + Sync,
    SetupErr: std::fmt::Display,
    Call: AsyncFn(&mut S, Op, u64) -> R + Sync,
    R: OpResult,
{
    type State = S;
    type Output = R;

    async fn acquire(&self) -> Option<S> {
        {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            let here = super::current_driver();
            let mine = idle.iter().rposition(|(thread, _)| *thread == here);
            if let Some(at) = mine.or_else(|| idle.len().checked_sub(1)) {
                return Some(idle.swap_remove(at).1);
            }
        }
        let worker = Worker {
            index: self.built.fetch_add(1, Ordering::Relaxed),
        };
        let start = Instant::now();
        let built = (self.setup)(worker).await;
        if self.counted {
            let nanos = start.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
            let mut setups = self.setups.lock().unwrap_or_else(|p| p.into_inner());
            setups.record(nanos, built.is_ok());
            if let Err(e) = &built
                && setups.first_error.is_none()
            {
                setups.first_error = Some(e.to_string());
            }
        }
        built.ok()
    }

    fn holds_states(&self) -> bool {
        self.counted
    }

    fn put_idle(&self, state: S) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((super::current_driver(), state));
    }

    fn kinds(&self) -> usize {
        self.table.map_or(1, |t| t.names().len())
    }

    #[inline]
    fn pick(&self, index: u64, nth: u64) -> Op {
        match self.table {
            Some(table) => table.pick(index, nth),
            None => ONLY,
        }
    }

    #[inline]
    fn call(&self, state: &mut S, op: Op, index: u64) -> impl Future<Output = R> {
        (self.call)(state, op, index)
    }
}

/// A plain op as a workload, for the load models' tests.
#[cfg(test)]
pub(crate) fn plain<'a, F, Fut, R>(op: &'a F) -> impl Workload + 'a
where
    F: Fn(u64) -> Fut + Sync,
    Fut: Future<Output = R>,
    R: OpResult,
{
    PlainOp::new(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_draws_by_weight_from_the_seed_alone() {
        let table = OpTable::mix(&[("list", 70), ("call", 30)], 42);
        let picks: Vec<usize> = (0..100_000).map(|i| table.pick(i, 0).index()).collect();
        let lists = picks.iter().filter(|&&k| k == 0).count() as f64;
        assert!((lists / 100_000.0 - 0.70).abs() < 0.02 * 0.70, "{lists}");
        let again: Vec<usize> = (0..100_000).map(|i| table.pick(i, 9).index()).collect();
        assert_eq!(picks, again, "the same seed draws the same sequence");
        let other = OpTable::mix(&[("list", 70), ("call", 30)], 43);
        let differ = (0..1000)
            .filter(|&i| other.pick(i, 0) != table.pick(i, 0))
            .count();
        assert!(differ > 100, "another seed draws another sequence");
    }

    #[test]
    fn a_flow_runs_in_order_per_worker() {
        let table = OpTable::flow(&["login", "browse", "browse", "logout"]);
        let names: Vec<&str> = (0..6).map(|n| table.pick(1000 + n * 7, n).name()).collect();
        assert_eq!(
            names,
            ["login", "browse", "browse", "logout", "login", "browse"]
        );
        assert_eq!(
            table.names(),
            ["login", "browse", "logout"],
            "one kind per name"
        );
    }

    #[test]
    fn think_times_follow_their_distribution() {
        use brunt_grammar::ThinkTime;
        use std::time::Duration;
        let ms = Duration::from_millis;
        let mut fixed = Thinker::new(ThinkTime::Fixed(ms(5)), 1, 0);
        assert_eq!(fixed.next(), ms(5));
        let mut uniform = Thinker::new(ThinkTime::Uniform(ms(10), ms(50)), 1, 0);
        let draws: Vec<Duration> = (0..1000).map(|_| uniform.next()).collect();
        assert!(draws.iter().all(|d| (ms(10)..=ms(50)).contains(d)));
        let mut exp = Thinker::new(ThinkTime::Exponential(ms(20)), 1, 0);
        let mean = (0..20_000).map(|_| exp.next().as_secs_f64()).sum::<f64>() / 20_000.0;
        assert!((mean - 0.020).abs() < 0.001, "mean {mean}");
        let mut again = Thinker::new(ThinkTime::Uniform(ms(10), ms(50)), 1, 0);
        assert_eq!(again.next(), draws[0], "seeded");
    }
}
