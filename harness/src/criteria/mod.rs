//! Acceptance criteria: the typed model the attribute emits, and their
//! evaluation against a report's metrics. The grammar itself (operators,
//! units, metric names) lives in `brunt-grammar`, shared with the macro, so
//! compile-time checks and run-time evaluation cannot disagree.

mod evaluate;
mod live;
mod model;

pub use brunt_grammar::{CmpOp, Dimension, Unit};
pub use brunt_report::Verdict;
pub(crate) use evaluate::{RATE_TOLERANCE, Windows, base_metric, evaluate};
pub(crate) use live::{AbortCriteria, LiveValue};
pub use model::Criterion;
