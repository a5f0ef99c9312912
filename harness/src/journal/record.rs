//! [`Record`]: one line of the journal, one thing the run measured or did.

use serde::{Deserialize, Serialize};

use brunt_report::{Event, Finding, MetricValue, RunInfo, SamplePoint, ScenarioInfo, Step};

/// One line of the journal. Written as it happens by whoever measured it
/// (the scenario's handle, the load models, the sampler, chaos); read only
/// by the fold ([`crate::analysis::fold`]) and by the parent's live views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Record {
    /// First line: what runs and how.
    Start {
        scenario: Box<ScenarioInfo>,
        run: Box<RunInfo>,
    },
    /// A resource sample of one process.
    Sample {
        process: String,
        pid: u32,
        point: SamplePoint,
    },
    /// Ops and errors counted so far (measured ops only).
    Progress { t_ms: f64, ops: u64, errors: u64 },
    /// A timeline event.
    Event(Event),
    /// A phase began (ending the previous one).
    Phase { name: String, t_ms: f64 },
    /// Warm-up ended; leak baselines start here.
    WarmupEnd { t_ms: f64 },
    /// A finding.
    Finding(Finding),
    /// A custom metric.
    Metric { name: String, value: MetricValue },
    /// An escalation step finished.
    Step(Step),
    /// `Stress::watch_pid`: a process sampled as `target` from now on (the
    /// parent's memory guard watches it too).
    Watch { pid: u32, t_ms: f64 },
    /// One driver thread's measured ops of one second, for the per-second
    /// series (written as they are cut, so the recorder's memory stays flat).
    LoadSlice(super::Slice),
    /// The merged measurements of one `drive` (or escalation step) when it
    /// ended, so a run that dies later keeps its latency histograms.
    DriveTotals(Box<super::SavedTotals>),
    /// A chaos run began: its schedule's fingerprint and settings (the log
    /// is empty; steps follow).
    ChaosStart(Box<brunt_report::ChaosSection>),
    /// One fault of the chaos run ran and the health check after it ended.
    ChaosStep {
        entry: brunt_report::ChaosLogEntry,
        timing: brunt_report::FaultTiming,
    },
    /// The chaos run ended (with the settled health check, if it ran).
    ChaosEnd {
        t_ms: f64,
        #[serde(default)]
        settled: Option<brunt_report::SettledCheck>,
    },
    /// A chaos fault is about to stop process `pid` (`SIGSTOP`): until a
    /// `continued` follows, the runner continues it when the scenario ends,
    /// however it ends.
    Stopped { pid: u32, t_ms: f64 },
    /// Process `pid` was continued (`SIGCONT`).
    Continued { pid: u32, t_ms: f64 },
    /// A point of a scenario's own series (`Stress::record_point`).
    Point {
        series: String,
        #[serde(with = "brunt_report::unit_symbol")]
        unit: brunt_grammar::Unit,
        point: brunt_report::CustomPoint,
    },
    /// The child finished: its body returned (or panicked), the sampler and
    /// the runtime stopped. Nothing after it belongs to the run; a journal
    /// without it is a child that died.
    End {
        /// When the last phase ends, milliseconds since the run started.
        t_ms: f64,
        /// The run's wall time, to the body's return.
        wall_ms: f64,
        /// The sampler thread's own CPU use, percent of one core.
        sampler_cpu_percent: Option<f64>,
    },
}
