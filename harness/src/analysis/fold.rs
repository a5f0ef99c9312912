//! [`fold`]: the journal of a run, read in order, into the [`RunRecord`]
//! its report is built from. The one place records become a run: the child
//! folds its own journal when it finishes, the parent the file of a child
//! that died; only the `end` record tells them apart.

use std::collections::BTreeMap;

use crate::journal::Record;
use crate::measure::{OpTotals, Slice};
use brunt_report::{
    ChaosSection, CustomSeries, Event, Finding, MetricValue, Phase, RunInfo, ScenarioInfo, Series,
    Step, push_point,
};

/// Everything measured in one run, before metrics and verdicts.
pub(crate) struct RunRecord {
    pub(crate) scenario: ScenarioInfo,
    pub(crate) run: RunInfo,
    /// Every drive's op totals merged, if `drive` ran.
    pub(crate) totals: Option<OpTotals>,
    /// The per-second slices of the measured load.
    pub(crate) slices: Vec<Slice>,
    /// The load measured inside each phase, by phase index.
    pub(crate) phase_totals: BTreeMap<usize, OpTotals>,
    /// Ops and errors counted up to the last progress line of a child that
    /// died (one that finished has its totals).
    pub(crate) progress: Option<(u64, u64)>,
    pub(crate) warmup_end_ms: Option<f64>,
    pub(crate) custom: BTreeMap<String, MetricValue>,
    pub(crate) events: Vec<Event>,
    pub(crate) phases: Vec<Phase>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) series: Vec<Series>,
    /// The scenario's own series (`Stress::record_point`).
    pub(crate) custom_series: Vec<CustomSeries>,
    pub(crate) steps: Vec<Step>,
    /// The sampler thread's own CPU use, percent of one core.
    pub(crate) sampler_cpu_percent: Option<f64>,
    /// Why an `abort(...)` criterion stopped the run early, if one did.
    pub(crate) aborted: Option<String>,
    /// The chaos run, if one ran.
    pub(crate) chaos: Option<ChaosSection>,
}

impl RunRecord {
    /// A run of which nothing was recorded yet.
    fn new(scenario: ScenarioInfo, run: RunInfo) -> RunRecord {
        RunRecord {
            scenario,
            run,
            totals: None,
            slices: Vec::new(),
            phase_totals: BTreeMap::new(),
            progress: None,
            warmup_end_ms: None,
            custom: BTreeMap::new(),
            events: Vec::new(),
            phases: Vec::new(),
            findings: Vec::new(),
            series: Vec::new(),
            custom_series: Vec::new(),
            steps: Vec::new(),
            sampler_cpu_percent: None,
            aborted: None,
            chaos: None,
        }
    }
}

/// Folds a run's journal into its record. `scenario` and `run` stand in
/// for the `start` record if the journal lost it. Records past `end` are
/// not the run's (a thread the scenario left behind) and are ignored.
pub(crate) fn fold(
    records: impl IntoIterator<Item = Record>,
    scenario: ScenarioInfo,
    run: RunInfo,
) -> RunRecord {
    let mut record = RunRecord::new(scenario, run);
    // Whether the journal ends with the child's `end` record (else the
    // child died).
    let mut finished = false;
    for r in records {
        match r {
            Record::Start { scenario, run } => {
                record.scenario = *scenario;
                record.run = *run;
            }
            Record::Sample {
                process,
                pid,
                point,
            } => match record
                .series
                .iter_mut()
                .find(|s| s.pid == pid && s.process == process)
            {
                Some(s) => s.points.push(point),
                None => record.series.push(Series {
                    process,
                    pid,
                    points: vec![point],
                }),
            },
            Record::Progress { t_ms, ops, errors } => {
                record.progress = Some((ops, errors));
                record.run.wall_ms = record.run.wall_ms.max(t_ms);
            }
            Record::Event(e) => {
                record.run.wall_ms = record.run.wall_ms.max(e.t_ms);
                if e.kind == "abort" {
                    record.aborted.get_or_insert_with(|| e.message.clone());
                }
                record.events.push(e);
            }
            Record::Phase { name, t_ms } => {
                end_phase(&mut record.phases, t_ms);
                record.phases.push(Phase {
                    name,
                    start_ms: t_ms,
                    end_ms: None,
                    metrics: BTreeMap::new(),
                });
            }
            Record::WarmupEnd { t_ms } => {
                record.warmup_end_ms.get_or_insert(t_ms);
            }
            Record::Finding(f) => record.findings.push(f),
            Record::Metric { name, value } => {
                record.custom.insert(name, value);
            }
            Record::Point {
                series,
                unit,
                point,
            } => push_point(&mut record.custom_series, &series, unit, point),
            Record::Step(step) => record.steps.push(step),
            Record::LoadSlice(slice) => record.slices.push(slice),
            Record::DriveTotals(saved) => {
                let totals = saved.restore();
                if let Some(phase) = saved.phase {
                    record
                        .phase_totals
                        .entry(phase)
                        .or_default()
                        .merge(totals.clone());
                }
                record
                    .totals
                    .get_or_insert_with(OpTotals::default)
                    .merge(totals);
            }
            Record::ChaosStart(start) => record.chaos = Some(*start),
            Record::ChaosStep { entry, timing } => {
                if let Some(chaos) = record.chaos.as_mut() {
                    chaos.log.push(entry);
                    chaos.timing.push(timing);
                }
            }
            Record::ChaosEnd { t_ms, settled } => {
                if let Some(chaos) = record.chaos.as_mut() {
                    chaos.end_ms = Some(t_ms);
                    chaos.settled = settled;
                }
            }
            // For the runner, which watches and continues processes live.
            Record::Watch { .. } | Record::Stopped { .. } | Record::Continued { .. } => {}
            Record::End {
                t_ms,
                wall_ms,
                sampler_cpu_percent,
            } => {
                end_phase(&mut record.phases, t_ms);
                record.run.wall_ms = wall_ms;
                record.sampler_cpu_percent = sampler_cpu_percent;
                // A finished child's totals hold every op it counted.
                record.progress = None;
                finished = true;
                break;
            }
        }
    }
    if !finished {
        // A child that died: it ran at least until the last thing it wrote.
        for s in &record.series {
            if let Some(last) = s.points.last() {
                record.run.wall_ms = record.run.wall_ms.max(last.t_ms);
            }
        }
    }
    record
}

/// Ends the phase still running, if one is, at `t_ms`.
fn end_phase(phases: &mut [Phase], t_ms: f64) {
    if let Some(last) = phases.last_mut() {
        last.end_ms.get_or_insert(t_ms);
    }
}
