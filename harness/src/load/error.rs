//! What a drive reports back to the scenario.

use std::time::Duration;

/// The measured part of one `drive` call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriveSummary {
    /// Measured ops (warm-up excluded).
    pub ops: u64,
    /// Measured ops that returned `Err` or panicked.
    pub errors: u64,
    /// Wall time of the measured load.
    pub elapsed: Duration,
    /// Ops of the warm-up before it (not measured, not in `ops`).
    pub warmup_ops: u64,
    /// Of which returned `Err` or panicked.
    pub warmup_errors: u64,
}

/// Why `drive` could not run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DriveError {
    /// Neither `duration` nor `iterations` was declared.
    #[error(
        "scenario `{scenario}` calls drive() but declares neither `duration` nor `iterations`; add one to #[brunt::stress(...)]"
    )]
    NoBudget {
        /// The scenario.
        scenario: String,
    },
    /// `drive_mix` was called but the attribute declares no `mix` or `flow`.
    #[error(
        "scenario `{scenario}` calls drive_mix() but declares no ops; add `mix = [\"name:weight\", …]` or `flow = [\"name\", …]` to #[brunt::stress(...)]"
    )]
    NoMix {
        /// The scenario.
        scenario: String,
    },
}
