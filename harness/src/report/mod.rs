//! The report: a plain serde model (`<name>.json`, schema
//! `brunt.report/v1`), the atomic writer, the histogram codec and how a
//! value is written for people. Plain data: what a run came to is said by
//! the runner (`runner/terminal.rs`), what a suite came to by `brunt-suite`.

mod chaos;
mod format;
mod histogram;
pub(crate) mod model;
mod writer;

pub use chaos::{
    ChaosLogEntry, ChaosSection, DeterminismCheck, FaultShare, FaultTiming, FaultWeight,
    SettledCheck, ShrinkSummary,
};
pub use format::format_value;
pub(crate) use histogram::encode_histogram;
pub use histogram::{HistogramError, decode_histogram, merge_histograms};
pub(crate) use model::push_point;
pub use model::{
    Attempt, BuildInfo, CustomPoint, CustomSeries, Event, Finding, Host, LoadBin, LoadBins,
    LoadPoint, MetricValue, Outcome, Phase, Report, RunInfo, SCHEMA, SamplePoint, Samples,
    ScenarioInfo, Scope, Series, Settings, Severity, Step, Verdict,
};
pub(crate) use writer::{ReportPaths, write_report};
