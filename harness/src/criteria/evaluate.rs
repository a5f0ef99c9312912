//! Evaluates criteria on a run's metrics. Nothing passes by default: a
//! metric that was never recorded, or recorded without a value, fails.

use crate::criteria::{Criterion, Unit, Verdict};
use crate::report::{MetricValue, format_value};
use std::collections::BTreeMap;

/// How far below the declared rate the offered rate may fall before the
/// run is judged not to have applied the load it declared.
pub(crate) const RATE_TOLERANCE: f64 = 0.03;

/// One verdict per criterion, in declaration order; under the open model, a
/// last, implicit one that the declared rate was actually offered.
pub(crate) fn evaluate(
    criteria: &[Criterion],
    declared_rate: Option<f64>,
    metrics: &BTreeMap<String, MetricValue>,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = criteria.iter().map(|c| evaluate_one(c, metrics)).collect();
    if let Some(rate) = declared_rate {
        let floor = rate * (1.0 - RATE_TOLERANCE);
        // Not declared, so it has no `'static` text; the verdict gets its
        // expression below.
        let expr = format!("offered_rate >= {floor}/s");
        let implicit = Criterion {
            expr: "",
            metric: "offered_rate",
            op: crate::criteria::CmpOp::Ge,
            target: floor,
            unit: Some(Unit::PerSecond),
        };
        let mut verdict = evaluate_one(&implicit, metrics);
        verdict.expr = expr;
        verdict.reason = format!(
            "implicit: the declared rate {rate}/s must be offered within {}%; {}",
            RATE_TOLERANCE * 100.0,
            verdict.reason
        );
        verdicts.push(verdict);
    }
    verdicts
}

fn evaluate_one(criterion: &Criterion, metrics: &BTreeMap<String, MetricValue>) -> Verdict {
    let fail = |actual: Option<f64>, unit: Option<String>, reason: String| Verdict {
        expr: criterion.expr.to_string(),
        metric: criterion.metric.to_string(),
        actual,
        unit,
        passed: false,
        reason,
    };
    let Some(metric) = metrics.get(criterion.metric) else {
        return fail(
            None,
            None,
            format!(
                "metric `{}` was never recorded by this run",
                criterion.metric
            ),
        );
    };
    let unit_text = Some(metric.unit.clone());
    let Some(actual) = metric.value else {
        let why = metric.note.as_deref().unwrap_or("no value was measured");
        return fail(
            None,
            unit_text,
            format!("metric `{}` has no value: {why}", criterion.metric),
        );
    };
    let Ok(metric_unit) = Unit::from_symbol(&metric.unit) else {
        return fail(
            Some(actual),
            unit_text,
            format!(
                "metric `{}` has unknown unit `{}`",
                criterion.metric, metric.unit
            ),
        );
    };
    let target_unit = criterion.unit.unwrap_or(Unit::Count);
    if metric_unit.dimension() != target_unit.dimension() {
        return fail(
            Some(actual),
            unit_text,
            format!(
                "metric `{}` is in `{}` but the criterion's target is {}",
                criterion.metric,
                metric.unit,
                criterion
                    .unit
                    .map_or("a plain number".to_string(), |u| format!("in `{u}`"))
            ),
        );
    }
    if !actual.is_finite() {
        return fail(
            Some(actual),
            unit_text,
            format!("metric `{}` is not a finite number", criterion.metric),
        );
    }
    let actual_base = metric_unit.to_base(actual);
    let target_base = target_unit.to_base(criterion.target);
    let passed = criterion.op.holds(actual_base, target_base);
    let shown_actual = format_value(actual_base, target_unit.dimension());
    let target_text = criterion
        .expr
        .split_once(criterion.op.symbol())
        .map_or_else(
            || format_value(target_base, target_unit.dimension()),
            |(_, t)| t.trim().to_string(),
        );
    let reason = if passed {
        format!("{shown_actual} {} {target_text}", criterion.op)
    } else {
        format!(
            "{shown_actual} does not satisfy {} {target_text}",
            criterion.op
        )
    };
    Verdict {
        expr: criterion.expr.to_string(),
        metric: criterion.metric.to_string(),
        actual: Some(actual),
        unit: unit_text,
        passed,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criteria::CmpOp;

    fn metrics(entries: &[(&str, Option<f64>, &str)]) -> BTreeMap<String, MetricValue> {
        entries
            .iter()
            .map(|(n, v, u)| {
                (
                    n.to_string(),
                    MetricValue {
                        value: *v,
                        unit: u.to_string(),
                        scope: "total".into(),
                        note: v.is_none().then(|| "fewer than 3 samples".to_string()),
                    },
                )
            })
            .collect()
    }

    const P99: Criterion = Criterion {
        expr: "latency.p99 <= 20ms",
        metric: "latency.p99",
        op: CmpOp::Le,
        target: 20.0,
        unit: Some(Unit::Milliseconds),
    };

    #[test]
    fn compares_in_base_units() {
        let m = metrics(&[("latency.p99", Some(19_000_000.0), "ns")]);
        let v = evaluate(&[P99], None, &m);
        assert!(v[0].passed, "{}", v[0].reason);
        let m = metrics(&[("latency.p99", Some(21_000_000.0), "ns")]);
        let v = evaluate(&[P99], None, &m);
        assert!(!v[0].passed);
        assert!(v[0].reason.contains("21"), "{}", v[0].reason);
    }

    #[test]
    fn unrecorded_metric_fails_with_that_reason() {
        let v = evaluate(&[P99], None, &BTreeMap::new());
        assert!(!v[0].passed);
        assert_eq!(v[0].actual, None);
        assert!(v[0].reason.contains("never recorded"), "{}", v[0].reason);
    }

    #[test]
    fn metric_without_value_fails() {
        let m = metrics(&[("latency.p99", None, "ns")]);
        let v = evaluate(&[P99], None, &m);
        assert!(!v[0].passed);
        assert!(
            v[0].reason.contains("fewer than 3 samples"),
            "{}",
            v[0].reason
        );
    }

    #[test]
    fn the_open_model_must_offer_its_declared_rate() {
        let reached = metrics(&[("offered_rate", Some(495.0), "/s")]);
        let v = evaluate(&[], Some(500.0), &reached);
        assert_eq!(v.len(), 1);
        assert!(v[0].passed, "{}", v[0].reason);
        assert_eq!(v[0].expr, "offered_rate >= 485/s");
        let short = metrics(&[("offered_rate", Some(400.0), "/s")]);
        assert!(!evaluate(&[], Some(500.0), &short)[0].passed);
        assert!(!evaluate(&[], Some(500.0), &BTreeMap::new())[0].passed);
    }

    #[test]
    fn custom_metric_in_another_dimension_fails() {
        let c = Criterion {
            expr: "sessions <= 20ms",
            metric: "sessions",
            op: CmpOp::Le,
            target: 20.0,
            unit: Some(Unit::Milliseconds),
        };
        let v = evaluate(&[c], None, &metrics(&[("sessions", Some(3.0), "count")]));
        assert!(!v[0].passed);
        assert!(v[0].reason.contains("`count`"), "{}", v[0].reason);
    }
}
