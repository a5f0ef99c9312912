//! [`ChaosError`]: why a chaos run could not run as declared, each naming
//! the offending value.

use super::ScheduleFileError;

/// Why a chaos run could not run as declared.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    /// `.every(...)` or another duration could not be read.
    #[error("chaos: invalid duration {value:?} for .{setting}(...): {reason}")]
    BadDuration {
        /// The setting.
        setting: &'static str,
        /// The value given.
        value: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// No fault with a weight above zero.
    #[error("chaos: no fault to draw: add one with .fault(name, weight, fault), weight above 0")]
    NoFaults,
    /// Two faults share a name.
    #[error("chaos: two faults are named `{0}`; a schedule names faults, so names must differ")]
    DuplicateFault(String),
    /// No `.health(...)`.
    #[error(
        "chaos: no health check: add .health(|| async {{ … }}) so each fault is judged by whether the system recovers"
    )]
    NoHealth,
    /// A second chaos run in one scenario.
    #[error("chaos: a scenario holds one chaos run; this one already ran one")]
    AlreadyRan,
    /// `BRUNT_REPLAY` could not be read.
    #[error(transparent)]
    Replay(#[from] ScheduleFileError),
    /// `BRUNT_REPLAY` holds another scenario's schedule.
    #[error(
        "BRUNT_REPLAY={file} holds a schedule of `{holds}`, not of `{this}`: run it with --exact {holds}"
    )]
    ReplayOfAnother {
        /// The file.
        file: String,
        /// The scenario it was written for.
        holds: String,
        /// This scenario.
        this: String,
    },
    /// `BRUNT_REPLAY` names a fault this scenario does not declare.
    #[error(
        "BRUNT_REPLAY={file}: fault #{index} `{fault}` is not declared by this scenario (declared: {declared})"
    )]
    UnknownFault {
        /// The file.
        file: String,
        /// The fault's index.
        index: u32,
        /// Its name.
        fault: String,
        /// The declared faults.
        declared: String,
    },
    /// The health check did not pass before the first fault.
    #[error(
        "chaos: the system was not healthy before any fault (its steady state must hold first): {0}"
    )]
    UnhealthyBeforeFaults(String),
    /// `BRUNT_CHECK_DETERMINISM=1` drew two different schedules.
    #[error(
        "chaos: the schedule is not deterministic: drawn twice from seed {seed}, fingerprints {first} and {second}"
    )]
    NotDeterministic {
        /// The seed.
        seed: u64,
        /// The first draw's fingerprint.
        first: String,
        /// The second's.
        second: String,
    },
}
