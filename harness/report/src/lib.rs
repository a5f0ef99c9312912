//! The files Brunt writes and reads, as plain data: a scenario's report
//! (`<name>.json`, schema `brunt.report/v1`) with its histogram codec, the chaos schedule file (`brunt.chaos-schedule/v1`), how
//! a value is written for people, and [`input`], the one way a file Brunt is
//! handed is read.
//!
//! A crate of its own because two programs share it and neither should
//! carry the other: `brunt` (what a scenario binary runs) writes these files,
//! `brunt-suite` (`cargo xtask stress-report`) reads them. Nothing here
//! measures or decides; what a run came to is decided by `brunt`'s analysis,
//! what a suite came to by `brunt-suite`.
#![warn(missing_docs)]

mod chaos;
mod format;
mod histogram;
pub mod input;
mod model;
mod schedule;

pub use chaos::{
    ChaosLogEntry, ChaosSection, DeterminismCheck, FaultShare, FaultTiming, FaultWeight,
    SettledCheck, ShrinkSummary,
};
pub use format::format_value;
pub use histogram::{HistogramError, decode_histogram, encode_histogram, merge_histograms};
pub use model::{
    Attempt, BuildInfo, CustomPoint, CustomSeries, Event, Finding, Host, LoadBin, LoadBins,
    LoadPoint, MetricValue, Outcome, Phase, Report, RunInfo, SCHEMA, SamplePoint, Samples,
    ScenarioInfo, Scope, SegmentInfo, Series, Settings, Severity, Step, Verdict,
    optional_unit_symbol, push_point, unit_symbol,
};
pub use schedule::{SCHEDULE_SCHEMA, ScheduleFile, ScheduleFileError, ScheduledFault};
