//! The chaos run: faults drawn from the seed, run one at a time, each
//! followed by the health check until it passes or the recovery allowance
//! runs out.
//!
//! A chaos run owns nothing of the scenario's `Stress` (it holds shared
//! handles), so it can run beside `drive`: `tokio::spawn(chaos.run())`,
//! then `s.drive(op).await`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

use super::ChaosError;
use super::safety::SafetyFilter;
use super::schedule::{ScheduleFile, ScheduledFault, digest, draw, fault_seed};
use crate::journal::{Journal, Record};
use crate::load::Cancel;
use brunt_report::{
    ChaosLogEntry, ChaosSection, DeterminismCheck, FaultTiming, FaultWeight, SettledCheck,
};

/// A boxed fault or health-check future.
pub type ChaosFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// A fault: anything that, given its [`FaultCtx`], does harm and says what
/// it did. Implemented for every `Fn(FaultCtx) -> impl Future<Output =
/// anyhow::Result<()>>`.
pub trait Fault: Send + Sync + 'static {
    /// Runs the fault once.
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture;
}

impl<F, Fut> Fault for F
where
    F: Fn(FaultCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        Box::pin(self(ctx))
    }
}

type HealthCheck = Arc<dyn Fn() -> ChaosFuture + Send + Sync>;

/// What a fault is given: its index, a generator of its own, the safety
/// filter, and a place to say what it did.
#[derive(Clone)]
pub struct FaultCtx {
    index: u32,
    seed: u64,
    detail: Arc<Mutex<String>>,
    safety: Arc<SafetyFilter>,
    /// Where stopped and continued processes are noted, so the runner can
    /// continue what a killed scenario left stopped.
    journal: Arc<Journal>,
    origin: Instant,
}

impl FaultCtx {
    /// The fault's index in the schedule.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// A generator seeded from the scenario seed and this index: every call
    /// starts the same sequence, so a replay draws the same parameters.
    pub fn rng(&self) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.seed)
    }

    /// Says what the fault did, for the log (`killed w3`, `ballast
    /// 4.0 MiB for 250 ms`). Keep it to what the seed decided: the log of
    /// the same seed must be the same bytes.
    pub fn detail(&self, text: impl Into<String>) {
        *self.detail.lock().unwrap_or_else(|p| p.into_inner()) = text.into();
    }

    /// Whether the safety filter lets faults touch what is named `name`.
    pub fn permits(&self, name: &str) -> bool {
        self.safety.permits_name(name)
    }

    /// Whether the safety filter lets faults touch process `pid`.
    pub fn permits_pid(&self, pid: u32) -> bool {
        self.safety.permits_pid(pid)
    }

    /// Picks one of `items` the safety filter permits (by `name`), with this
    /// fault's generator; `None` when it permits none.
    pub fn choose<'a, T>(&self, items: &'a [T], name: impl Fn(&T) -> &str) -> Option<&'a T> {
        use rand::RngExt;
        let permitted: Vec<&T> = items.iter().filter(|i| self.permits(name(i))).collect();
        if permitted.is_empty() {
            return None;
        }
        let k = self.rng().random_range(0..permitted.len());
        Some(permitted[k])
    }

    /// Sends `signal` to process `pid`, unless the safety filter protects
    /// it.
    pub fn signal(&self, pid: u32, signal: super::Signal) -> anyhow::Result<()> {
        if !self.permits_pid(pid) {
            anyhow::bail!("process {pid} is protected by the safety filter");
        }
        // Noted before a stop is sent: a scenario killed right after it
        // still tells the runner what to continue.
        let t_ms = self.origin.elapsed().as_secs_f64() * 1e3;
        if signal == super::Signal::Stop {
            self.journal.append(&Record::Stopped { pid, t_ms });
        }
        let sent = super::signal::send_signal(pid, signal);
        if signal == super::Signal::Cont && sent.is_ok() {
            self.journal.append(&Record::Continued { pid, t_ms });
        }
        sent
    }

    fn take_detail(&self) -> String {
        std::mem::take(&mut *self.detail.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// What a chaos run needs of the scenario's run, shared with `Stress`.
#[derive(Clone)]
pub(crate) struct ChaosEnv {
    pub(crate) trial: String,
    pub(crate) seed: u64,
    pub(crate) origin: Instant,
    pub(crate) journal: Arc<Journal>,
    /// Whether the scenario's one chaos run has started.
    pub(crate) started: Arc<AtomicBool>,
    pub(crate) cancel: Cancel,
    pub(crate) replay: Option<PathBuf>,
    pub(crate) check_determinism: bool,
}

impl ChaosEnv {
    /// Writes `record` to the run's journal, which the report's chaos
    /// section is folded from.
    fn record(&self, record: Record) {
        self.journal.append(&record);
    }

    /// Records the start of the scenario's one chaos run.
    fn start(&self, section: ChaosSection) -> Result<(), ChaosError> {
        if self.started.swap(true, Ordering::SeqCst) {
            return Err(ChaosError::AlreadyRan);
        }
        self.record(Record::ChaosStart(Box::new(section)));
        Ok(())
    }

    /// Records the end of the chaos run, with the settled check if it ran.
    fn end(&self, settled: Option<SettledCheck>) {
        self.record(Record::ChaosEnd {
            t_ms: ms_since(self.origin),
            settled,
        });
    }
}

/// The schedule `BRUNT_REPLAY` names, checked to be one of scenario
/// `trial`'s.
pub(crate) fn replay_schedule(path: &Path, trial: &str) -> Result<ScheduleFile, ChaosError> {
    let file = ScheduleFile::load(path)?;
    if file.scenario != trial {
        return Err(ChaosError::ReplayOfAnother {
            file: path.display().to_string(),
            holds: file.scenario,
            this: trial.to_string(),
        });
    }
    Ok(file)
}

/// What a chaos run ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct ChaosOutcome {
    /// Faults that ran.
    pub ops: u32,
    /// Faults after which health did not return within the allowance.
    pub failures: u32,
    /// Faults that returned an error.
    pub fault_errors: u32,
    /// Longest recovery (fault end to passing health check).
    pub recovery_max: Option<Duration>,
    /// The log, as the report has it.
    pub log: Vec<ChaosLogEntry>,
}

impl ChaosOutcome {
    /// Counts one fault that ran, with its recovery time if health returned.
    fn count(&mut self, entry: &ChaosLogEntry, recovery: Option<Duration>) {
        self.ops += 1;
        self.failures += u32::from(!entry.healthy);
        self.fault_errors += u32::from(!entry.ok);
        if let Some(d) = recovery {
            self.recovery_max = Some(self.recovery_max.map_or(d, |m| m.max(d)));
        }
        self.log.push(entry.clone());
    }

    /// Percent of faults the system recovered from.
    pub fn survival_rate(&self) -> f64 {
        if self.ops == 0 {
            return 100.0;
        }
        100.0 * f64::from(self.ops - self.failures) / f64::from(self.ops)
    }

    /// The log as JSON lines, one entry per line: what "the same seed gives
    /// the same log, byte for byte" compares.
    pub fn log_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in &self.log {
            serde_json::to_writer(&mut out, entry).expect("a log entry serialises");
            out.push(b'\n');
        }
        out
    }
}

struct DeclaredFault {
    name: String,
    weight: u32,
    fault: Arc<dyn Fault>,
}

/// Most time one fault may take before it counts as failed.
const DEFAULT_FAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the system has to pass its health check after a fault.
const DEFAULT_RECOVER_WITHIN: Duration = Duration::from_secs(10);
/// Quiet time after the last fault before the settled health check.
const DEFAULT_SETTLE: Duration = Duration::from_millis(500);
/// Pause between failing health checks.
const DEFAULT_POLL: Duration = Duration::from_millis(10);

/// A chaos run being declared: `s.chaos().fault(…).health(…).ops(n).run()`.
#[must_use = "a chaos run does nothing until .run().await"]
pub struct Chaos {
    env: ChaosEnv,
    faults: Vec<DeclaredFault>,
    health: Option<HealthCheck>,
    ops: u32,
    every: Result<Duration, ChaosError>,
    recover_within: Result<Duration, ChaosError>,
    poll: Duration,
    fault_timeout: Duration,
    keep_going: bool,
    within: Option<Duration>,
    settle: Duration,
    safety: SafetyFilter,
}

/// A duration given as text (`"100ms"`) or as a [`Duration`].
pub trait ChaosDuration {
    /// The duration, or the text and why it cannot be read.
    fn to_duration(&self) -> Result<Duration, (String, String)>;
}

impl ChaosDuration for Duration {
    fn to_duration(&self) -> Result<Duration, (String, String)> {
        Ok(*self)
    }
}

impl ChaosDuration for &str {
    fn to_duration(&self) -> Result<Duration, (String, String)> {
        brunt_grammar::parse_duration(self).map_err(|e| (self.to_string(), e.to_string()))
    }
}

fn duration(setting: &'static str, value: impl ChaosDuration) -> Result<Duration, ChaosError> {
    value
        .to_duration()
        .map_err(|(value, reason)| ChaosError::BadDuration {
            setting,
            value,
            reason,
        })
}

impl Chaos {
    pub(crate) fn new(env: ChaosEnv) -> Chaos {
        Chaos {
            env,
            faults: Vec::new(),
            health: None,
            ops: 0,
            every: Ok(Duration::ZERO),
            recover_within: Ok(DEFAULT_RECOVER_WITHIN),
            poll: DEFAULT_POLL,
            fault_timeout: DEFAULT_FAULT_TIMEOUT,
            keep_going: false,
            within: None,
            settle: DEFAULT_SETTLE,
            safety: SafetyFilter::new(),
        }
    }

    /// Adds a fault drawn with `weight` (relative to the other faults').
    pub fn fault(mut self, name: impl Into<String>, weight: u32, fault: impl Fault) -> Chaos {
        self.faults.push(DeclaredFault {
            name: name.into(),
            weight,
            fault: Arc::new(fault),
        });
        self
    }

    /// The health check run after each fault: `Ok` when the system is
    /// healthy. Retried every 10 ms until it passes or the recovery
    /// allowance (`.recover_within`) runs out.
    pub fn health<H, Fut>(mut self, check: H) -> Chaos
    where
        H: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.health = Some(Arc::new(move || Box::pin(check()) as ChaosFuture));
        self
    }

    /// How many faults to draw.
    pub fn ops(mut self, ops: u32) -> Chaos {
        self.ops = ops;
        self
    }

    /// Starts a fault every `period` (`"100ms"`): fault k starts `period`
    /// after fault k−1 started, or at once when fault k−1 and its recovery
    /// took longer. Without it faults follow each other at once.
    pub fn every(mut self, period: impl ChaosDuration) -> Chaos {
        self.every = duration("every", period);
        self
    }

    /// How long the system has, after each fault, to pass its health check
    /// (default 10 s): past it, the fault counts as a failure.
    pub fn recover_within(mut self, allowance: impl ChaosDuration) -> Chaos {
        self.recover_within = duration("recover_within", allowance);
        self
    }

    /// Most time one fault may take (default 30 s); past it, it is an error.
    pub fn fault_timeout(mut self, limit: Duration) -> Chaos {
        self.fault_timeout = limit;
        self
    }

    /// Quiet time after the last fault before the final health check
    /// (default 500 ms): damage that shows only a moment after a fault
    /// seemed recovered from (a restart that fails later) is caught there.
    pub fn settle(mut self, quiet: impl ChaosDuration) -> Chaos {
        if let Ok(quiet) = duration("settle", quiet) {
            self.settle = quiet;
        }
        self
    }

    /// Starts no fault later than `limit` after the run began (the faults
    /// then planned are a prefix of the schedule: `.ops(n)` is the most).
    /// For a chaos run that must end before a load does.
    pub fn within(mut self, limit: Duration) -> Chaos {
        self.within = Some(limit);
        self
    }

    /// Runs every planned fault even after the system failed to recover
    /// (default: stop at the first failure, so the failing schedule ends
    /// with the fault that broke the system).
    pub fn keep_going(mut self) -> Chaos {
        self.keep_going = true;
        self
    }

    /// Names something faults must never touch (`"root"`, or a prefix with
    /// a trailing `*`: `"system_*"`); faults ask through
    /// [`FaultCtx::permits`] and [`FaultCtx::choose`].
    pub fn protect(mut self, name: impl Into<String>) -> Chaos {
        self.safety.protect_name(name.into());
        self
    }

    /// A process faults must never signal. The scenario's own process, the
    /// runner that started it, and pids 0 and 1 are always protected.
    pub fn protect_pid(mut self, pid: u32) -> Chaos {
        self.safety.protect_pid(pid);
        self
    }

    /// The declared faults' names and weights: names differ, and at least
    /// one weight is above zero.
    fn weights(faults: &[DeclaredFault]) -> Result<Vec<(&str, u32)>, ChaosError> {
        for (i, f) in faults.iter().enumerate() {
            if faults[..i].iter().any(|g| g.name == f.name) {
                return Err(ChaosError::DuplicateFault(f.name.clone()));
            }
        }
        let weights: Vec<(&str, u32)> =
            faults.iter().map(|f| (f.name.as_str(), f.weight)).collect();
        if weights.iter().all(|(_, w)| *w == 0) {
            return Err(ChaosError::NoFaults);
        }
        Ok(weights)
    }

    /// Runs the faults. Returns when every planned fault ran (or the first
    /// one the system did not recover from, unless `.keep_going()`), or the
    /// scenario was aborted. A fault the system did not recover from fails
    /// the scenario through the implicit criterion `chaos.failures == 0`
    /// (unless a criterion on `chaos.failures` is declared), not through an
    /// error here.
    pub async fn run(self) -> Result<ChaosOutcome, ChaosError> {
        let every = self.every?;
        let recover_within = self.recover_within?;
        let health = self.health.ok_or(ChaosError::NoHealth)?;
        let weights = Chaos::weights(&self.faults)?;
        let env = self.env;
        let (schedule, replayed_from) = match &env.replay {
            Some(path) => {
                let (faults, shown) = replayed(path, &env.trial, &weights)?;
                (faults, Some(shown))
            }
            None => (draw(env.seed, &weights, self.ops), None),
        };
        let schedule_digest = digest(&schedule);
        let determinism = (env.check_determinism && replayed_from.is_none()).then(|| {
            let again = draw(env.seed, &weights, self.ops);
            DeterminismCheck {
                identical: again == schedule,
                digest_again: digest(&again),
            }
        });
        env.start(ChaosSection {
            seed: env.seed,
            schedule_digest: schedule_digest.clone(),
            planned: schedule.len() as u32,
            faults: weights
                .iter()
                .map(|(fault, weight)| FaultWeight {
                    fault: fault.to_string(),
                    weight: *weight,
                })
                .collect(),
            determinism: determinism.clone(),
            replayed_from,
            start_ms: ms_since(env.origin),
            ..ChaosSection::default()
        })?;
        if let Some(check) = determinism.filter(|d| !d.identical) {
            env.end(None);
            return Err(ChaosError::NotDeterministic {
                seed: env.seed,
                first: schedule_digest,
                second: check.digest_again,
            });
        }
        // The steady state first: a system already broken says nothing about
        // the faults, and would shrink to any one of them.
        let (steady, error) = recover(&health, Instant::now(), recover_within, self.poll).await;
        if steady.is_none() {
            env.end(None);
            return Err(ChaosError::UnhealthyBeforeFaults(
                error.unwrap_or_else(|| "the health check failed".into()),
            ));
        }
        let safety = Arc::new(self.safety);
        let mut outcome = ChaosOutcome {
            ops: 0,
            failures: 0,
            fault_errors: 0,
            recovery_max: None,
            log: Vec::new(),
        };
        let run_start = Instant::now();
        let mut next_start = run_start;
        for ScheduledFault { index, fault: name } in schedule {
            if env.cancel.is_tripped() {
                break;
            }
            tokio::time::sleep_until(next_start.into()).await;
            if self
                .within
                .is_some_and(|limit| run_start.elapsed() >= limit)
            {
                break;
            }
            let started = Instant::now();
            next_start = started + every;
            let fault = &self
                .faults
                .iter()
                .find(|f| f.name == name)
                .expect("the schedule holds declared faults only")
                .fault;
            let ctx = FaultCtx {
                index,
                seed: fault_seed(env.seed, index),
                detail: Arc::new(Mutex::new(String::new())),
                safety: Arc::clone(&safety),
                journal: Arc::clone(&env.journal),
                origin: env.origin,
            };
            let bounds = (self.fault_timeout, recover_within, self.poll);
            let (entry, timing, recovery) =
                fault_step(ctx, name, started, fault.as_ref(), &health, bounds).await;
            let healthy = entry.healthy;
            outcome.count(&entry, recovery);
            env.record(Record::ChaosStep { entry, timing });
            if !healthy && !self.keep_going {
                break;
            }
        }
        let settled = if outcome.failures == 0 && outcome.ops > 0 && !env.cancel.is_tripped() {
            tokio::time::sleep(self.settle).await;
            let (back, error) = recover(&health, Instant::now(), recover_within, self.poll).await;
            outcome.failures += u32::from(back.is_none());
            Some(SettledCheck {
                t_ms: ms_since(env.origin),
                healthy: back.is_some(),
                error,
            })
        } else {
            None
        };
        env.end(settled);
        Ok(outcome)
    }
}

/// The faults of the schedule file at `path` (and the path as shown),
/// checked to be scenario `trial`'s and to name declared faults only.
fn replayed(
    path: &Path,
    trial: &str,
    weights: &[(&str, u32)],
) -> Result<(Vec<ScheduledFault>, String), ChaosError> {
    let file = replay_schedule(path, trial)?;
    let shown = path.display().to_string();
    if let Some(f) = file
        .faults
        .iter()
        .find(|f| !weights.iter().any(|(name, _)| *name == f.fault))
    {
        return Err(ChaosError::UnknownFault {
            file: shown,
            index: f.index,
            fault: f.fault.clone(),
            declared: weights
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok((file.faults, shown))
}

/// Runs one fault that started at `started` and waits for health to return:
/// its log entry, its timing, and the recovery time if health returned.
/// `bounds` are the fault's timeout, the recovery allowance and the health
/// check's poll interval.
async fn fault_step(
    ctx: FaultCtx,
    name: String,
    started: Instant,
    fault: &dyn Fault,
    health: &HealthCheck,
    (fault_timeout, recover_within, poll): (Duration, Duration, Duration),
) -> (ChaosLogEntry, FaultTiming, Option<Duration>) {
    let result = inject(fault, ctx.clone(), fault_timeout).await;
    let fault_end = Instant::now();
    let (recovery, health_error) = recover(health, fault_end, recover_within, poll).await;
    let entry = ChaosLogEntry {
        index: ctx.index,
        fault: name,
        detail: ctx.take_detail(),
        ok: result.is_ok(),
        healthy: recovery.is_some(),
    };
    let timing = FaultTiming {
        index: ctx.index,
        at_ms: (started - ctx.origin).as_secs_f64() * 1e3,
        fault_ms: (fault_end - started).as_secs_f64() * 1e3,
        recovery_ms: recovery.map(|d| d.as_secs_f64() * 1e3),
        error: result.err().map(|e| format!("{e:#}")),
        health_error,
    };
    (entry, timing, recovery)
}

/// Runs one fault, bounded by `timeout`: one that does not finish in time
/// is an error of the fault.
async fn inject(fault: &dyn Fault, ctx: FaultCtx, timeout: Duration) -> anyhow::Result<()> {
    match tokio::time::timeout(timeout, fault.inject(ctx)).await {
        Ok(result) => result,
        Err(_) => Err(anyhow::anyhow!(
            "the fault did not finish within {timeout:?}"
        )),
    }
}

fn ms_since(origin: Instant) -> f64 {
    origin.elapsed().as_secs_f64() * 1e3
}

/// Runs the health check until it passes or `allowance` (counted from
/// `since`) runs out: the time it took, or the last failure.
async fn recover(
    health: &HealthCheck,
    since: Instant,
    allowance: Duration,
    poll: Duration,
) -> (Option<Duration>, Option<String>) {
    let deadline = since + allowance;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let last_error = match tokio::time::timeout(left.max(poll), health()).await {
            Ok(Ok(())) => return (Some(since.elapsed()), None),
            Ok(Err(e)) => format!("{e:#}"),
            Err(_) => {
                format!("the health check did not answer within the {allowance:?} allowance")
            }
        };
        if Instant::now() + poll >= deadline {
            return (None, Some(last_error));
        }
        tokio::time::sleep(poll).await;
    }
}
