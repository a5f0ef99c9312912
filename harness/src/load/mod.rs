//! Load models: how `Stress::drive` turns a declaration into ops.
//!
//! The closed model runs `concurrency` workers, each issuing its next op as
//! soon as the previous one finished, for a duration or an exact number of
//! ops. Workers are futures multiplexed on a few driver threads (one per
//! core at most), each with its own runtime, where the tasks an op spawns
//! run too (see `drivers`), so the op closure may borrow from the scenario
//! (`|_| server.call()`), futures need not be `Send`, and latency is
//! recorded per thread, not per task.
//!
//! The open model issues arrivals on a schedule (`rate`) and measures each
//! op from its intended start; see `open`, and `pacer` for how arrivals
//! leave on time. Both share a [`RunFrame`]: threads, stop, indices,
//! recording, clock, ramp and the abort signal.

mod closed;
mod drivers;
mod error;
mod escalation;
mod frame;
mod open;
mod pacer;
mod pool;
mod segment;
mod session;
mod stages;
mod workload;

pub use crate::measure::OpStatus;
pub(crate) use closed::{ClosedPlan, run_closed};
pub(crate) use drivers::{DriverThreads, Drivers, current_driver};
pub use error::{DriveError, DriveSummary};
pub use escalation::Escalation;
pub(crate) use escalation::{StepJudge, StepRun, next_level};
pub(crate) use frame::{Cancel, OpEnd, RunFrame, Stop, guarded};
pub(crate) use open::{OpenPlan, run_open};
pub(crate) use pacer::Pacer;
pub(crate) use segment::Segment;
pub(crate) use session::{LoadSession, LoadSettings, SessionContext, cores};
pub(crate) use stages::Ramp;
pub use stages::Stage;
pub(crate) use workload::{Driven, MixOp, OpTable, PlainOp, Workload, split_mix};
pub use workload::{Op, OpResult, Worker, expect_err};

use crate::measure::{GeneratorLoad, OpRecorder, PoolUse};
use std::time::Duration;

/// What one run of a load model hands back.
pub(crate) struct LoadRun {
    /// One recorder per driver thread (empty when not recording).
    pub(crate) recorders: Vec<OpRecorder>,
    /// From the first op's start to the last op's end.
    pub(crate) elapsed: Duration,
    /// Time taken to issue every op: the open model's schedule as it was
    /// kept (the last arrival's actual issue plus one interval); for the
    /// closed model, `elapsed`.
    pub(crate) issuing: Duration,
    /// The index the next run should start from.
    pub(crate) next_index: u64,
    /// How busy the open model's arrival threads were (closed: unmeasured).
    pub(crate) generator: GeneratorLoad,
    /// How the open model pooled the workers' states (closed: unused).
    pub(crate) pool: PoolUse,
}

#[cfg(test)]
impl LoadRun {
    /// Every driver thread's recorder summed, for the load models' tests.
    pub(crate) fn totals(&mut self) -> crate::measure::OpTotals {
        let mut totals = crate::measure::OpTotals::default();
        for recorder in std::mem::take(&mut self.recorders) {
            totals.absorb(recorder);
        }
        totals
    }
}
