//! Load models: how `Stress::drive` turns a declaration into ops.
//!
//! The closed model runs `concurrency` workers, each issuing its next op as
//! soon as the previous one finished, for a duration or an exact number of
//! ops. Workers are futures multiplexed on a few driver threads (one per
//! core at most), each driving its share with the runtime's handle, so the
//! op closure may borrow from the scenario (`|_| server.call()`), futures
//! need not be `Send`, and latency is recorded per thread, not per task.
//!
//! The open model issues arrivals on a schedule (`rate`) and measures each
//! op from its intended start; see `open`.

mod closed;
mod error;
mod open;

pub(crate) use closed::{ClosedPlan, Stop, run_closed};
pub use error::{DriveError, DriveSummary};
pub(crate) use open::{OpenPlan, run_open};
