//! The report: a plain serde model (`<name>.json`, schema
//! `brunt.report/v1`), the atomic writer, the histogram codec and how a
//! value is written for people. Plain data: what a run came to is said by
//! the runner (`runner/terminal.rs`), what a suite came to by `brunt-suite`.

mod format;
mod histogram;
pub(crate) mod model;
mod writer;

pub use format::format_value;
pub(crate) use histogram::encode_histogram;
pub use histogram::{HistogramError, decode_histogram, merge_histograms};
pub(crate) use model::push_point;
pub use model::{
    Attempt, BuildInfo, ChaosLogEntry, ChaosSection, CustomPoint, CustomSeries, DeterminismCheck,
    Event, FaultShare, FaultTiming, FaultWeight, Finding, Host, LoadBin, LoadBins, LoadPoint,
    MetricValue, Outcome, Phase, Report, RunInfo, SCHEMA, SamplePoint, Samples, ScenarioInfo,
    Scope, Series, Settings, SettledCheck, Severity, ShrinkSummary, Step, Verdict,
};
pub(crate) use writer::{ReportPaths, write_report};
