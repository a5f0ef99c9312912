//! Chaos: faults drawn from the scenario seed, a health check after each,
//! recovery times and per-period load metrics as criteria, a fault proxy
//! for the network, and shrinking a failing schedule to the smallest one
//! that still fails.
//!
//! ```no_run
//! # use brunt::prelude::*;
//! # async fn body(s: &mut Stress) -> anyhow::Result<()> {
//! use brunt::chaos::faults;
//! let outcome = s
//!     .chaos()
//!     .fault("ballast", 20, faults::ballast(1 << 20..=10 << 20))
//!     .fault("nap", 10, |f: FaultCtx| async move {
//!         f.detail("a user fault");
//!         Ok(())
//!     })
//!     .health(|| async { Ok(()) })
//!     .ops(60)
//!     .every("100ms")
//!     .run()
//!     .await?;
//! # let _ = outcome; Ok(()) }
//! ```
//!
//! Why this shape: a schedule is a list of (index, fault) drawn from the
//! seed by index alone, and every fault draws its parameters from a
//! generator of its own index, so any sub-list replays each remaining fault
//! exactly. That is what lets the runner shrink a failure by delta
//! debugging in fresh child processes, and what makes the replay command
//! one line.

mod engine;
mod error;
pub mod faults;
pub mod proxy;
mod safety;
mod schedule;
pub(crate) mod shrink;
mod signal;

pub use engine::{Chaos, ChaosDuration, ChaosFuture, ChaosOutcome, Fault, FaultCtx};
pub(crate) use engine::{ChaosEnv, replay_schedule};
pub use error::ChaosError;
pub(crate) use schedule::{SCHEDULE_SCHEMA, ScheduleFile, ScheduleFileError, ScheduledFault};
pub use signal::Signal;
pub(crate) use signal::send_signal;
