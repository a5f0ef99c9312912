//! `stress-report.json` (`brunt.stress-report/v1`) as types: the one shape
//! the JSON renderer writes and `--merge` reads back, so the two cannot
//! drift apart. Dashboards read this file; every field is documented.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use brunt_report::input::InputKind;
use brunt_report::{ChaosLogEntry, FaultShare, Finding, Scope, Step};

use crate::baseline::Comparison;
use crate::model::{
    SUITE_SCHEMA, Suite, SuiteError, SuiteMeta, expect_schema, load_reports, read_json,
};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteFile {
    /// Always [`SUITE_SCHEMA`](crate::SUITE_SCHEMA).
    pub schema: String,
    /// Where and how the suite ran.
    pub meta: SuiteMeta,
    /// The suite's totals and verdict.
    pub summary: SuiteSummary,
    /// Every scenario, sorted by name.
    pub scenarios: Vec<ScenarioSummary>,
    /// This run against a baseline, when one was given.
    pub comparison: Option<Comparison>,
}

/// The suite's totals and verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteSummary {
    /// Every scenario passed, the runner too, and no metric regressed.
    pub passed: bool,
    /// How many scenarios ran.
    pub scenarios: usize,
    /// How many scenarios ended each way, keyed by outcome (`passed`, …).
    pub outcomes: BTreeMap<String, usize>,
    /// Every criterion that failed, across the suite.
    pub failed_criteria: Vec<FailedCriterionEntry>,
    /// Ops of every scenario, added.
    pub ops: SuiteTotal,
    /// Failed ops of every scenario, added.
    pub errors: SuiteTotal,
    /// The suite's latency from every scenario's histograms merged.
    pub latency: SuiteLatency,
    /// How alike the scenarios' throughputs are, when two or more have one.
    pub throughput_consistency: Option<ThroughputConsistency>,
}

/// A criterion that failed, named by its scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedCriterionEntry {
    /// The scenario's name.
    pub scenario: String,
    /// The criterion as declared.
    pub expr: String,
    /// Why it failed.
    pub reason: String,
}

/// A count added over the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteTotal {
    /// The sum.
    pub value: f64,
    /// Always `count`.
    pub unit: String,
    /// Always `total`.
    pub scope: Scope,
    /// Always `exact count`.
    pub precision: String,
}

impl SuiteTotal {
    /// An exact count over the suite.
    pub(crate) fn count(value: f64) -> SuiteTotal {
        SuiteTotal {
            value,
            unit: "count".into(),
            scope: Scope::Total,
            precision: "exact count".into(),
        }
    }
}

/// The suite's latency: per histogram family (`latency`, `service_time`,
/// `op.<name>.latency`, …), or why the histograms could not be merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SuiteLatency {
    /// Percentiles of each family's merged histogram.
    Families(BTreeMap<String, LatencySummary>),
    /// A report's histogram did not decode.
    Error {
        /// What went wrong, naming the report.
        error: String,
    },
}

/// Percentiles of one merged histogram, in nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Always `ns`.
    pub unit: String,
    /// Always `percentile`.
    pub scope: Scope,
    /// How exact the figures are.
    pub precision: String,
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest value.
    pub max: u64,
}

/// The spread of the scenarios' throughputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThroughputConsistency {
    /// Scenarios with a throughput.
    pub scenarios: usize,
    /// Their mean, per second.
    pub mean: f64,
    /// Their standard deviation, per second.
    pub sd: f64,
    /// The coefficient of variation, %, when the mean is not zero.
    pub cv_pct: Option<f64>,
    /// Always `/s`.
    pub unit: String,
}

/// One scenario's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    /// Trial name (`kernel::throughput`).
    pub name: String,
    /// Module path.
    pub module: String,
    /// Source file.
    pub file: String,
    /// Line of the attribute.
    pub line: u32,
    /// Tags as declared.
    pub tags: Vec<String>,
    /// `passed`, `failed`, `error`, `crashed` or `timed_out`.
    pub outcome: String,
    /// Why it did not pass.
    pub reason: Option<String>,
    /// Whether its figures are suspect (the machine was contended).
    pub tainted: bool,
    /// Whether it failed, then passed on a rerun.
    pub flaky: bool,
    /// Every run of it, reruns included, when there were reruns.
    pub attempts: Vec<brunt_report::Attempt>,
    /// The seed it ran under.
    pub seed: u64,
    /// `BRUNT_SCALE` it ran at.
    pub scale: f64,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of its body, ms.
    pub wall_ms: f64,
    /// The one command that runs it again.
    pub command: String,
    /// Every metric, by name.
    pub metrics: BTreeMap<String, SuiteMetric>,
    /// Every criterion with its verdict.
    pub criteria: Vec<CriterionEntry>,
    /// The metrics that are limits the scenario found (`limit.*`).
    pub limits: Vec<String>,
    /// What the analysis noticed.
    pub findings: Vec<Finding>,
    /// An escalation's steps, when it escalated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Its chaos run, when it ran one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<ChaosSummary>,
}

/// One metric of a scenario, with how exact it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteMetric {
    /// The figure (`null` when it could not be measured).
    pub value: Option<f64>,
    /// Its unit's symbol.
    pub unit: String,
    /// What it is over (`overall_avg`, `peak`, …).
    pub scope: Scope,
    /// How it was measured and how exact it is.
    pub precision: String,
    /// A caveat the run recorded, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One criterion of a scenario and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionEntry {
    /// The criterion as declared.
    pub expr: String,
    /// The metric it constrains.
    pub metric: String,
    /// Its bound, as written (`<= 20ms`).
    pub target: String,
    /// The value measured, in `unit`.
    pub actual: Option<f64>,
    /// The unit of `actual`.
    pub unit: Option<String>,
    /// Whether it held.
    pub passed: bool,
    /// Why it held or not.
    pub reason: String,
}

/// A scenario's chaos run, in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChaosSummary {
    /// The seed the schedule was drawn from.
    pub seed: u64,
    /// Fingerprint of the schedule.
    pub schedule_digest: String,
    /// Faults planned.
    pub planned: u32,
    /// Faults that ran.
    pub ran: usize,
    /// Each fault's share of the schedule.
    pub distribution: Vec<FaultShare>,
    /// The smallest failing schedule, when shrinking found one.
    pub minimal: Option<Vec<ChaosLogEntry>>,
    /// The one command that replays it.
    pub replay: Option<String>,
}

/// Reads the output directory of one `stress-report` run (a shard's, for
/// `--merge`): the run's `meta` from `stress-report.json` and the
/// scenario reports under `reports/`.
pub fn load_run_dir(dir: &Path) -> Result<Suite, SuiteError> {
    let path = dir.join("stress-report.json");
    let value = read_json(Some(dir), &path, InputKind::Suite)?;
    expect_schema(&path, &value, SUITE_SCHEMA)?;
    let file: SuiteFile = serde_json::from_value(value).map_err(|e| SuiteError::Corrupt {
        path: path.clone(),
        detail: format!("it does not parse as {SUITE_SCHEMA}: {e}"),
    })?;
    let reports = load_reports(&dir.join("reports"))?;
    Ok(Suite {
        meta: file.meta,
        reports,
    })
}
