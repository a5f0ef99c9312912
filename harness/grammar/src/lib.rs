//! The value grammar of Brunt's public contract, shared by the attribute macro
//! (which checks every value at compile time) and the runtime (which evaluates
//! criteria and reads `BRUNT_*` variables), so that both accept exactly the
//! same text. Pure `std`: a proc-macro crate can depend on it without pulling
//! the runtime in.
#![warn(missing_docs)]

mod criterion;
pub mod env;
mod error;
mod metric;
mod unit;
mod value;

pub use criterion::{CmpOp, ParsedCriterion, check_criterion_unit, parse_criterion};
pub use error::GrammarError;
pub use metric::{
    CHAOS_PERIODS, FINDING_KINDS, METRICS, MetricInfo, PER_OP_METRICS, PerStep,
    RESERVED_NAMESPACES, check_metric_name, closest, closest_all, edit_distance, lookup_builtin,
    metric_info, metric_names, split_op_metric, split_period_metric,
};
pub use unit::{CRITERION_UNITS, Dimension, Unit};
pub use value::{
    DURATION_UNITS, RATE_UNITS, SIZE_UNITS, ThinkTime, is_op_name, parse_duration, parse_mix_entry,
    parse_number, parse_rate, parse_size, parse_stage, parse_think,
};
