//! The report's chaos section: the schedule that ran, each fault and the
//! health check after it, the determinism check and how a failure shrank.

use serde::{Deserialize, Serialize};

/// A chaos run (`Stress::chaos`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChaosSection {
    /// The seed the schedule was drawn from.
    pub seed: u64,
    /// FNV-1a fingerprint of the schedule (index and fault of every planned
    /// fault), 16 hex digits: equal across runs that drew the same schedule.
    pub schedule_digest: String,
    /// Faults planned (`.ops(n)`, or the replayed schedule's length).
    pub planned: u32,
    /// The faults and their weights, as declared.
    pub faults: Vec<FaultWeight>,
    /// `BRUNT_CHECK_DETERMINISM=1`: the schedule drawn a second time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub determinism: Option<DeterminismCheck>,
    /// The schedule file this run replayed (`BRUNT_REPLAY`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_from: Option<String>,
    /// When the first fault began, ms since the run started.
    pub start_ms: f64,
    /// When the last fault's health check ended, ms since the run started.
    pub end_ms: Option<f64>,
    /// What ran, one entry per fault: only what the seed and the system
    /// decide, no times, so the same seed gives the same bytes.
    pub log: Vec<ChaosLogEntry>,
    /// When each fault ran and how long the system took to recover.
    pub timing: Vec<FaultTiming>,
    /// Per fault: how often it ran and how often the system did not recover.
    #[serde(default)]
    pub distribution: Vec<FaultShare>,
    /// The smallest failing schedule shrinking found (its run's log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimal: Option<Vec<ChaosLogEntry>>,
    /// The one command that replays `minimal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
    /// How shrinking went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink: Option<ShrinkSummary>,
    /// The health check once the faults were over and the system had
    /// `settle` to calm down: `null` when it did not run (the run stopped at
    /// a failure), else the error when it failed (`""` when it passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled: Option<SettledCheck>,
}

/// The health check after the last fault and a quiet `settle`: a fault
/// whose damage shows only later (a restart that fails a moment after it
/// seemed to work) is caught here, after the last fault if not before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettledCheck {
    /// When it ended, ms since the run started.
    pub t_ms: f64,
    /// Whether it passed.
    pub healthy: bool,
    /// Its error when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A declared fault and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultWeight {
    /// The fault's name.
    pub fault: String,
    /// Its weight in the draw.
    pub weight: u32,
}

/// One fault as the chaos log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaosLogEntry {
    /// Index in the drawn schedule.
    pub index: u32,
    /// The fault's name.
    pub fault: String,
    /// What it did (`FaultCtx::detail`), e.g. `ballast 3.1 MiB for 200 ms`.
    pub detail: String,
    /// Whether the fault itself ran without error.
    pub ok: bool,
    /// Whether the health check passed (within the recovery allowance)
    /// after it.
    pub healthy: bool,
}

/// When a fault ran and what followed, kept apart from the log because
/// times differ from run to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultTiming {
    /// Index in the drawn schedule.
    pub index: u32,
    /// When the fault began, ms since the run started.
    pub at_ms: f64,
    /// How long the fault took, ms.
    pub fault_ms: f64,
    /// From the fault's end to the first passing health check, ms; `null`
    /// when health did not return within the allowance.
    pub recovery_ms: Option<f64>,
    /// The fault's error, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last failing health check's error, if health did not return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_error: Option<String>,
}

/// How often one fault ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultShare {
    /// The fault's name.
    pub fault: String,
    /// Its declared weight.
    pub weight: u32,
    /// How many times it ran.
    pub count: u32,
    /// Its share of the faults that ran, percent.
    pub share_pct: f64,
    /// How many of its runs the system did not recover from.
    pub failures: u32,
    /// How many of its runs returned an error.
    pub fault_errors: u32,
}

/// The schedule drawn a second time (`BRUNT_CHECK_DETERMINISM=1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeterminismCheck {
    /// Whether both draws were identical, fault for fault.
    pub identical: bool,
    /// The second draw's fingerprint.
    pub digest_again: String,
}

/// How shrinking a failing schedule went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShrinkSummary {
    /// Faults in the failing run's schedule.
    pub original: usize,
    /// Whether replaying the failing run's whole schedule failed again; when
    /// it did not, the failure depends on more than the schedule (timing,
    /// the load) and nothing was shrunk.
    pub reproduced: bool,
    /// Faults in the smallest failing schedule found.
    pub minimal: usize,
    /// Candidate schedules run, each in a fresh child process.
    pub runs: u32,
    /// Wall time spent, ms.
    pub elapsed_ms: f64,
    /// Whether delta debugging finished (the result is 1-minimal: no single
    /// fault can be left out) rather than running out of budget.
    pub complete: bool,
    /// The schedule file of `minimal`.
    pub file: String,
}
