//! [`Stress`]: the handle a scenario body receives. It drives the declared
//! load, and journals what the body adds: custom metrics, watched
//! processes, phases, events and findings. Everything goes to the run's
//! journal as it happens (a crash loses at most one sampling interval); the
//! report is folded from it, never from the handle.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use tokio::runtime::Handle;

use crate::criteria::Unit;
use crate::journal::{Journal, Record};
use crate::load::{
    Cancel, DriveError, DriveSummary, Driven, LoadSession, MixOp, Op, OpResult, PlainOp,
    SessionContext, Worker, Workload, cores,
};
use crate::measure::{ProgressBoard, WatchList};
use crate::settings::Resolved;
use brunt_report::{CustomPoint, Event, Finding, MetricValue, Scope, Severity};

/// The run a scenario's handle belongs to: what the child sets up before
/// the body runs.
pub(crate) struct StressContext {
    /// The scenario's trial name.
    pub(crate) trial: String,
    pub(crate) settings: Resolved,
    /// The run's clock.
    pub(crate) origin: Instant,
    pub(crate) runtime: Handle,
    pub(crate) journal: Arc<Journal>,
    pub(crate) progress: Arc<ProgressBoard>,
    pub(crate) watched: Arc<WatchList>,
    pub(crate) cancel: Cancel,
}

/// The handle a scenario body receives: drives the declared load and
/// journals what the body adds to the report.
pub struct Stress {
    trial: String,
    settings: Resolved,
    origin: Instant,
    runtime: Handle,
    journal: Arc<Journal>,
    watched: Arc<WatchList>,
    cancel: Cancel,
    /// The load across the scenario's drives.
    load: LoadSession,
    /// The custom metrics recorded so far, as last written: what
    /// [`Stress::annotate`] notes.
    recorded: BTreeMap<String, MetricValue>,
    /// Whether the scenario's one chaos run has started.
    chaos_started: Arc<AtomicBool>,
}

impl Stress {
    pub(crate) fn new(context: StressContext) -> Stress {
        let load = LoadSession::new(SessionContext {
            trial: context.trial.clone(),
            settings: context.settings.load.clone(),
            origin: context.origin,
            runtime: context.runtime.clone(),
            journal: Arc::clone(&context.journal),
            progress: context.progress,
            cancel: context.cancel.clone(),
            judge_step: crate::analysis::judge_step,
        });
        Stress {
            trial: context.trial,
            settings: context.settings,
            origin: context.origin,
            runtime: context.runtime,
            journal: context.journal,
            watched: context.watched,
            cancel: context.cancel,
            load,
            recorded: BTreeMap::new(),
            chaos_started: Arc::default(),
        }
    }

    /// Declares a chaos run: faults drawn from this scenario's seed, a health
    /// check after each (see [`crate::chaos`]). It holds no borrow of the
    /// scenario, so it can run beside a load — spawn it, since `drive`
    /// holds the scenario's thread: `let chaos = tokio::spawn(s.chaos()…
    /// .run()); s.drive(op).await?; chaos.await??;`. One per scenario.
    pub fn chaos(&self) -> crate::chaos::Chaos {
        crate::chaos::Chaos::new(crate::chaos::ChaosEnv {
            trial: self.trial.clone(),
            seed: self.settings.seed(),
            origin: self.origin,
            journal: Arc::clone(&self.journal),
            started: Arc::clone(&self.chaos_started),
            cancel: self.cancel.clone(),
            replay: self.settings.replay.clone(),
            check_determinism: self.settings.check_determinism,
        })
    }

    fn now_ms(&self) -> f64 {
        self.origin.elapsed().as_secs_f64() * 1e3
    }

    /// The seed in force (`BRUNT_SEED`, else the attribute's `seed`, else
    /// one drawn for this run and written to the report).
    pub fn seed(&self) -> u64 {
        self.settings.seed()
    }

    /// A random generator seeded with [`Stress::seed`]: the same seed gives
    /// the same sequence on every platform (ChaCha8).
    pub fn rng(&self) -> rand::rngs::ChaCha8Rng {
        rand::rngs::ChaCha8Rng::seed_from_u64(self.settings.seed())
    }

    /// `BRUNT_SCALE` (1.0 when unset). Durations and iteration counts are
    /// already scaled; use this to scale sizes of your own.
    pub fn scale(&self) -> f64 {
        self.settings.scale
    }

    /// Closed-model workers in force.
    pub fn concurrency(&self) -> u32 {
        self.settings.load.concurrency
    }

    /// The measured duration in force, after scaling (if declared).
    pub fn duration(&self) -> Option<Duration> {
        self.settings.duration()
    }

    /// The measured op count in force, after scaling (if declared).
    pub fn iterations(&self) -> Option<u64> {
        self.settings.iterations()
    }

    /// Time since the scenario started.
    pub fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    /// The tokio runtime the scenario runs on.
    pub fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// Samples another process too, from now on: its resources appear as
    /// `target.rss.peak`, `target.cpu.mean`, … (summed over every watched
    /// pid) and as `target` series in the samples. The process is sampled
    /// before this returns (not at the next tick), so a process watched for
    /// less than one sampling interval still has its `target.*` figures.
    pub fn watch_pid(&mut self, pid: u32) {
        self.watched.watch(pid);
        self.journal.append(&Record::Watch {
            pid,
            t_ms: self.now_ms(),
        });
        self.event("watch_pid", format!("sampling pid {pid} as target"));
    }

    /// Records a custom metric that criteria may name. Recording a name
    /// again replaces its value.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid custom metric name: lowercase words joined
    /// by `_` and `.`, outside the built-in namespaces (`latency.`, `rss.`,
    /// `cpu.`, `threads.`, `fds.`, `target.`) and not a built-in name or
    /// near-miss of one. The panic ends the scenario with outcome `error`.
    pub fn record(&mut self, name: &str, value: f64, unit: Unit) {
        self.record_scoped(name, value, unit, Scope::Observed);
    }

    /// [`Stress::record`] with an explicit scope.
    pub fn record_scoped(&mut self, name: &str, value: f64, unit: Unit, scope: Scope) {
        match brunt_grammar::check_metric_name(name) {
            Ok(None) => {}
            Ok(Some(_)) => panic!(
                "Stress::record: `{name}` is a built-in metric, which Brunt measures itself; choose another name"
            ),
            Err(e) => panic!("Stress::record: {e}"),
        }
        let metric = MetricValue {
            value: Some(value),
            unit,
            scope,
            note: None,
        };
        self.keep_metric(name.to_string(), metric);
    }

    /// Journals a recorded metric and keeps it for later notes and sums.
    fn keep_metric(&mut self, name: String, metric: MetricValue) {
        self.journal.append(&Record::Metric {
            name: name.clone(),
            value: metric.clone(),
        });
        self.recorded.insert(name, metric);
    }

    /// Adds a note to a metric recorded before, e.g. the allocator a
    /// per-task memory figure was measured under; reports show it beside
    /// the value. A name never recorded is ignored.
    pub fn annotate(&mut self, name: &str, note: impl Into<String>) {
        let Some(metric) = self.recorded.get_mut(name) else {
            return;
        };
        metric.note = Some(note.into());
        self.journal.append(&Record::Metric {
            name: name.to_string(),
            value: metric.clone(),
        });
    }

    /// Adds one point to a named series of the scenario's own (e.g. a spawn
    /// rate per interval), at `at` since the run started: reports carry it
    /// under `samples.custom`, beside the resource samples. Series are for
    /// reading and charts; criteria name metrics, not series.
    pub fn record_point(&mut self, series: &str, at: Duration, value: f64, unit: Unit) {
        let point = CustomPoint {
            t_ms: at.as_secs_f64() * 1e3,
            value,
        };
        self.journal.append(&Record::Point {
            series: series.to_string(),
            unit,
            point,
        });
    }

    /// Starts a named phase, ending the previous one. Phases are stretches
    /// of the timeline (e.g. `ramp`, `kill_workers`, `recovery`).
    pub fn phase(&mut self, name: impl Into<String>) {
        self.journal.append(&Record::Phase {
            name: name.into(),
            t_ms: self.now_ms(),
        });
        self.load.enter_phase();
    }

    /// Adds an event to the timeline.
    pub fn event(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        let event = Event {
            t_ms: self.now_ms(),
            kind: kind.into(),
            message: message.into(),
        };
        self.journal.append(&Record::Event(event));
    }

    /// Records a finding: something the run found worth a person's
    /// attention, with the evidence.
    pub fn finding(
        &mut self,
        severity: Severity,
        title: impl Into<String>,
        detail: impl Into<String>,
    ) {
        let finding = Finding {
            severity,
            kind: "custom".to_string(),
            title: title.into(),
            detail: detail.into(),
        };
        self.journal.append(&Record::Finding(finding));
    }

    /// Runs `op` under the declared load model and records every op:
    /// `Ok` is a success; `Err`, or a panic inside the op, an error; each
    /// op's latency goes into the histograms. `op` gets the op's index
    /// (0, 1, 2, …; after a warm-up, indices continue from the warm-up's).
    ///
    /// With `iterations = N`, exactly N measured ops run. With
    /// `duration`, no op starts after the duration has passed. `warmup`
    /// runs the same load first, unrecorded. Calling `drive` again adds to
    /// the same metrics.
    pub async fn drive<F, Fut, R>(&mut self, op: F) -> Result<DriveSummary, DriveError>
    where
        F: Fn(u64) -> Fut + Sync,
        Fut: Future<Output = R>,
        R: OpResult,
    {
        self.drive_workload(&PlainOp::new(&op), cores()).await
    }

    /// [`Stress::drive`] with a state per worker, built once by `setup`
    /// (a connection, a session, anything an op needs `&mut`): the op gets
    /// its worker's state and its index. States are built as workers start
    /// (the time each took in `setup.time.*`, failures in `setup.errors`;
    /// a worker whose state fails to build runs no op) and kept for the
    /// scenario's next run of the same call — a warm-up's states serve the
    /// measured run, an escalation's serve its next step. Under the open
    /// model each arrival thread keeps a pool of idle states and builds one
    /// only when none is idle (so at most `max_in_flight`).
    ///
    /// ```no_run
    /// # use brunt::prelude::*;
    /// # async fn scenario(s: &mut Stress, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    /// s.drive_with(
    ///     async |_w: Worker| tokio::net::TcpStream::connect(addr).await,
    ///     async |conn: &mut tokio::net::TcpStream, _i: u64| conn.writable().await,
    /// )
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn drive_with<S, Setup, SetupErr, F, R>(
        &mut self,
        setup: Setup,
        op: F,
    ) -> Result<DriveSummary, DriveError>
    where
        S: Send,
        Setup: AsyncFn(Worker) -> Result<S, SetupErr> + Sync,
        SetupErr: std::fmt::Display,
        F: AsyncFn(&mut S, u64) -> R + Sync,
        R: OpResult,
    {
        let workload = Driven::new(
            setup,
            async |state: &mut S, _: Op, i: u64| op(state, i).await,
            None,
            true,
        );
        let summary = self.drive_workload(&workload, cores()).await;
        self.load.add_setups(&workload);
        summary
    }

    /// Drives the scenario's declared `mix` (weighted ops, drawn from the
    /// seed: the same seed gives the same sequence of ops) or `flow` (each
    /// worker's ops in order): the op gets the [`Op`] picked for it and its
    /// index, and matches on its name. Every op kind gets its own metrics
    /// (`op.<name>.latency.p99`, …) beside the totals.
    pub async fn drive_mix<F, R>(&mut self, op: F) -> Result<DriveSummary, DriveError>
    where
        F: AsyncFn(Op, u64) -> R + Sync,
        R: OpResult,
    {
        let table = self.load.op_table()?;
        self.drive_workload(&MixOp::new(&op, &table), cores()).await
    }

    /// [`Stress::drive_mix`] with a state per worker, as
    /// [`Stress::drive_with`].
    pub async fn drive_mix_with<S, Setup, SetupErr, F, R>(
        &mut self,
        setup: Setup,
        op: F,
    ) -> Result<DriveSummary, DriveError>
    where
        S: Send,
        Setup: AsyncFn(Worker) -> Result<S, SetupErr> + Sync,
        SetupErr: std::fmt::Display,
        F: AsyncFn(&mut S, Op, u64) -> R + Sync,
        R: OpResult,
    {
        let table = self.load.op_table()?;
        let workload = Driven::new(setup, op, Some(&table), true);
        let summary = self.drive_workload(&workload, cores()).await;
        self.load.add_setups(&workload);
        summary
    }

    async fn drive_workload<W: Workload>(
        &mut self,
        workload: &W,
        threads: usize,
    ) -> Result<DriveSummary, DriveError> {
        tokio::task::block_in_place(|| self.load.drive(workload, threads))
    }

    /// [`Stress::drive`] for a blocking op, for plain-`fn` scenarios and
    /// synchronous systems under test. Closed model: each worker is its own
    /// OS thread (as many as the most workers the load ever runs, under
    /// stages or an escalation too). Open model: ops run on a pool of
    /// `min(max_in_flight, 256)` threads, so a slow op never holds up the
    /// arrivals (an op waiting for a free thread waits from its intended
    /// start, as it would in a real server's queue).
    pub fn drive_blocking<F, R>(&mut self, op: F) -> Result<DriveSummary, DriveError>
    where
        F: Fn(u64) -> R + Sync,
        R: OpResult,
    {
        self.load.drive_blocking(&op)
    }
}
