//! [`judge_step`]: one escalation step's load, judged by the escalation's
//! `until` conditions on the step's own metrics.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{generator_bottleneck, load_metrics};
use crate::criteria::{Criterion, RATE_TOLERANCE, evaluate};
use crate::measure::OpTotals;
use crate::report::{Finding, Step};

/// What one step ran: its level (workers, or arrivals per second), when it
/// began (ms since the run started), how long it took and what it measured.
pub(crate) struct StepRun<'a> {
    pub(crate) level: f64,
    pub(crate) start_ms: f64,
    pub(crate) elapsed: Duration,
    pub(crate) totals: &'a OpTotals,
    /// Whether an abort criterion cut the step short.
    pub(crate) aborted: bool,
    /// The escalation's `until` conditions.
    pub(crate) until: &'a [Criterion],
    /// Whether the steps are arrival rates (else workers).
    pub(crate) open: bool,
}

/// The step as the report shows it: held when every `until` condition held,
/// the generator offered the step's rate and no abort cut it short. The
/// finding, if any, says the generator could not offer the rate.
pub(crate) fn judge_step(run: StepRun<'_>) -> (Step, Option<Finding>) {
    let mut metrics = BTreeMap::new();
    load_metrics(run.totals, &mut metrics);
    let value = |name: &str| metrics.get(name).and_then(|m| m.value);
    let taint = run
        .open
        .then(|| generator_bottleneck(run.level, RATE_TOLERANCE, &metrics))
        .flatten();
    let verdicts = evaluate(run.until, None, false, &metrics, &Default::default());
    let broken: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.passed)
        .map(|v| format!("{}: {}", v.expr, v.reason))
        .collect();
    let step = Step {
        level: run.level,
        start_ms: run.start_ms,
        duration_ms: run.elapsed.as_secs_f64() * 1e3,
        ops: run.totals.ops,
        errors: run.totals.errors,
        throughput_per_s: value("throughput").unwrap_or(0.0),
        offered_rate_per_s: value("offered_rate"),
        latency_p50_ns: value("latency.p50"),
        latency_p99_ns: value("latency.p99"),
        held: broken.is_empty() && taint.is_none() && !run.aborted,
        tainted: taint.is_some(),
        aborted: run.aborted,
        broken: if run.aborted {
            vec!["cut short by an abort criterion".to_string()]
        } else {
            broken
        },
    };
    (step, taint)
}
