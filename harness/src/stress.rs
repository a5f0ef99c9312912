//! [`Stress`]: the handle a scenario body receives. It drives the declared
//! load, and journals what the body adds: custom metrics, watched
//! processes, phases, events and findings. Everything goes to the run's
//! journal as it happens (a crash loses at most one sampling interval); the
//! report is folded from it, never from the handle.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use tokio::runtime::Handle;

use crate::analysis::{StepRun, judge_step};
use crate::criteria::Unit;
use crate::journal::{Journal, Record};
use crate::load::{
    Cancel, ClosedPlan, DriveError, DriveSummary, Driven, DriverThreads, Drivers, Escalation,
    LoadRun, MixOp, Op, OpResult, OpStatus, OpTable, OpenPlan, PlainOp, Ramp, RunFrame, Stage,
    Stop, Worker, Workload, next_level, run_closed, run_open,
};
use crate::measure::{OpTotals, ProgressBoard, SavedTotals, WatchList};
use crate::registry::ScenarioEntry;
use crate::report::{CustomPoint, Event, Finding, MetricValue, Severity};
use crate::settings::{Budget, Resolved};

/// The machine's cores: driver and arrival threads for async ops.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Most threads a blocking op gets under the open model.
const BLOCKING_POOL: usize = 256;

/// What a custom metric's value summarises, written as its `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A single value observed once (the default of [`Stress::record`]).
    Observed,
    /// A total over the run.
    Total,
    /// An average over the run.
    OverallAvg,
    /// An average per process (e.g. bytes per spawned task).
    PerProcessAvg,
    /// An average per operation.
    PerOp,
    /// The highest value seen.
    Peak,
    /// A yes/no outcome, recorded as 1 or 0.
    Binary,
    /// A total over the whole node (process), e.g. the most processes alive
    /// at once (seed 000's `process_count_max`).
    PerNodeTotal,
    /// A figure of the whole test's duration (seed 000's `time_to_limit_s`).
    PerTestDuration,
    /// One recovery operation, from its order to its end (seed 000's
    /// `recovery_time_ms`).
    PerRecoveryOperation,
}

impl Scope {
    /// The scope as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Observed => "observed",
            Scope::Total => "total",
            Scope::OverallAvg => "overall_avg",
            Scope::PerProcessAvg => "per_process_avg",
            Scope::PerOp => "per_op",
            Scope::Peak => "peak",
            Scope::Binary => "binary",
            Scope::PerNodeTotal => "per_node_total",
            Scope::PerTestDuration => "per_test_duration",
            Scope::PerRecoveryOperation => "per_recovery_operation",
        }
    }
}

/// The handle a scenario body receives: drives the declared load and
/// records what the body adds to the report.
pub struct Stress {
    entry: &'static ScenarioEntry,
    settings: Resolved,
    origin: Instant,
    runtime: Handle,
    /// The driver threads ops run on, kept for the scenario's life.
    drivers: Drivers,
    journal: Arc<Journal>,
    progress: Arc<ProgressBoard>,
    watched: Arc<WatchList>,
    cancel: Cancel,
    next_index: u64,
    /// The custom metrics recorded so far, as last written: what
    /// [`Stress::annotate`] notes and warm-ups add their counts to.
    recorded: BTreeMap<String, MetricValue>,
    /// Phases started so far: the load of a drive counts in the last one.
    phases: usize,
    /// Ops and errors of every measured drive so far.
    measured: (u64, u64),
    /// Whether the scenario's one chaos run has started.
    chaos_started: Arc<AtomicBool>,
}

impl Stress {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        entry: &'static ScenarioEntry,
        settings: Resolved,
        origin: Instant,
        runtime: Handle,
        journal: Arc<Journal>,
        progress: Arc<ProgressBoard>,
        watched: Arc<WatchList>,
        cancel: Cancel,
    ) -> Stress {
        Stress {
            entry,
            settings,
            origin,
            runtime,
            drivers: Drivers::default(),
            journal,
            progress,
            watched,
            cancel,
            next_index: 0,
            recorded: BTreeMap::new(),
            phases: 0,
            measured: (0, 0),
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
            trial: self.entry.trial_name(),
            seed: self.settings.seed,
            origin: self.origin,
            stream: Arc::clone(&self.journal),
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
        self.settings.seed
    }

    /// A random generator seeded with [`Stress::seed`]: the same seed gives
    /// the same sequence on every platform (ChaCha8).
    pub fn rng(&self) -> rand::rngs::ChaCha8Rng {
        rand::rngs::ChaCha8Rng::seed_from_u64(self.settings.seed)
    }

    /// `BRUNT_SCALE` (1.0 when unset). Durations and iteration counts are
    /// already scaled; use this to scale sizes of your own.
    pub fn scale(&self) -> f64 {
        self.settings.scale
    }

    /// Closed-model workers in force.
    pub fn concurrency(&self) -> u32 {
        self.settings.concurrency
    }

    /// The measured duration in force, after scaling (if declared).
    pub fn duration(&self) -> Option<Duration> {
        match self.settings.budget {
            Budget::Duration(d) => Some(d),
            _ => None,
        }
    }

    /// The measured op count in force, after scaling (if declared).
    pub fn iterations(&self) -> Option<u64> {
        match self.settings.budget {
            Budget::Iterations(n) => Some(n),
            _ => None,
        }
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
            scope: scope.as_str().to_string(),
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
        self.phases += 1;
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

    fn stop(&self) -> Result<Stop, DriveError> {
        if !self.settings.stages.is_empty() {
            return Ok(Stop::After(
                self.settings.stages.iter().map(|s| s.duration).sum(),
            ));
        }
        match self.settings.budget {
            Budget::Duration(d) => Ok(Stop::After(d)),
            Budget::Iterations(n) => Ok(Stop::Count(n)),
            Budget::Undeclared => Err(DriveError::NoBudget {
                scenario: self.entry.trial_name(),
            }),
        }
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
        self.add_setups(&workload);
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
        let table = self.op_table()?;
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
        let table = self.op_table()?;
        let workload = Driven::new(setup, op, Some(&table), true);
        let summary = self.drive_workload(&workload, cores()).await;
        self.add_setups(&workload);
        summary
    }

    /// The names of the declared mix's or flow's op kinds, if any.
    fn op_names(&self) -> Vec<String> {
        self.op_table()
            .map(|t| t.names().iter().map(|n| n.to_string()).collect())
            .unwrap_or_default()
    }

    /// The declared mix or flow.
    fn op_table(&self) -> Result<OpTable, DriveError> {
        let declared = &self.entry.declared;
        if !declared.mix.is_empty() {
            Ok(OpTable::mix(declared.mix, self.settings.seed))
        } else if !declared.flow.is_empty() {
            Ok(OpTable::flow(declared.flow))
        } else {
            Err(DriveError::NoMix {
                scenario: self.entry.trial_name(),
            })
        }
    }

    async fn drive_workload<W: Workload>(
        &mut self,
        workload: &W,
        threads: usize,
    ) -> Result<DriveSummary, DriveError> {
        tokio::task::block_in_place(|| self.drive_on_threads(workload, Threads::Drivers(threads)))
    }

    /// Adds how building a workload's states went to the totals.
    fn add_setups<S, Setup, Call>(&mut self, workload: &Driven<'_, S, Setup, Call>) {
        let Some(record) = workload.take_setups() else {
            return;
        };
        if let Some(error) = &record.first_error {
            self.event(
                "setup_error",
                format!(
                    "{} worker state(s) failed to build; the first: {error}",
                    record.tally.errors
                ),
            );
        }
        let totals = OpTotals {
            setup: Some(record.tally),
            ..OpTotals::default()
        };
        self.add_totals(totals);
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
        let open = self.settings.rate.is_some() || self.settings.escalate.is_some_and(|e| e.open);
        if open {
            return self.drive_blocking_open(&op);
        }
        let threads = self.most_workers();
        let op = |i: u64| std::future::ready(op(i));
        self.drive_on_threads(&PlainOp::new(&op), Threads::PerWorker(threads))
    }

    /// The most closed-model workers the declared load ever runs.
    fn most_workers(&self) -> usize {
        if let Some(e) = self.settings.escalate {
            return e.max as usize;
        }
        if !self.settings.stages.is_empty() {
            let start = self.entry.declared.concurrency.map_or(0.0, f64::from);
            return Ramp::new(start, &self.settings.stages)
                .max_level()
                .ceil()
                .max(1.0) as usize;
        }
        self.settings.concurrency as usize
    }

    /// The open model over a blocking op: arrivals hand each op to a pool of
    /// threads and await its end.
    fn drive_blocking_open<F, R>(&mut self, op: &F) -> Result<DriveSummary, DriveError>
    where
        F: Fn(u64) -> R + Sync,
        R: OpResult,
    {
        type Job = (
            u64,
            tokio::sync::oneshot::Sender<std::thread::Result<OpStatus>>,
        );
        let most = (self.settings.max_in_flight as usize).clamp(1, BLOCKING_POOL);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Mutex::new(queue);
        // Threads are added as ops find none idle, up to `most`: a pool
        // spawned whole up front would delay the first arrivals.
        let idle = std::sync::atomic::AtomicUsize::new(0);
        let spawned = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let pool_thread = || {
                let k = spawned.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (queue, idle) = (&queue, &idle);
                std::thread::Builder::new()
                    .name(format!("brunt-blocking-{k}"))
                    .spawn_scoped(scope, move || {
                        loop {
                            idle.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                            idle.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                            let Ok((index, done)) = job else { return };
                            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                op(index).status()
                            }));
                            let _ = done.send(ok);
                        }
                    })
                    .expect("spawning a blocking-pool thread");
            };
            let handed = |index: u64| {
                let (done, finished) = tokio::sync::oneshot::channel();
                let sent = jobs.send((index, done)).is_ok();
                if idle.load(std::sync::atomic::Ordering::SeqCst) == 0
                    && spawned.load(std::sync::atomic::Ordering::SeqCst) < most
                {
                    pool_thread();
                }
                async move {
                    match finished.await {
                        Ok(Ok(status)) if sent => status,
                        // The op panicked on the pool: a panic here too, so
                        // the model counts it as one (no latency).
                        Ok(Err(payload)) => std::panic::resume_unwind(payload),
                        _ => OpStatus::Error,
                    }
                }
            };
            let summary = self.drive_on_threads(&PlainOp::new(&handed), Threads::Drivers(cores()));
            drop(jobs);
            summary
        })
    }

    /// The frame of a run starting now: its threads, stop, recording and
    /// ramp, with the scenario's clock, next index and abort signal.
    fn frame(&self, threads: usize, stop: Stop, record: bool, ramp: Option<Ramp>) -> RunFrame {
        RunFrame {
            threads,
            stop,
            first_index: self.next_index,
            record,
            origin: self.origin,
            ramp,
            cancel: self.cancel.clone(),
            op_timeout: self.settings.op_timeout,
            cancellable: self.entry.declared.criteria.iter().any(|c| c.abort),
            think: self.entry.declared.think,
            seed: self.settings.seed,
            stream: Some(Arc::clone(&self.journal)),
        }
    }

    /// Runs one load model in `frame`, moving the op index on.
    fn run_model<W: Workload>(
        &mut self,
        model: Model,
        frame: RunFrame,
        op: &W,
        threads: Threads,
    ) -> LoadRun {
        let run = match model {
            Model::Closed { workers } => run_closed(
                ClosedPlan { frame, workers },
                match threads {
                    Threads::Drivers(_) => DriverThreads::Kept(&self.drivers),
                    Threads::PerWorker(_) => DriverThreads::Fresh(&self.runtime),
                },
                op,
                &self.progress,
            ),
            Model::Open {
                rate,
                max_in_flight,
            } => run_open(
                OpenPlan {
                    frame,
                    rate,
                    max_in_flight,
                    connections: self.settings.connections,
                },
                &self.drivers,
                op,
                &self.progress,
            ),
        };
        self.next_index = run.next_index;
        run
    }

    /// The totals of a measured run that began at `began_ms`.
    fn totals_of(&self, run: LoadRun, began_ms: f64, model: Model) -> OpTotals {
        let mut totals = OpTotals {
            measured: run.elapsed,
            op_timeout: self.settings.op_timeout.is_some(),
            kind_names: self.op_names(),
            ..OpTotals::default()
        };
        totals.timeline.add_span(began_ms, self.now_ms());
        for recorder in run.recorders {
            totals.absorb(recorder);
        }
        if let Model::Open { rate, .. } = model {
            totals.declared_rate = Some(rate);
            totals.issuing = run.issuing;
            totals.generator = run.generator;
            totals.pool = run.pool;
        }
        totals
    }

    fn drive_on_threads<W: Workload>(
        &mut self,
        op: &W,
        placement: Threads,
    ) -> Result<DriveSummary, DriveError> {
        let threads = placement.count();
        if let Some(escalation) = self.settings.escalate {
            return Ok(self.escalate(op, placement, &escalation));
        }
        let stop = self.stop()?;
        // Stages ramp from the declared rate (open) or concurrency (closed),
        // or from zero.
        let ramp = (!self.settings.stages.is_empty()).then(|| {
            let start = self
                .settings
                .rate
                .or(self.entry.declared.concurrency.map(f64::from))
                .unwrap_or(0.0);
            Ramp::new(start, &self.settings.stages)
        });
        let model = match (&ramp, self.settings.rate) {
            // The open model's late threshold and the implicit rate criterion
            // use the profile's average rate.
            (Some(r), Some(_)) => Model::Open {
                rate: r.arrivals() as f64 / r.total().as_secs_f64(),
                max_in_flight: self.settings.max_in_flight,
            },
            (None, Some(rate)) => Model::Open {
                rate,
                max_in_flight: self.settings.max_in_flight,
            },
            (Some(r), None) => Model::Closed {
                workers: r.max_level().ceil().max(1.0) as u32,
            },
            (None, None) => Model::Closed {
                workers: self.settings.concurrency,
            },
        };
        let description = match (model, &ramp) {
            (Model::Open { .. }, Some(r)) => format!(
                "open model, staged: {} arrivals over {:?}",
                r.arrivals(),
                r.total()
            ),
            (
                Model::Open {
                    rate,
                    max_in_flight,
                },
                None,
            ) => format!("open model: {rate}/s, at most {max_in_flight} in flight, {stop:?}"),
            (Model::Closed { workers }, Some(r)) => format!(
                "closed model, staged: up to {workers} workers over {:?}",
                r.total()
            ),
            (Model::Closed { workers }, None) => {
                format!("closed model: {workers} workers, {stop:?}")
            }
        };
        self.event("drive_start", description);
        let mut warmup = (0, 0);
        if !self.settings.warmup.is_zero() {
            // A staged run warms up at its profile's start.
            let warmup_ramp = ramp.as_ref().map(|r| {
                let level = r.level_at(Duration::ZERO);
                Ramp::new(
                    level,
                    &[Stage {
                        duration: self.settings.warmup,
                        target: level,
                    }],
                )
            });
            let frame = self.frame(
                threads,
                Stop::After(self.settings.warmup),
                false,
                warmup_ramp,
            );
            let run = self.run_model(model, frame, op, placement);
            warmup = self.add_warmup(&run);
            self.end_warmup();
        }
        let began_ms = self.now_ms();
        let frame = self.frame(threads, stop, true, ramp);
        let run = self.run_model(model, frame, op, placement);
        let elapsed = run.elapsed;
        let totals = self.totals_of(run, began_ms, model);
        let summary = DriveSummary {
            ops: totals.ops,
            errors: totals.errors,
            elapsed,
            warmup_ops: warmup.0,
            warmup_errors: warmup.1,
        };
        self.add_totals(totals);
        self.event(
            "drive_end",
            format!(
                "{} ops, {} errors in {:.3}s",
                summary.ops,
                summary.errors,
                summary.elapsed.as_secs_f64()
            ),
        );
        Ok(summary)
    }

    /// Marks the end of warm-up: leak baselines start here.
    /// Counts a warm-up's ops into the report's `warmup.ops`,
    /// `warmup.errors` and, for a mix or flow, `op.<name>.warmup.ops` (added
    /// to those of earlier drives); returns its ops and errors.
    fn add_warmup(&mut self, run: &LoadRun) -> (u64, u64) {
        let mut total = (0, 0);
        let mut kinds: Vec<(u64, u64)> = Vec::new();
        for r in &run.recorders {
            let (ops, errors) = r.counts();
            total = (total.0 + ops, total.1 + errors);
            for (k, (ops, errors)) in r.kind_counts().into_iter().enumerate() {
                if kinds.len() <= k {
                    kinds.resize(k + 1, (0, 0));
                }
                kinds[k] = (kinds[k].0 + ops, kinds[k].1 + errors);
            }
        }
        let mut counts = vec![
            ("warmup.ops".to_string(), total.0),
            ("warmup.errors".to_string(), total.1),
        ];
        for (name, (ops, _)) in self.op_names().into_iter().zip(kinds) {
            counts.push((format!("op.{name}.warmup.ops"), ops));
        }
        for (name, count) in counts {
            let before = self
                .recorded
                .get(&name)
                .and_then(|m| m.value)
                .unwrap_or(0.0);
            let metric = MetricValue {
                value: Some(before + count as f64),
                unit: Unit::Count,
                scope: Scope::Total.as_str().to_string(),
                note: Some("ops of the warm-up (excluded from every other metric)".to_string()),
            };
            self.keep_metric(name, metric);
        }
        total
    }

    fn end_warmup(&mut self) {
        self.journal.append(&Record::WarmupEnd {
            t_ms: self.now_ms(),
        });
        self.event(
            "warmup_end",
            format!("warm-up of {:?} done", self.settings.warmup),
        );
    }

    /// Adds a measured run to the scenario's totals and to the current
    /// phase's, so each phase reports the load that ran inside it.
    fn add_totals(&mut self, totals: OpTotals) {
        let phase = self.phases.checked_sub(1);
        self.journal
            .append(&Record::DriveTotals(Box::new(SavedTotals::new(
                &totals, phase,
            ))));
        self.measured.0 += totals.ops;
        self.measured.1 += totals.errors;
    }

    /// Runs the escalation: steps of rising load (workers, or arrivals per
    /// second), each judged by the `until` conditions on its own metrics,
    /// until one breaks, the generator cannot offer a step's rate, or `max`
    /// was tried. Every step also adds to the run's metrics.
    fn escalate<W: Workload>(
        &mut self,
        op: &W,
        placement: Threads,
        escalation: &Escalation,
    ) -> DriveSummary {
        let threads = placement.count();
        let max_in_flight = self.settings.max_in_flight;
        let model_at = |level: f64| {
            if escalation.open {
                Model::Open {
                    rate: level,
                    max_in_flight,
                }
            } else {
                Model::Closed {
                    workers: level as u32,
                }
            }
        };
        let (ops_before, errors_before) = self.measured;
        let mut warmup = (0, 0);
        if !self.settings.warmup.is_zero() {
            let frame = self.frame(threads, Stop::After(self.settings.warmup), false, None);
            let run = self.run_model(model_at(escalation.start), frame, op, placement);
            warmup = self.add_warmup(&run);
            self.end_warmup();
        }
        let mut level = escalation.start;
        let mut elapsed = Duration::ZERO;
        loop {
            let start_ms = self.now_ms();
            let model = model_at(level);
            let frame = self.frame(threads, Stop::After(escalation.step), true, None);
            let run = self.run_model(model, frame, op, placement);
            elapsed += run.elapsed;
            let step_elapsed = run.elapsed;
            let step_totals = self.totals_of(run, start_ms, model);
            let (step, taint) = judge_step(
                StepRun {
                    level,
                    start_ms,
                    elapsed: step_elapsed,
                    totals: &step_totals,
                    aborted: self.cancel.is_tripped(),
                },
                escalation,
            );
            // Each step was judged against its own rate above; the run as a
            // whole declares no single rate to hold it to.
            let step_totals = OpTotals {
                declared_rate: None,
                ..step_totals
            };
            self.add_totals(step_totals);
            let unit = if escalation.open { "/s" } else { " workers" };
            self.event(
                "step",
                format!(
                    "{level}{unit}: {} ops, {} /s, {}",
                    step.ops,
                    step.throughput_per_s.round(),
                    match (step.held, step.tainted) {
                        (true, _) => "held",
                        (false, true) => "tainted: the generator could not offer it",
                        (false, false) => "broke",
                    }
                ),
            );
            let held = step.held;
            self.journal.append(&Record::Step(step));
            if let Some(finding) = taint {
                self.finding(finding.severity, finding.title, finding.detail);
            }
            if !held || self.cancel.is_tripped() {
                break;
            }
            match next_level(level, escalation) {
                Some(next) => level = next,
                None => break,
            }
        }
        DriveSummary {
            ops: self.measured.0 - ops_before,
            errors: self.measured.1 - errors_before,
            elapsed,
            warmup_ops: warmup.0,
            warmup_errors: warmup.1,
        }
    }
}

/// Where a drive's ops run.
#[derive(Debug, Clone, Copy)]
enum Threads {
    /// On this many of the scenario's kept driver threads (async ops).
    Drivers(usize),
    /// A thread of their own per closed-model worker, this many (blocking
    /// ops: one would hold up every worker sharing its thread).
    PerWorker(usize),
}

impl Threads {
    fn count(self) -> usize {
        match self {
            Threads::Drivers(n) | Threads::PerWorker(n) => n,
        }
    }
}

/// The load model of one run, and what is its own.
#[derive(Debug, Clone, Copy)]
enum Model {
    /// `workers` concurrent loops.
    Closed { workers: u32 },
    /// Arrivals at `rate` per second, at most `max_in_flight` at once.
    Open { rate: f64, max_in_flight: u32 },
}
