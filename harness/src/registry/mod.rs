//! The scenario list. The `#[brunt::stress]` attribute submits one
//! [`ScenarioEntry`] per function through `inventory`; the runner reads them
//! here, sorted by module path and line because link order is arbitrary.

mod build;
mod entry;
mod list;

pub use build::{ScenarioBuild, frame_probe, harness_optimised};
#[cfg(test)]
pub(crate) use entry::tests_support;
pub use entry::{Body, BoxFuture, Declared, ScenarioEntry, ScenarioResult};
pub(crate) use list::{all_scenarios, find_scenario};
