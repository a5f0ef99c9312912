//! The suite: every scenario report of one run, aggregated into the
//! artifacts CI and people read (`cargo xtask stress-report`). Data flows
//! one way: reports on disk → [`Suite`] → [`Comparison`] with a baseline →
//! renderers. Renderers read; nothing here measures.
//!
//! - [`model`](Suite): loading, shards, merging runs (exact, through the
//!   reports' HDR histograms);
//! - [`baseline`](BaselineStore): saved runs and the comparison with one,
//!   judged as criterion judges benchmarks;
//! - renderers: [`render_markdown`], [`render_json`] (a [`SuiteFile`], the
//!   type `--merge` reads back), [`render_junit`], [`render_html`];
//! - the command: [`xtask_main`], [`stress_report`].
//!
//! A crate of its own, apart from `brunt`: a scenario binary runs scenarios
//! and writes their reports; what aggregates and draws them (clap, plotters,
//! quick-junit, `git` and `cargo metadata` calls) belongs to the xtask that
//! runs the suite, and a user's stress binary does not compile it.
#![warn(missing_docs)]

mod baseline;
mod checks;
mod command;
mod model;
mod render;
mod stats;
mod suite_file;
mod view;

pub use baseline::{
    BaselineError, BaselineStore, ChangeVerdict, CompareOptions, Comparison, MetricChange, Refusal,
    SampledChange, compare,
};
pub use command::{StressReportArgs, stress_report, xtask_main};
pub use model::{
    BASELINE_SCHEMA, SUITE_SCHEMA, Shard, Suite, SuiteError, SuiteMeta, baseline_file_json,
    load_reports, load_suite,
};
pub use render::{render_html, render_json, render_junit, render_markdown};
pub use stats::{RelativeChange, Spread, relative_change, spread};
pub use suite_file::{
    ChaosSummary, CriterionEntry, FailedCriterionEntry, LatencySummary, ScenarioSummary, SuiteFile,
    SuiteLatency, SuiteMetric, SuiteSummary, SuiteTotal, ThroughputConsistency, load_run_dir,
};
pub use view::{exit_code, verdict_line};
