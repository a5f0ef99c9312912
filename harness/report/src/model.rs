//! The report's data model, exactly the contract's top-level keys: `schema`,
//! `scenario`, `run`, `outcome`, `metrics`, `criteria`, `phases`, `events`,
//! `findings`, `samples`. Extensions are additive fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::chaos::ChaosSection;

use brunt_grammar::Unit;

/// A [`Unit`] in reports: its symbol (`ns`, `MiB`, `/s`, …).
pub mod unit_symbol {
    use serde::{Deserialize, Deserializer, Serializer};

    use brunt_grammar::Unit;

    /// Writes the unit's symbol.
    pub fn serialize<S: Serializer>(unit: &Unit, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(unit.symbol())
    }

    /// Reads a symbol; an unknown one is an error naming it.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Unit, D::Error> {
        let symbol = String::deserialize(d)?;
        Unit::from_symbol(&symbol).map_err(serde::de::Error::custom)
    }
}

/// An optional [`Unit`] in reports, as its symbol or `null`.
pub mod optional_unit_symbol {
    use serde::{Deserialize, Deserializer, Serializer};

    use brunt_grammar::Unit;

    /// Writes the unit's symbol, or `null`.
    pub fn serialize<S: Serializer>(unit: &Option<Unit>, s: S) -> Result<S::Ok, S::Error> {
        match unit {
            Some(unit) => s.serialize_some(unit.symbol()),
            None => s.serialize_none(),
        }
    }

    /// Reads a symbol or `null`; an unknown symbol is an error naming it.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Unit>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|symbol| Unit::from_symbol(&symbol).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// The schema identifier of this model.
pub const SCHEMA: &str = "brunt.report/v1";

/// One scenario run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// What ran.
    pub scenario: ScenarioInfo,
    /// When, where and with which settings.
    pub run: RunInfo,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it ended that way, when it did not pass: the error, panic message,
    /// signal, or the criteria that failed.
    pub reason: Option<String>,
    /// Whether the run's load generator, not the system under test, was the
    /// bottleneck (a finding says why): its numbers describe Brunt.
    #[serde(default)]
    pub tainted: bool,
    /// Every metric measured, by name.
    pub metrics: BTreeMap<String, MetricValue>,
    /// One verdict per declared criterion.
    pub criteria: Vec<Verdict>,
    /// Named stretches of the run, in order.
    pub phases: Vec<Phase>,
    /// The timeline.
    pub events: Vec<Event>,
    /// What the run found worth a person's attention.
    pub findings: Vec<Finding>,
    /// Resource samples.
    pub samples: Samples,
    /// Escalation only: one row per step of rising concurrency.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Chaos only: the schedule that ran, what each fault did, and the
    /// minimal failing schedule when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<ChaosSection>,
    /// The earlier runs of a scenario rerun under `BRUNT_RETRIES`, in
    /// order (this report is the last run). Empty without reruns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// It failed, then passed on a rerun: it passes the run, marked flaky.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
}

/// One step of an escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The step's load: workers (closed model) or arrivals per second (open
    /// model).
    pub level: f64,
    /// Start, ms since the run started.
    pub start_ms: f64,
    /// Measured wall time, ms.
    pub duration_ms: f64,
    /// Measured ops.
    pub ops: u64,
    /// Ops that failed.
    pub errors: u64,
    /// Ops per second.
    pub throughput_per_s: f64,
    /// Open model only: arrivals offered (run or dropped) per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_rate_per_s: Option<f64>,
    /// Median latency, ns.
    pub latency_p50_ns: Option<f64>,
    /// 99th-percentile latency, ns.
    pub latency_p99_ns: Option<f64>,
    /// Whether every `until` condition held (and, open model, the
    /// generator offered the step's rate).
    pub held: bool,
    /// Open model only: the load generator could not offer the step's rate,
    /// so the step says nothing about the system; the escalation ends here
    /// without a breaking point.
    #[serde(default)]
    pub tainted: bool,
    /// An `abort(...)` criterion stopped the run during this step: it says
    /// nothing about the system's limit.
    #[serde(default)]
    pub aborted: bool,
    /// The conditions that broke, with their verdicts.
    pub broken: Vec<String>,
}

/// The scenario as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// Trial name: module path (without crate) and function.
    pub name: String,
    /// Full module path.
    pub module: String,
    /// Source file.
    pub file: String,
    /// Line of the function.
    pub line: u32,
    /// Tags from the attribute.
    pub tags: Vec<String>,
    /// The attribute's keys as written, before scaling.
    pub declared: Settings,
}

/// Load settings, in plain units. Used for what was declared and for what
/// was in force.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Settings {
    /// Measured load duration, ms.
    pub duration_ms: Option<f64>,
    /// The floor of a scaled duration (`min_duration`), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_ms: Option<f64>,
    /// Measured ops.
    pub iterations: Option<u64>,
    /// Closed-model workers.
    pub concurrency: Option<u32>,
    /// Open-model arrivals per second.
    pub rate_per_s: Option<f64>,
    /// Open-model bound on ops in flight.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    /// Open-model bound on worker states held (`connections`), if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// Warm-up, ms.
    pub warmup_ms: Option<f64>,
    /// Sampling interval, ms.
    pub sample_ms: Option<f64>,
    /// Child deadline, ms.
    pub timeout_ms: Option<f64>,
    /// Longest an op may take, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_timeout_ms: Option<f64>,
    /// Seed.
    pub seed: Option<u64>,
    /// Memory limit, bytes.
    pub memory_limit_bytes: Option<u64>,
}

/// The run's circumstances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of the whole scenario body, ms.
    pub wall_ms: f64,
    /// `BRUNT_SCALE`.
    pub scale: f64,
    /// Seed in force.
    pub seed: u64,
    /// Whether it ran in the test process (`BRUNT_INLINE`) instead of a child.
    pub inline: bool,
    /// Settings in force after scaling and environment overrides.
    pub effective: Settings,
    /// The machine.
    pub host: Host,
    /// Brunt's version.
    pub brunt_version: String,
    /// How the scenario's binary was compiled (`null` in reports of Brunt
    /// versions that did not say).
    #[serde(default)]
    pub build: Option<BuildInfo>,
    /// The segment of the scenario's load this run was (`BRUNT_SEGMENT`),
    /// when the load was split over several processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentInfo>,
}

/// One segment of a scenario's load split over N processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// Which segment, 1 ..= `count`.
    pub index: u32,
    /// How many segments the load was split into.
    pub count: u32,
}

/// How the code a run measured was compiled: an unoptimised build measures
/// the compiler's debug output, not the system (a finding says so).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The crate declaring the scenario (its ops, and any system under test
    /// compiled with it) was optimised (opt-level 1 or more).
    pub scenario_optimised: bool,
    /// Brunt's own crate (load models, recorder, sampler) was optimised.
    pub harness_optimised: bool,
    /// The scenario's crate had debug assertions on (the `dev`/`test`
    /// profiles' default): overflow checks and `debug_assert!` cost time too.
    pub debug_assertions: bool,
}

/// The machine a run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Operating system and version.
    pub os: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Physical memory, bytes.
    pub total_memory_bytes: u64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Ran to the end and met every criterion.
    Passed,
    /// Ran to the end and missed a criterion.
    Failed,
    /// The body returned an error or panicked.
    Error,
    /// The child died: a signal (abort, segfault, out-of-memory kill) or the
    /// memory limit.
    Crashed,
    /// The child passed its deadline and was killed.
    TimedOut,
}

impl Outcome {
    /// The outcome as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
            Outcome::Crashed => "crashed",
            Outcome::TimedOut => "timed_out",
        }
    }
}

/// One metric's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// The value in `unit`; `null` when the run could not measure it (see
    /// `note`). A `null` metric fails any criterion on it.
    pub value: Option<f64>,
    /// The unit, written as its symbol: `count`, `%`, `/s`, `ns`, `s`,
    /// `B`, `B/s`, …
    #[serde(with = "unit_symbol")]
    pub unit: Unit,
    /// What the value summarises: `total`, `overall_avg`, `percentile`,
    /// `peak`, `trend`, …
    pub scope: Scope,
    /// Why the value is missing or how it was obtained, when that matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A named stretch of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// The phase's name.
    pub name: String,
    /// Start, ms since the run started.
    pub start_ms: f64,
    /// End, ms since the run started; `null` if the run died inside it.
    pub end_ms: Option<f64>,
    /// The load measured by `drive` inside this phase (`ops`, `errors`,
    /// `success_rate`, `throughput`, `duration`, `latency.*`), if any ran.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, MetricValue>,
}

/// One timeline entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When, ms since the run started.
    pub t_ms: f64,
    /// What kind of event (`drive_start`, `panic`, `timeout`, or a
    /// scenario's own kind).
    pub kind: String,
    /// Details.
    pub message: String,
}

/// How much a finding matters, in rising order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth a look.
    Warning,
    /// A defect.
    Critical,
}

impl Severity {
    /// The severity as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Something the run found worth a person's attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What was found, as a stable name (`memory_leak`, `fd_leak`,
    /// `machine_contended`, …; `custom` for `Stress::finding`): what
    /// `expect_findings` names. Empty in reports written before kinds.
    #[serde(default)]
    pub kind: String,
    /// One line.
    pub title: String,
    /// The evidence.
    pub detail: String,
}

/// One earlier run of a rerun scenario, with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// How it ended.
    pub outcome: Outcome,
    /// Why, when it did not pass.
    pub reason: Option<String>,
    /// Its wall time, ms.
    pub wall_ms: f64,
    /// Its verdicts.
    pub criteria: Vec<Verdict>,
    /// Its metrics' values.
    pub metrics: BTreeMap<String, Option<f64>>,
}

impl Attempt {
    /// The figures of `report`'s run.
    pub fn of(report: &Report) -> Attempt {
        Attempt {
            outcome: report.outcome,
            reason: report.reason.clone(),
            wall_ms: report.run.wall_ms,
            criteria: report.criteria.clone(),
            metrics: report
                .metrics
                .iter()
                .map(|(name, m)| (name.clone(), m.value))
                .collect(),
        }
    }
}

/// Resource samples of every sampled process, and the per-second load
/// series on the same clock (ms since the run started).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Samples {
    /// Sampling interval, ms.
    pub interval_ms: f64,
    /// One series per process.
    pub series: Vec<Series>,
    /// One point per second of the run that saw a measured op finish.
    #[serde(default)]
    pub load: Vec<LoadPoint>,
    /// The same ops in uniform bins as fine as the run's length calls for
    /// (10 ms for a run under 250 ms … 1 s from 50 s on; wider where bins
    /// would hold fewer than 20 ops, down to ten bins), for charts: a short
    /// run draws a line, not one dot. Each bin says how much of it the
    /// measured load covered, so a bin the load ran only part of is not
    /// mistaken for a drop in throughput. Absent from reports written
    /// before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_bins: Option<LoadBins>,
    /// Series the scenario recorded itself (`Stress::record_point`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<CustomSeries>,
    /// The whole run's latency histograms, keyed by metric family
    /// (`latency`, `service_time`, `setup.time`, `op.<name>.latency`), each
    /// in HdrHistogram's V2 deflate encoding, base64
    /// ([`decode_histogram`](crate::decode_histogram)): what lets
    /// reports of different processes merge exactly.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub histograms: BTreeMap<String, String>,
}

/// A series a scenario recorded itself, e.g. seed 000's spawn rate per
/// interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomSeries {
    /// Its name.
    pub name: String,
    /// The unit of every value.
    #[serde(with = "unit_symbol")]
    pub unit: Unit,
    /// Points in the order recorded.
    pub points: Vec<CustomPoint>,
}

/// One point of a [`CustomSeries`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CustomPoint {
    /// When, ms since the run started.
    pub t_ms: f64,
    /// The value, in the series' unit.
    pub value: f64,
}

/// Appends `point` to the series named `name`, creating it.
pub fn push_point(series: &mut Vec<CustomSeries>, name: &str, unit: Unit, point: CustomPoint) {
    match series.iter_mut().find(|s| s.name == name) {
        Some(s) => s.points.push(point),
        None => series.push(CustomSeries {
            name: name.to_string(),
            unit,
            points: vec![point],
        }),
    }
}

/// The measured ops that finished within one second of the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    /// Start of the second, ms since the run started.
    pub t_ms: f64,
    /// Ops finished in it (so also the throughput, per second).
    pub ops: u64,
    /// Of which errors.
    pub errors: u64,
    /// Median latency of those ops, ns.
    pub latency_p50_ns: Option<f64>,
    /// 90th percentile, ns.
    pub latency_p90_ns: Option<f64>,
    /// 99th percentile, ns.
    pub latency_p99_ns: Option<f64>,
    /// Slowest, ns.
    pub latency_max_ns: Option<f64>,
}

/// The measured load in uniform bins of one width, for charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBins {
    /// Width of every bin, ms: 10, 50, 100, 500, or a whole number of
    /// seconds.
    pub width_ms: f64,
    /// The bins the measured load covered, in time order, those in which no
    /// op finished (a stall) included.
    pub points: Vec<LoadBin>,
}

/// The measured ops that finished within one bin of [`LoadBins`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadBin {
    /// Start of the bin, ms since the run started.
    pub t_ms: f64,
    /// How much of the bin the measured load covered, ms (less than the
    /// width where a drive started or ended inside it): the throughput of
    /// the bin is `ops / covered_ms`.
    pub covered_ms: f64,
    /// Ops finished in it.
    pub ops: u64,
    /// Of which errors.
    pub errors: u64,
    /// Median latency of those ops, ns.
    pub latency_p50_ns: Option<f64>,
    /// 90th percentile, ns.
    pub latency_p90_ns: Option<f64>,
    /// 99th percentile, ns.
    pub latency_p99_ns: Option<f64>,
    /// Slowest, ns.
    pub latency_max_ns: Option<f64>,
}

/// The samples of one process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// `self` (the scenario's own process) or `target` (a watched pid).
    pub process: String,
    /// Its pid.
    pub pid: u32,
    /// Samples in time order.
    pub points: Vec<SamplePoint>,
}

/// One resource sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplePoint {
    /// When, ms since the run started.
    pub t_ms: f64,
    /// The sampler's tick (0, 1, 2, …): samples of several processes taken
    /// together share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick: Option<u64>,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// CPU used since the previous sample with a value, percent of one core;
    /// `null` on the first sample and on one taken less than half an
    /// interval after it (its time is folded into the next).
    pub cpu_percent: Option<f64>,
    /// CPU time (user + system) the process has used so far, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_time_s: Option<f64>,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// The scenario's own process with `brunt::heap::CountingAllocator`
    /// installed: bytes allocated and not freed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_live_bytes: Option<u64>,
    /// The same: bytes ever allocated, over the process's life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_allocated_bytes: Option<u64>,
    /// The same: allocations made, over the process's life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_allocations: Option<u64>,
}

/// What a metric's value summarises, written as its `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A single value observed once (the default of `Stress::record`).
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
    /// A percentile of a distribution (from a histogram).
    Percentile,
    /// The smallest value seen.
    Min,
    /// The largest value of a distribution (a histogram's maximum).
    Max,
    /// The first sample.
    Start,
    /// The last sample.
    End,
    /// A trend over samples: a slope, or the growth it amounts to.
    Trend,
    /// A span of time measured once (e.g. back to the steady state).
    Time,
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
            Scope::Percentile => "percentile",
            Scope::Min => "min",
            Scope::Max => "max",
            Scope::Start => "start",
            Scope::End => "end",
            Scope::Trend => "trend",
            Scope::Time => "time",
        }
    }
}

/// A criterion's verdict, as written to the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The criterion as written.
    pub expr: String,
    /// The metric it constrains.
    pub metric: String,
    /// The metric's value, in the metric's own unit; `null` when the run
    /// never measured it.
    pub actual: Option<f64>,
    /// The metric's unit, so `actual` can be read.
    #[serde(with = "crate::model::optional_unit_symbol")]
    pub unit: Option<Unit>,
    /// Whether the criterion holds.
    pub passed: bool,
    /// Why: the comparison with both sides, or what was missing.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::Scope;

    #[test]
    fn a_scope_is_written_as_it_is_named() {
        let all = [
            Scope::Observed,
            Scope::Total,
            Scope::OverallAvg,
            Scope::PerProcessAvg,
            Scope::PerOp,
            Scope::Peak,
            Scope::Binary,
            Scope::PerNodeTotal,
            Scope::PerTestDuration,
            Scope::PerRecoveryOperation,
            Scope::Percentile,
            Scope::Min,
            Scope::Max,
            Scope::Start,
            Scope::End,
            Scope::Trend,
            Scope::Time,
        ];
        for scope in all {
            let written = serde_json::to_string(&scope).unwrap();
            assert_eq!(written, format!("\"{}\"", scope.as_str()));
            assert_eq!(serde_json::from_str::<Scope>(&written).unwrap(), scope);
        }
        assert!(serde_json::from_str::<Scope>("\"sometimes\"").is_err());
    }
}
