//! Baselines, as criterion keeps them: a run saved on disk under a name
//! (`<target>/stress-baselines/<name>/baseline.json`), and the comparison
//! of a later run with it.
//!
//! A metric counts as regressed only when three things hold: it moved the
//! wrong way; its relative change is past the tolerance (default 10 %);
//! and the bootstrap confidence interval of that change lies wholly outside
//! the noise band (±1 %, criterion's `noise_threshold`), so the change is
//! not what the run's own second-to-second variation would give. The
//! samples are the run's repeated measurements of the metric — one per
//! second for throughput, success rate and latency percentiles — so only
//! metrics measured repeatedly are judged; a metric measured once per run
//! is shown with its change and never judged: one value says nothing about
//! noise. CPU is sampled repeatedly too, but its samples are quantised to
//! the kernel's tick and move with the machine's state from run to run far
//! more than within a run (an unchanged build measured +31 % with an
//! interval of +17 … +46 % here): an interval within one run would call
//! that noise a change, so CPU is shown, not judged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::{Suite, SuiteError, baseline_file_json, load_suite};
use crate::stats::{RESAMPLES, RelativeChange, relative_change};
use brunt_report::Report;

/// Where baselines live: one directory per name.
#[derive(Debug, Clone)]
pub struct BaselineStore {
    root: PathBuf,
}

/// Why a baseline could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The name cannot name a directory.
    #[error(
        "`{0}` is not a baseline name: use letters, digits, `-`, `_` and `.`, not starting with `.`"
    )]
    BadName(String),
    /// No baseline of that name.
    #[error("no baseline `{name}`: {path} does not exist{saved}")]
    Missing {
        /// The name asked for.
        name: String,
        /// Where it would be.
        path: PathBuf,
        /// The names that do exist, as text.
        saved: String,
    },
    /// The file is there and unreadable or corrupt.
    #[error("baseline `{name}`: {source}")]
    Suite {
        /// The name.
        name: String,
        /// What is wrong with its file.
        source: SuiteError,
    },
    /// Writing failed.
    #[error("cannot save baseline `{name}` to {path}: {source}")]
    Write {
        /// The name.
        name: String,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl BaselineStore {
    /// Baselines under `root` (the command uses
    /// `<target dir>/stress-baselines`).
    pub fn new(root: impl Into<PathBuf>) -> BaselineStore {
        BaselineStore { root: root.into() }
    }

    /// The file of baseline `name`.
    pub fn path(&self, name: &str) -> Result<PathBuf, BaselineError> {
        let ok = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(BaselineError::BadName(name.to_string()));
        }
        Ok(self.root.join(name).join("baseline.json"))
    }

    /// Saves `suite` as baseline `name`, replacing an older one.
    pub fn save(&self, name: &str, suite: &Suite) -> Result<PathBuf, BaselineError> {
        let path = self.path(name)?;
        let write = |path: &Path| -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            let temp = path.with_extension("json.tmp");
            std::fs::write(&temp, serde_json::to_vec(&baseline_file_json(suite))?)?;
            std::fs::rename(&temp, path)
        };
        write(&path).map_err(|source| BaselineError::Write {
            name: name.to_string(),
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Reads baseline `name`.
    pub fn load(&self, name: &str) -> Result<Suite, BaselineError> {
        let path = self.path(name)?;
        if !path.exists() {
            let mut saved: Vec<String> = std::fs::read_dir(&self.root)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("baseline.json").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            saved.sort();
            let saved = if saved.is_empty() {
                " (no baseline saved yet: run with `--save-baseline NAME` first)".to_string()
            } else {
                format!(" (saved: {})", saved.join(", "))
            };
            return Err(BaselineError::Missing {
                name: name.to_string(),
                path,
                saved,
            });
        }
        load_suite(&path).map_err(|source| BaselineError::Suite {
            name: name.to_string(),
            source,
        })
    }
}

/// How a metric is judged: which way is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
}

/// What the comparison concluded for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeVerdict {
    /// Worse past the tolerance and the noise.
    Regressed,
    /// Better past the tolerance and the noise.
    Improved,
    /// Within the tolerance or the noise.
    NoChange,
    /// Measured once per run (or with no direction): shown, not judged.
    NotJudged,
}

impl ChangeVerdict {
    /// As written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeVerdict::Regressed => "regressed",
            ChangeVerdict::Improved => "improved",
            ChangeVerdict::NoChange => "no change",
            ChangeVerdict::NotJudged => "not judged",
        }
    }
}

/// One metric of one scenario, baseline against this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricChange {
    /// The scenario.
    pub scenario: String,
    /// The metric.
    pub metric: String,
    /// Its unit's symbol.
    pub unit: String,
    /// The baseline's value.
    pub base: Option<f64>,
    /// This run's value.
    pub new: Option<f64>,
    /// `new / base − 1`, percent, of the values.
    pub change_pct: Option<f64>,
    /// Judged metrics: the change of the samples' mean with its confidence
    /// interval, percent.
    pub sampled: Option<SampledChange>,
    /// The conclusion.
    pub verdict: ChangeVerdict,
}

/// The change of a metric's repeated samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampledChange {
    /// Samples in the baseline and in this run.
    pub samples: (usize, usize),
    /// Change of the mean, percent.
    pub change_pct: f64,
    /// The confidence interval, percent.
    pub ci_pct: (f64, f64),
}

/// A scenario the comparison refused: its load differed from the
/// baseline's, so its numbers are not comparable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    /// The scenario.
    pub scenario: String,
    /// What differed.
    pub reason: String,
}

/// This run against a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline's name.
    pub baseline: String,
    /// The commit it ran.
    pub baseline_commit: Option<String>,
    /// When it ran.
    pub baseline_started_at: String,
    /// Relative tolerance, percent.
    pub tolerance_pct: f64,
    /// Noise threshold, percent.
    pub noise_pct: f64,
    /// Significance level of the confidence intervals.
    pub significance: f64,
    /// Every metric present in both runs, scenario by scenario.
    pub changes: Vec<MetricChange>,
    /// Scenarios not compared, and why.
    pub refused: Vec<Refusal>,
    /// Scenarios this run has and the baseline does not.
    pub new_scenarios: Vec<String>,
    /// Scenarios the baseline has and this run does not.
    pub missing_scenarios: Vec<String>,
}

/// How to compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    /// Relative tolerance, percent.
    pub tolerance_pct: f64,
    /// Noise threshold, percent.
    pub noise_pct: f64,
    /// Significance level.
    pub significance: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            tolerance_pct: 10.0,
            noise_pct: 1.0,
            significance: 0.05,
        }
    }
}

impl Comparison {
    /// The metrics that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &MetricChange> {
        self.changes
            .iter()
            .filter(|c| c.verdict == ChangeVerdict::Regressed)
    }

    /// The metrics that improved.
    pub fn improvements(&self) -> impl Iterator<Item = &MetricChange> {
        self.changes
            .iter()
            .filter(|c| c.verdict == ChangeVerdict::Improved)
    }

    /// The metrics that moved past the tolerance and the noise, either way:
    /// the rows of a regressions table.
    pub fn changed(&self) -> Vec<&MetricChange> {
        self.changes
            .iter()
            .filter(|c| {
                matches!(
                    c.verdict,
                    ChangeVerdict::Regressed | ChangeVerdict::Improved
                )
            })
            .collect()
    }

    /// How many judged metrics did not move past the tolerance and noise.
    pub fn unchanged(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.verdict == ChangeVerdict::NoChange)
            .count()
    }
}

/// Compares `run` with `baseline` (named `name`).
pub fn compare(name: &str, baseline: &Suite, run: &Suite, options: CompareOptions) -> Comparison {
    let mut comparison = Comparison {
        baseline: name.to_string(),
        baseline_commit: baseline.meta.git_commit.clone(),
        baseline_started_at: baseline.meta.started_at.clone(),
        tolerance_pct: options.tolerance_pct,
        noise_pct: options.noise_pct,
        significance: options.significance,
        changes: Vec::new(),
        refused: Vec::new(),
        new_scenarios: Vec::new(),
        missing_scenarios: baseline
            .reports
            .iter()
            .filter(|b| {
                !run.reports
                    .iter()
                    .any(|r| r.scenario.name == b.scenario.name)
            })
            .map(|b| b.scenario.name.clone())
            .collect(),
    };
    for report in &run.reports {
        let Some(base) = baseline
            .reports
            .iter()
            .find(|b| b.scenario.name == report.scenario.name)
        else {
            comparison.new_scenarios.push(report.scenario.name.clone());
            continue;
        };
        if let Some(reason) = incomparable(base, report) {
            comparison.refused.push(Refusal {
                scenario: report.scenario.name.clone(),
                reason,
            });
            continue;
        }
        for (metric, value) in &report.metrics {
            let Some(base_value) = base.metrics.get(metric) else {
                continue;
            };
            comparison.changes.push(compare_metric(
                base,
                report,
                metric,
                base_value.value,
                value.value,
                value.unit.symbol(),
                options,
            ));
        }
    }
    comparison
}

/// Why two runs of a scenario are not comparable, if they are not: a
/// different scale, or a different declared load (duration, iterations,
/// concurrency, rate, …, seed when one is declared).
fn incomparable(base: &Report, run: &Report) -> Option<String> {
    let mut differ = Vec::new();
    if base.run.scale != run.run.scale {
        differ.push(format!("scale {} vs {}", base.run.scale, run.run.scale));
    }
    // The load as declared (before scaling): the effective settings also
    // hold what the machine decides (a memory limit from free memory, a
    // seed drawn per run when none is declared).
    let a = serde_json::to_value(&base.scenario.declared).unwrap_or_default();
    let b = serde_json::to_value(&run.scenario.declared).unwrap_or_default();
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        // Both sides' keys: a setting only one run declares differs too.
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let null = serde_json::Value::Null;
        for key in keys {
            let (va, vb) = (a.get(key).unwrap_or(&null), b.get(key).unwrap_or(&null));
            if va != vb {
                differ.push(format!("{key} {va} vs {vb}"));
            }
        }
    }
    (!differ.is_empty()).then(|| {
        format!(
            "load settings differ from the baseline's ({}): not compared",
            differ.join(", ")
        )
    })
}

fn better(metric: &str) -> Option<Better> {
    match metric {
        "throughput" | "success_rate" => Some(Better::Higher),
        "latency.p50" | "latency.p90" | "latency.p99" => Some(Better::Lower),
        _ => None,
    }
}

/// The run's repeated samples of `metric`, for the metrics judged.
fn samples(report: &Report, metric: &str) -> Option<Vec<f64>> {
    let load = &report.samples.load;
    let seconds = crate::stats::load_seconds(report);
    // The first and last seconds are partial: their counts are not a
    // second's throughput.
    let whole = if seconds.len() >= 3 {
        &seconds[1..seconds.len() - 1]
    } else {
        &seconds[..]
    };
    let values: Vec<f64> = match metric {
        "throughput" => whole
            .iter()
            .map(|&(_, ops, errors)| (ops - errors.min(ops)) as f64)
            .collect(),
        "success_rate" => whole
            .iter()
            .filter(|(_, ops, _)| *ops > 0)
            .map(|&(_, ops, errors)| 100.0 * (ops - errors.min(ops)) as f64 / ops as f64)
            .collect(),
        "latency.p50" => load.iter().filter_map(|p| p.latency_p50_ns).collect(),
        "latency.p90" => load.iter().filter_map(|p| p.latency_p90_ns).collect(),
        "latency.p99" => load.iter().filter_map(|p| p.latency_p99_ns).collect(),

        _ => return None,
    };
    Some(values)
}

fn compare_metric(
    base_report: &Report,
    report: &Report,
    metric: &str,
    base: Option<f64>,
    new: Option<f64>,
    unit: &str,
    options: CompareOptions,
) -> MetricChange {
    let change_pct = match (base, new) {
        (Some(b), Some(n)) if b != 0.0 => Some(100.0 * (n / b - 1.0)),
        _ => None,
    };
    let sampled = better(metric).and_then(|direction| {
        let b = samples(base_report, metric)?;
        let n = samples(report, metric)?;
        let change = relative_change(&b, &n, options.significance, RESAMPLES)?;
        Some((direction, b.len(), n.len(), change))
    });
    let (verdict, sampled) = match sampled {
        None => (ChangeVerdict::NotJudged, None),
        Some((direction, nb, nn, c)) => {
            let verdict = judge(direction, c, options);
            (
                verdict,
                Some(SampledChange {
                    samples: (nb, nn),
                    change_pct: 100.0 * c.point,
                    ci_pct: (100.0 * c.lower, 100.0 * c.upper),
                }),
            )
        }
    };
    MetricChange {
        scenario: report.scenario.name.clone(),
        metric: metric.to_string(),
        unit: unit.to_string(),
        base,
        new,
        change_pct,
        sampled,
        verdict,
    }
}

fn judge(direction: Better, c: RelativeChange, options: CompareOptions) -> ChangeVerdict {
    let tolerance = options.tolerance_pct / 100.0;
    let noise = options.noise_pct / 100.0;
    let up = c.point > tolerance && c.lower > noise;
    let down = c.point < -tolerance && c.upper < -noise;
    match (direction, up, down) {
        (Better::Lower, true, _) | (Better::Higher, _, true) => ChangeVerdict::Regressed,
        (Better::Lower, _, true) | (Better::Higher, true, _) => ChangeVerdict::Improved,
        _ => ChangeVerdict::NoChange,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(point: f64, lower: f64, upper: f64) -> RelativeChange {
        RelativeChange {
            point,
            lower,
            upper,
        }
    }

    #[test]
    fn a_regression_needs_the_tolerance_and_an_interval_clear_of_the_noise() {
        let o = CompareOptions::default();
        // 30 % slower, tight interval: regressed.
        assert_eq!(
            judge(Better::Lower, change(0.30, 0.25, 0.35), o),
            ChangeVerdict::Regressed
        );
        // Past the tolerance but the interval reaches into the noise.
        assert_eq!(
            judge(Better::Lower, change(0.30, 0.005, 0.6), o),
            ChangeVerdict::NoChange
        );
        // Clearly real but within the tolerance.
        assert_eq!(
            judge(Better::Lower, change(0.05, 0.04, 0.06), o),
            ChangeVerdict::NoChange
        );
        // Throughput down 30 %: regressed; up 30 %: improved.
        assert_eq!(
            judge(Better::Higher, change(-0.3, -0.35, -0.25), o),
            ChangeVerdict::Regressed
        );
        assert_eq!(
            judge(Better::Higher, change(0.3, 0.25, 0.35), o),
            ChangeVerdict::Improved
        );
    }

    #[test]
    fn a_bad_or_missing_baseline_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = BaselineStore::new(dir.path());
        let e = store.load("main").unwrap_err().to_string();
        assert!(
            e.contains("no baseline `main`") && e.contains("baseline.json"),
            "{e}"
        );
        std::fs::create_dir_all(dir.path().join("main")).unwrap();
        std::fs::write(dir.path().join("main/baseline.json"), "{ truncated").unwrap();
        let e = store.load("main").unwrap_err().to_string();
        assert!(e.contains("main/baseline.json is corrupt: not JSON"), "{e}");
        std::fs::write(
            dir.path().join("main/baseline.json"),
            r#"{"schema":"other"}"#,
        )
        .unwrap();
        let e = store.load("main").unwrap_err().to_string();
        assert!(
            e.contains("schema is `other`, expected `brunt.baseline/v1`"),
            "{e}"
        );
        assert!(matches!(store.path("../x"), Err(BaselineError::BadName(_))));
    }
}
