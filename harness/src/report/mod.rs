//! The report: a plain serde model (`<name>.json`, schema
//! `brunt.report/v1`), the stream a running child appends to (`<name>.jsonl`)
//! so a crash loses at most one sampling interval, the atomic writer, and the
//! renderers that read the model without measuring anything.

mod format;
mod histogram;
pub(crate) mod model;
mod snapshot;
mod stream;
mod terminal;
mod writer;

pub use format::format_value;
pub(crate) use histogram::encode_histogram;
pub use histogram::{HistogramError, decode_histogram, merge_histograms};
pub(crate) use model::push_point;
pub use model::{
    Attempt, BuildInfo, ChaosLogEntry, ChaosSection, CustomPoint, CustomSeries, DeterminismCheck,
    Event, FaultShare, FaultTiming, FaultWeight, Finding, Host, LoadBin, LoadBins, LoadPoint,
    MetricValue, Outcome, Phase, Report, RunInfo, SCHEMA, SamplePoint, Samples, ScenarioInfo,
    Series, Settings, SettledCheck, Severity, ShrinkSummary, Step,
};
pub(crate) use snapshot::{SnapshotCheck, check_snapshot, unreferenced_snapshots};
pub(crate) use stream::{StreamRecord, StreamTail, StreamWriter, read_stream};
pub(crate) use terminal::render_verdict;
pub(crate) use writer::{ReportPaths, write_report};
