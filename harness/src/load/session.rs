//! [`LoadSession`]: a scenario's load across its drives — which model runs
//! (closed or open, staged, escalated), the warm-up before it, the driver
//! threads kept between drives, the op indices, and what each drive adds to
//! the journal (its events, warm-up counts, totals and escalation steps).
//! `Stress` is the handle over it; this is where `drive` happens.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use super::{
    Cancel, ClosedPlan, DriveError, DriveSummary, Driven, DriverThreads, Drivers, Escalation,
    LoadRun, OpResult, OpStatus, OpTable, OpenPlan, PlainOp, Ramp, RunFrame, Stage, StepJudge,
    StepRun, Stop, Workload, next_level, run_closed, run_open,
};
use crate::criteria::Unit;
use crate::journal::{Journal, Record};
use crate::measure::{OpTotals, ProgressBoard, SavedTotals};
use brunt_report::{Event, MetricValue, Scope};

/// Most threads a blocking op gets under the open model.
const BLOCKING_POOL: usize = 256;

/// The machine's cores: driver and arrival threads for async ops.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A scenario's load as declared, after scaling and the environment: the
/// part of the resolved settings the load reads. The parent resolves it once
/// and hands it to the child serialized; the declaration's code (`mix`,
/// `flow`, `think`, the escalation's `until`) is linked again by the child
/// from its own binary rather than sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct LoadSettings {
    /// The measured load's extent, scaled (`None`: neither `duration` nor
    /// `iterations` declared, so `drive` is unavailable).
    pub(crate) budget: Option<Stop>,
    /// Closed-model workers.
    pub(crate) concurrency: u32,
    /// Closed-model workers as declared: stages ramp from them.
    pub(crate) declared_concurrency: Option<u32>,
    /// Open-model arrivals per second (never scaled).
    pub(crate) rate: Option<f64>,
    /// Open model: most ops in flight at once.
    pub(crate) max_in_flight: u32,
    /// Open model: most worker states held at once, if declared.
    pub(crate) connections: Option<u32>,
    /// Warm-up, scaled.
    pub(crate) warmup: Duration,
    /// Longest an op may take (not scaled).
    pub(crate) op_timeout: Option<Duration>,
    /// The seed in force.
    pub(crate) seed: u64,
    /// Escalation, its step scaled.
    pub(crate) escalate: Option<Escalation>,
    /// Stages, their durations scaled.
    pub(crate) stages: Vec<Stage>,
    /// A closed-model worker's pause between ops.
    #[serde(skip)]
    pub(crate) think: Option<brunt_grammar::ThinkTime>,
    /// Whether an `abort(...)` criterion may stop the load early.
    pub(crate) cancellable: bool,
    /// Weighted ops `(name, weight)` for `drive_mix`, as declared.
    #[serde(skip)]
    pub(crate) mix: &'static [(&'static str, u32)],
    /// Ops each worker runs in order, for `drive_mix`, as declared.
    #[serde(skip)]
    pub(crate) flow: &'static [&'static str],
    /// The stripe of the load this process runs (`BRUNT_SEGMENT`).
    #[serde(default)]
    pub(crate) segment: super::Segment,
}

/// The run a load session belongs to.
pub(crate) struct SessionContext {
    /// The scenario's trial name (errors name it).
    pub(crate) trial: String,
    pub(crate) settings: LoadSettings,
    /// The run's clock.
    pub(crate) origin: Instant,
    pub(crate) runtime: Handle,
    pub(crate) journal: Arc<Journal>,
    pub(crate) progress: Arc<ProgressBoard>,
    pub(crate) cancel: Cancel,
    /// Judges each escalation step.
    pub(crate) judge_step: StepJudge,
}

/// A scenario's load across its drives.
pub(crate) struct LoadSession {
    trial: String,
    settings: LoadSettings,
    origin: Instant,
    runtime: Handle,
    /// The driver threads ops run on, kept for the scenario's life.
    drivers: Drivers,
    journal: Arc<Journal>,
    progress: Arc<ProgressBoard>,
    cancel: Cancel,
    judge_step: StepJudge,
    next_index: u64,
    /// Phases started so far: a drive's load counts in the last one.
    phases: usize,
    /// Ops and errors of every measured drive so far.
    measured: (u64, u64),
    /// Warm-up ops counted so far, by metric (`warmup.ops`, …).
    warmup_counts: BTreeMap<String, u64>,
}

impl LoadSession {
    pub(crate) fn new(context: SessionContext) -> LoadSession {
        LoadSession {
            trial: context.trial,
            settings: context.settings,
            origin: context.origin,
            runtime: context.runtime,
            drivers: Drivers::default(),
            journal: context.journal,
            progress: context.progress,
            cancel: context.cancel,
            judge_step: context.judge_step,
            next_index: 0,
            phases: 0,
            measured: (0, 0),
            warmup_counts: BTreeMap::new(),
        }
    }

    /// A phase began: drives from now on count in it.
    pub(crate) fn enter_phase(&mut self) {
        self.phases += 1;
    }

    fn now_ms(&self) -> f64 {
        self.origin.elapsed().as_secs_f64() * 1e3
    }

    fn append(&self, record: Record) {
        self.journal.append(&record);
    }

    fn event(&self, kind: &str, message: String) {
        self.append(Record::Event(Event {
            t_ms: self.now_ms(),
            kind: kind.to_string(),
            message,
        }));
    }

    /// Runs an async workload on the kept driver threads, `threads` of them.
    pub(crate) fn drive<W: Workload>(
        &mut self,
        workload: &W,
        threads: usize,
    ) -> Result<DriveSummary, DriveError> {
        self.drive_on_threads(workload, Threads::Drivers(threads))
    }

    /// Runs a blocking op: closed model, each worker its own OS thread (as
    /// many as the most workers the load ever runs); open model, on a pool
    /// of threads the arrivals hand ops to.
    pub(crate) fn drive_blocking<F, R>(&mut self, op: &F) -> Result<DriveSummary, DriveError>
    where
        F: Fn(u64) -> R + Sync,
        R: OpResult,
    {
        let open = self.settings.rate.is_some() || self.settings.escalate.is_some_and(|e| e.open);
        if open {
            return self.drive_blocking_open(op);
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
            let start = self.settings.declared_concurrency.map_or(0.0, f64::from);
            return Ramp::new(start, &self.settings.stages)
                .max_level()
                .ceil()
                .max(1.0) as usize;
        }
        self.settings.concurrency as usize
    }

    fn stop(&self) -> Result<Stop, DriveError> {
        if !self.settings.stages.is_empty() {
            return Ok(Stop::After(
                self.settings.stages.iter().map(|s| s.duration).sum(),
            ));
        }
        self.settings.budget.ok_or_else(|| DriveError::NoBudget {
            scenario: self.trial.clone(),
        })
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

    /// The names of the declared mix's or flow's op kinds, if any.
    fn op_names(&self) -> Vec<String> {
        self.op_table()
            .map(|t| t.names().iter().map(|n| n.to_string()).collect())
            .unwrap_or_default()
    }

    /// The declared mix or flow.
    pub(crate) fn op_table(&self) -> Result<OpTable, DriveError> {
        if !self.settings.mix.is_empty() {
            Ok(OpTable::mix(self.settings.mix, self.settings.seed))
        } else if !self.settings.flow.is_empty() {
            Ok(OpTable::flow(self.settings.flow))
        } else {
            Err(DriveError::NoMix {
                scenario: self.trial.clone(),
            })
        }
    }

    /// Adds how building a workload's states went to the totals.
    pub(crate) fn add_setups<S, Setup, Call>(&mut self, workload: &Driven<'_, S, Setup, Call>) {
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
            cancellable: self.settings.cancellable,
            think: self.settings.think,
            seed: self.settings.seed,
            stream: Some(Arc::clone(&self.journal)),
            segment: self.settings.segment,
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
            // What this process was to offer: a segment's share of the rate.
            totals.declared_rate = Some(rate / self.settings.segment.stride() as f64);
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
                .or(self.settings.declared_concurrency.map(f64::from))
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
            let sum = self.warmup_counts.entry(name.clone()).or_default();
            *sum += count;
            let metric = MetricValue {
                value: Some(*sum as f64),
                unit: Unit::Count,
                scope: Scope::Total,
                note: Some("ops of the warm-up (excluded from every other metric)".to_string()),
            };
            self.append(Record::Metric {
                name,
                value: metric,
            });
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
            let (step, taint) = (self.judge_step)(StepRun {
                level,
                start_ms,
                elapsed: step_elapsed,
                totals: &step_totals,
                aborted: self.cancel.is_tripped(),
                until: escalation.until,
                open: escalation.open,
            });
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
                self.append(Record::Finding(finding));
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
