//! [`judge_step`]: one escalation step's load, judged by the escalation's
//! `until` conditions on the step's own metrics.

use super::{generator_bottleneck, load_metrics_of};
use crate::criteria::{RATE_TOLERANCE, evaluate};
use crate::load::StepRun;
use brunt_report::{Finding, Step};

/// The step as the report shows it: held when every `until` condition held,
/// the generator offered the step's rate and no abort cut it short. The
/// finding, if any, says the generator could not offer the rate.
pub(crate) fn judge_step(run: StepRun<'_>) -> (Step, Option<Finding>) {
    let metrics = load_metrics_of(run.totals);
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
