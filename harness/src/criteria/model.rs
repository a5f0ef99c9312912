//! A criterion as declared, and its verdict on one run.

use std::time::Duration;

use crate::criteria::{CmpOp, Unit};

/// One declared criterion, `METRIC OP NUMBER[UNIT]`, checked at compile time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Criterion {
    /// The criterion as written, normalised: `latency.p99 <= 20ms`.
    pub expr: &'static str,
    /// The metric it constrains.
    pub metric: &'static str,
    /// The comparison.
    pub op: CmpOp,
    /// The target, in `unit`.
    pub target: f64,
    /// The target's unit; `None` for a plain number.
    pub unit: Option<Unit>,
    /// `window("10s", …)`: the criterion must hold in every window of this
    /// many whole seconds of the measured load, not just overall.
    pub window: Option<Duration>,
    /// `abort(…)`: the scenario is stopped as soon as this can no longer
    /// hold (watched live by the sampler; upper bounds on growing metrics).
    pub abort: bool,
    /// Compared with another metric of the same run (`op.get.ops ==
    /// redis.get_calls`, `target.rss.growth <= 0.1 * heap.allocated`): the
    /// target is `target` (a plain factor) times that metric's value.
    pub versus: Option<&'static str>,
}
