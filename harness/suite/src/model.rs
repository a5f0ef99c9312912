//! A suite: every scenario report of one run of a stress suite (or of
//! several shards merged), with the run's circumstances. Loaded from the
//! reports the runner wrote; everything else in this module reads it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use brunt_report::input::{InputError, InputKind};
use brunt_report::{Host, Outcome, Report, SCHEMA, decode_histogram, merge_histograms};

/// The schema identifier of `stress-report.json`.
pub const SUITE_SCHEMA: &str = "brunt.stress-report/v1";

/// The schema identifier of a saved baseline (a [`Suite`], reports whole).
pub const BASELINE_SCHEMA: &str = "brunt.baseline/v1";

/// One run of a suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suite {
    /// The run's circumstances.
    pub meta: SuiteMeta,
    /// Every scenario's report, sorted by scenario name.
    pub reports: Vec<Report>,
}

/// Where and how a suite ran.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SuiteMeta {
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// The commit that ran (`git rev-parse HEAD`), if known.
    pub git_commit: Option<String>,
    /// Whether the work tree had uncommitted changes.
    #[serde(default)]
    pub git_dirty: bool,
    /// The machine (of the first report; shards may have run elsewhere).
    pub host: Option<Host>,
    /// `BRUNT_SCALE` of every scenario.
    pub scale: f64,
    /// `BRUNT_SEED`, when the run set one (else each scenario's own seed,
    /// in its report).
    pub seed: Option<u64>,
    /// The test target that ran (`cargo test --test <target>`).
    pub test_target: String,
    /// The command that ran the scenarios, before its own arguments:
    /// `cargo test --test stress --`, or a test executable's path.
    #[serde(default)]
    pub runner: String,
    /// Filters the run was given.
    #[serde(default)]
    pub filters: Vec<String>,
    /// The partition this run covered, when it ran one shard.
    pub shard: Option<Shard>,
    /// The runner's exit code when it failed although every report it wrote
    /// passed (a changed snapshot, a scenario that wrote no report): the
    /// run failed for a reason the reports do not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_failed: Option<String>,
    /// Merged runs only: the shards merged, as `I/N`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_shards: Vec<Shard>,
    /// Brunt's version.
    pub brunt_version: String,
}

/// `--shard I/N`: the I-th of N deterministic partitions of the scenarios
/// (1-based, as nextest's `--partition count:I/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    /// Which partition, 1 ..= `count`.
    pub index: u32,
    /// How many partitions.
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard: expected I/N with 1 <= I <= N, e.g. 2/3");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// This shard's scenarios among `names`: sorted by name, every
    /// `count`-th from the `index`-th. The same names give the same
    /// partition on every machine, and the partitions cover every name
    /// exactly once.
    pub fn select(&self, names: &[String]) -> Vec<String> {
        let mut sorted: Vec<&String> = names.iter().collect();
        sorted.sort();
        sorted.dedup();
        sorted
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i as u32 % self.count == self.index - 1)
            .map(|(_, n)| n.clone())
            .collect()
    }
}

/// Why a suite could not be loaded or merged.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A path that is not a file Brunt reads (a FIFO, a device, a link out
    /// of its directory, over its size cap).
    #[error("{detail}")]
    Refused {
        /// What is wrong, naming the file.
        detail: String,
    },
    /// A file is not what it claims to be.
    #[error("{path} is corrupt: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A directory holds no scenario report.
    #[error("{dir} holds no scenario report (`*.json` with schema `{SCHEMA}`)")]
    NoReports {
        /// The directory.
        dir: PathBuf,
    },
    /// Two merged runs both ran one scenario.
    #[error("scenario `{name}` is in both {first} and {second}: shards of one run never overlap")]
    Overlap {
        /// The scenario.
        name: String,
        /// One run's directory.
        first: PathBuf,
        /// The other's.
        second: PathBuf,
    },
    /// The shards merged are not one whole partition.
    #[error("the merge is incomplete: {detail}")]
    Incomplete {
        /// What is missing or mixed.
        detail: String,
    },
    /// Merged runs differ where they must not.
    #[error("{first} and {second} cannot be merged: {detail}")]
    Mismatch {
        /// One run's directory.
        first: PathBuf,
        /// The other's.
        second: PathBuf,
        /// What differs.
        detail: String,
    },
}

/// Reads `path` as JSON of `kind` (a regular file under the kind's size cap;
/// when `dir` is given, an entry of it that stays inside); an unreadable
/// file or one that is not JSON is an error naming it.
pub(crate) fn read_json(
    dir: Option<&Path>,
    path: &Path,
    kind: InputKind,
) -> Result<serde_json::Value, SuiteError> {
    let read = match dir {
        Some(dir) => brunt_report::input::read_in_dir(dir, path, kind),
        None => brunt_report::input::read_file(path, kind),
    };
    let text = read.map_err(|e| match e {
        InputError::Io { path, source } => SuiteError::Read { path, source },
        refused => SuiteError::Refused {
            detail: refused.to_string(),
        },
    })?;
    serde_json::from_slice(&text).map_err(|e| SuiteError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("not JSON: {e}"),
    })
}

/// An error unless `value`'s `schema` is `expected`.
pub(crate) fn expect_schema(
    path: &Path,
    value: &serde_json::Value,
    expected: &str,
) -> Result<(), SuiteError> {
    let schema = value.get("schema").and_then(|s| s.as_str());
    if schema == Some(expected) {
        return Ok(());
    }
    Err(SuiteError::Corrupt {
        path: path.to_path_buf(),
        detail: format!(
            "schema is {}, expected `{expected}`",
            schema.map_or("missing".to_string(), |s| format!("`{s}`"))
        ),
    })
}

/// Reads every scenario report in `dir`: the `*.json` files whose `schema`
/// is `brunt.report/v1` (other JSON there, such as a chaos schedule, is
/// not a report). A file that is not JSON, or a report that does not
/// parse, is an error naming the file.
pub fn load_reports(dir: &Path) -> Result<Vec<Report>, SuiteError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SuiteError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    let mut reports = Vec::new();
    for path in paths {
        let value = read_json(Some(dir), &path, InputKind::Report)?;
        if value.get("schema").and_then(|s| s.as_str()) != Some(SCHEMA) {
            continue;
        }
        let report: Report = serde_json::from_value(value).map_err(|e| SuiteError::Corrupt {
            path: path.clone(),
            detail: format!("not a `{SCHEMA}` report: {e}"),
        })?;
        super::checks::check_report(&report).map_err(|detail| SuiteError::Corrupt {
            path: path.clone(),
            detail,
        })?;
        reports.push(report);
    }
    if reports.is_empty() {
        return Err(SuiteError::NoReports {
            dir: dir.to_path_buf(),
        });
    }
    reports.sort_by(|a, b| a.scenario.name.cmp(&b.scenario.name));
    Ok(reports)
}

/// Reads a suite saved whole (a baseline).
pub fn load_suite(path: &Path) -> Result<Suite, SuiteError> {
    let value = read_json(None, path, InputKind::Suite)?;
    expect_schema(path, &value, BASELINE_SCHEMA)?;
    let suite = value
        .get("suite")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let suite: Suite = serde_json::from_value(suite).map_err(|e| SuiteError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("its `suite` does not parse: {e}"),
    })?;
    for (i, report) in suite.reports.iter().enumerate() {
        super::checks::check_report(report).map_err(|detail| SuiteError::Corrupt {
            path: path.to_path_buf(),
            detail: format!(
                "in `suite.reports[{i}]` (`{}`): {detail}",
                report.scenario.name
            ),
        })?;
    }
    Ok(suite)
}

/// `suite` as the file [`load_suite`] reads.
pub fn baseline_file_json(suite: &Suite) -> serde_json::Value {
    serde_json::json!({ "schema": BASELINE_SCHEMA, "suite": suite })
}

impl Suite {
    /// Whether every scenario passed and the runner with them.
    pub fn passed(&self) -> bool {
        self.meta.runner_failed.is_none()
            && self.reports.iter().all(|r| r.outcome == Outcome::Passed)
    }

    /// How many scenarios ended each way, in [`Outcome`] order.
    pub fn outcome_counts(&self) -> Vec<(Outcome, usize)> {
        [
            Outcome::Passed,
            Outcome::Failed,
            Outcome::Error,
            Outcome::Crashed,
            Outcome::TimedOut,
        ]
        .into_iter()
        .map(|o| (o, self.reports.iter().filter(|r| r.outcome == o).count()))
        .collect()
    }

    /// Merges the runs of several shards (each with the directory it came
    /// from, for errors): the union of their scenarios, which must not
    /// overlap, run at the same scale, seed and commit.
    pub fn merge(runs: Vec<(PathBuf, Suite)>) -> Result<Suite, SuiteError> {
        let mut runs = runs.into_iter();
        let Some((first_dir, mut merged)) = runs.next() else {
            return Err(SuiteError::NoReports {
                dir: PathBuf::from("(no directory given)"),
            });
        };
        let mut seen: BTreeMap<String, PathBuf> = merged
            .reports
            .iter()
            .map(|r| (r.scenario.name.clone(), first_dir.clone()))
            .collect();
        merged.meta.merged_shards.extend(merged.meta.shard);
        for (dir, suite) in runs {
            let mismatch = |detail: String| SuiteError::Mismatch {
                first: first_dir.clone(),
                second: dir.clone(),
                detail,
            };
            if suite.meta.scale != merged.meta.scale {
                return Err(mismatch(format!(
                    "scale {} vs {}",
                    merged.meta.scale, suite.meta.scale
                )));
            }
            if suite.meta.seed != merged.meta.seed {
                return Err(mismatch(format!(
                    "seed {:?} vs {:?}",
                    merged.meta.seed, suite.meta.seed
                )));
            }
            if suite.meta.git_commit != merged.meta.git_commit {
                return Err(mismatch(format!(
                    "commit {} vs {}",
                    merged.meta.git_commit.as_deref().unwrap_or("unknown"),
                    suite.meta.git_commit.as_deref().unwrap_or("unknown")
                )));
            }
            for report in suite.reports {
                if let Some(first) = seen.get(&report.scenario.name) {
                    return Err(SuiteError::Overlap {
                        name: report.scenario.name.clone(),
                        first: first.clone(),
                        second: dir.clone(),
                    });
                }
                seen.insert(report.scenario.name.clone(), dir.clone());
                merged.reports.push(report);
            }
            merged.meta.merged_shards.extend(suite.meta.shard);
            merged.meta.git_dirty |= suite.meta.git_dirty;
            if merged.meta.runner_failed.is_none() {
                merged.meta.runner_failed = suite.meta.runner_failed;
            }
            if suite.meta.started_at < merged.meta.started_at {
                merged.meta.started_at = suite.meta.started_at;
            }
        }
        merged.meta.shard = None;
        merged.meta.merged_shards.sort();
        // Nothing is lost: every shard of the partition is there, once.
        let shards = &merged.meta.merged_shards;
        if let Some(count) = shards.first().map(|s| s.count) {
            if shards.iter().any(|s| s.count != count) {
                return Err(SuiteError::Incomplete {
                    detail: format!(
                        "the shards come from different partitions ({})",
                        shard_list(shards)
                    ),
                });
            }
            let missing: Vec<String> = (1..=count)
                .filter(|i| !shards.iter().any(|s| s.index == *i))
                .map(|i| format!("{i}/{count}"))
                .collect();
            if !missing.is_empty() {
                return Err(SuiteError::Incomplete {
                    detail: format!(
                        "shard{} {} missing (merged: {})",
                        if missing.len() == 1 { "" } else { "s" },
                        missing.join(", "),
                        shard_list(shards)
                    ),
                });
            }
        }
        merged
            .reports
            .sort_by(|a, b| a.scenario.name.cmp(&b.scenario.name));
        Ok(merged)
    }

    /// Every scenario's latency histograms added together, by family
    /// (`latency`, `service_time`, …): the suite's latency, exact at the
    /// histograms' resolution. A histogram that does not decode is an
    /// error naming its scenario.
    pub fn merged_histograms(&self) -> Result<BTreeMap<String, Histogram<u64>>, String> {
        let mut total = BTreeMap::new();
        for report in &self.reports {
            total_histograms(report, &mut total)?;
        }
        Ok(total)
    }
}

fn shard_list(shards: &[Shard]) -> String {
    shards
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds one report's histograms (not the per-op ones) to `total`.
fn total_histograms(
    report: &Report,
    total: &mut BTreeMap<String, Histogram<u64>>,
) -> Result<(), String> {
    let mut own = BTreeMap::new();
    for (name, text) in &report.samples.histograms {
        if name.starts_with("op.") {
            continue;
        }
        let h = decode_histogram(name, text)
            .map_err(|e| format!("scenario `{}`: {e}", report.scenario.name))?;
        own.insert(name.clone(), h);
    }
    merge_histograms(total, &own);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_scenario_once_whatever_the_order() {
        let names: Vec<String> = (0..11).map(|i| format!("s{i:02}")).collect();
        let mut reversed = names.clone();
        reversed.reverse();
        let mut all = Vec::new();
        for index in 1..=3 {
            let shard = Shard { index, count: 3 };
            let picked = shard.select(&names);
            assert_eq!(picked, shard.select(&reversed), "order-independent");
            assert!(picked.len() >= 3 && picked.len() <= 4, "{picked:?}");
            all.extend(picked);
        }
        all.sort();
        assert_eq!(all, names);
    }

    #[test]
    fn a_bad_shard_says_what_is_expected() {
        for bad in ["0/3", "4/3", "1/0", "2", "a/b", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("expected I/N"), "{bad}: {e}");
        }
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
    }
}
