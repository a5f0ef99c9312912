//! Evaluates criteria on a run's metrics. Nothing passes by default: a
//! metric that was never recorded, or recorded without a value, fails.

use crate::criteria::{CmpOp, Criterion, Unit, Verdict};
use brunt_report::{MetricValue, format_value};
use std::collections::BTreeMap;

/// How far below the declared rate the offered rate may fall before the
/// run is judged not to have applied the load it declared.
pub(crate) const RATE_TOLERANCE: f64 = 0.03;

/// The metrics of each whole window of the measured load, by window length
/// in seconds: `(start in ms since the run started, metrics)`.
pub(crate) type Windows = BTreeMap<u64, Vec<(f64, BTreeMap<String, MetricValue>)>>;

/// One verdict per criterion, in declaration order; then implicit ones.
/// Under the open model: that the declared rate was actually offered, and —
/// unless a criterion on `dropped` was declared — that no arrival was
/// dropped (a system that sheds load must not pass by default). Wherever ops
/// were measured: that none failed, unless a criterion on `errors` or
/// `success_rate` says how many may (a run with 20,000 failed requests and
/// no criterion must not pass).
pub(crate) fn evaluate(
    criteria: &[Criterion],
    declared_rate: Option<f64>,
    chaos_ran: bool,
    metrics: &BTreeMap<String, MetricValue>,
    windows: &Windows,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = criteria
        .iter()
        .map(|c| match c.window {
            Some(length) => evaluate_windowed(c, length, windows),
            None => evaluate_one(c, metrics),
        })
        .collect();
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
            window: None,
            abort: false,
            versus: None,
        };
        let mut verdict = evaluate_one(&implicit, metrics);
        verdict.expr = expr;
        verdict.reason = format!(
            "implicit: the declared rate {rate}/s must be offered within {}%; {}",
            RATE_TOLERANCE * 100.0,
            verdict.reason
        );
        verdicts.push(verdict);
        verdicts.extend(implicit_zero(
            criteria,
            metrics,
            ("dropped == 0", "dropped"),
            |m| m == "dropped",
            "an open-model run drops no arrival unless a criterion on `dropped` says how many may be",
        ));
    }
    if metrics.contains_key("errors") {
        verdicts.extend(implicit_zero(
            criteria,
            metrics,
            ("errors == 0", "errors"),
            judges_failed_ops,
            "no op may fail unless a criterion on `errors` or `success_rate` (or `op.<name>.errors`, `op.<name>.success_rate`) says how many may",
        ));
    }
    if chaos_ran {
        verdicts.extend(implicit_zero(
            criteria,
            metrics,
            ("chaos.failures == 0", "chaos.failures"),
            |m| m == "chaos.failures",
            "the system recovers from every fault unless a criterion on `chaos.failures` says how many it may not",
        ));
    }
    verdicts
}

/// Whether a criterion on `metric` says how many ops may fail, so that no
/// implicit `errors == 0` is added: `errors`, `success_rate`, or either of
/// one op kind (`op.<name>.errors`); a chaos period's (`chaos.during.errors`)
/// too, since faults are meant to fail some ops.
/// The built-in metric a name measures, without a chaos period's or an op
/// kind's prefix: `chaos.during.success_rate` and `op.get.success_rate`
/// are both `success_rate`.
pub(crate) fn base_metric(name: &str) -> &str {
    let name = brunt_grammar::split_period_metric(name).map_or(name, |(_, base)| base);
    brunt_grammar::split_op_metric(name).map_or(name, |(_, base)| base)
}

fn judges_failed_ops(metric: &str) -> bool {
    matches!(base_metric(metric), "errors" | "success_rate")
}

/// The implicit `(expr, metric)`, `metric == 0`, unless a declared
/// criterion on a metric that `constrains` accepts already says how much
/// is allowed; `why` opens its reason.
fn implicit_zero(
    criteria: &[Criterion],
    metrics: &BTreeMap<String, MetricValue>,
    (expr, metric): (&'static str, &'static str),
    constrains: fn(&str) -> bool,
    why: &str,
) -> Option<Verdict> {
    if criteria.iter().any(|c| constrains(c.metric)) {
        return None;
    }
    let implicit = Criterion {
        expr,
        metric,
        op: crate::criteria::CmpOp::Eq,
        target: 0.0,
        unit: None,
        window: None,
        abort: false,
        versus: None,
    };
    let mut verdict = evaluate_one(&implicit, metrics);
    verdict.reason = format!("implicit: {why}; {}", verdict.reason);
    Some(verdict)
}

/// A windowed criterion holds when it holds in every whole window; its
/// verdict reports the first window that broke it, or, when all held, the
/// window closest to breaking it (the highest value under an upper bound,
/// the lowest over a lower one).
fn evaluate_windowed(
    criterion: &Criterion,
    length: std::time::Duration,
    windows: &Windows,
) -> Verdict {
    let seconds = length.as_secs();
    let inner = Criterion {
        window: None,
        abort: false,
        ..*criterion
    };
    let all = windows.get(&seconds).map(Vec::as_slice).unwrap_or_default();
    if all.is_empty() {
        return Verdict {
            expr: criterion.expr.to_string(),
            metric: criterion.metric.to_string(),
            actual: None,
            unit: None,
            passed: false,
            reason: format!(
                "the measured load held no whole {seconds}s window (seconds the load covered only in part are left out)"
            ),
        };
    }
    let verdicts: Vec<(f64, Verdict)> = all
        .iter()
        .map(|(start, m)| (*start, evaluate_one(&inner, m)))
        .collect();
    let failed = verdicts.iter().find(|(_, v)| !v.passed);
    let worst = || {
        let actual = |v: &Verdict| v.actual.unwrap_or(f64::NAN);
        let key = |(_, v): &&(f64, Verdict)| match criterion.op {
            CmpOp::Le | CmpOp::Lt => actual(v),
            CmpOp::Ge | CmpOp::Gt => -actual(v),
            CmpOp::Eq | CmpOp::Ne => 0.0,
        };
        verdicts
            .iter()
            .max_by(|a, b| key(a).total_cmp(&key(b)))
            .unwrap_or(&verdicts[0])
    };
    let (start, chosen) = failed.unwrap_or_else(worst);
    let mut verdict = chosen.clone();
    verdict.expr = criterion.expr.to_string();
    verdict.reason = match failed {
        Some(_) => format!(
            "window {:.0}–{:.0}s: {}",
            start / 1e3,
            start / 1e3 + seconds as f64,
            chosen.reason
        ),
        None => format!(
            "held in all {} windows of {seconds}s; closest to breaking, window {:.0}–{:.0}s: {}",
            verdicts.len(),
            start / 1e3,
            start / 1e3 + seconds as f64,
            chosen.reason
        ),
    };
    verdict
}

/// `METRIC OP [FACTOR *] OTHER`: both metrics in base units, the target
/// `FACTOR` times the other's value. The other metric must have been
/// recorded with a value of the same dimension, or the criterion fails
/// saying which.
fn evaluate_versus(
    criterion: &Criterion,
    other: &str,
    actual: f64,
    unit: Unit,
    metrics: &BTreeMap<String, MetricValue>,
) -> Verdict {
    let verdict = |passed: bool, reason: String| Verdict {
        expr: criterion.expr.to_string(),
        metric: criterion.metric.to_string(),
        actual: Some(actual),
        unit: Some(unit),
        passed,
        reason,
    };
    let Some(against) = metrics.get(other) else {
        return verdict(
            false,
            format!("metric `{other}`, compared against, was never recorded by this run"),
        );
    };
    let Some(value) = against.value else {
        let why = against.note.as_deref().unwrap_or("no value was measured");
        return verdict(false, format!("metric `{other}` has no value: {why}"));
    };
    if against.unit.dimension() != unit.dimension() {
        return verdict(
            false,
            format!(
                "metric `{}` is in `{unit}` but `{other}` is in `{}`: they do not compare",
                criterion.metric, against.unit
            ),
        );
    }
    if !(actual.is_finite() && value.is_finite()) {
        return verdict(
            false,
            "a compared metric is not a finite number".to_string(),
        );
    }
    let actual_base = unit.to_base(actual);
    let target_base = criterion.target * against.unit.to_base(value);
    let passed = criterion.op.holds(actual_base, target_base);
    let dimension = unit.dimension();
    let shown = |v: f64| format_value(v, dimension);
    let target_text = if criterion.target == 1.0 {
        format!("{other} ({})", shown(target_base))
    } else {
        format!("{} * {other} ({})", criterion.target, shown(target_base))
    };
    let reason = if passed {
        format!("{} {} {target_text}", shown(actual_base), criterion.op)
    } else {
        format!(
            "{} does not satisfy {} {target_text}",
            shown(actual_base),
            criterion.op
        )
    };
    verdict(passed, reason)
}

fn evaluate_one(criterion: &Criterion, metrics: &BTreeMap<String, MetricValue>) -> Verdict {
    let fail = |actual: Option<f64>, unit: Option<Unit>, reason: String| Verdict {
        expr: criterion.expr.to_string(),
        metric: criterion.metric.to_string(),
        actual,
        unit,
        passed: false,
        reason,
    };
    let Some(metric) = metrics.get(criterion.metric) else {
        if let Some((op, _)) = brunt_grammar::split_op_metric(criterion.metric) {
            let mut driven: Vec<&str> = metrics
                .keys()
                .filter_map(|k| brunt_grammar::split_op_metric(k).map(|(o, _)| o))
                .collect();
            driven.dedup();
            return fail(
                None,
                None,
                format!(
                    "no op named `{op}` was driven by this run ({})",
                    if driven.is_empty() {
                        "no mix or flow ran: drive it with drive_mix or drive_mix_with".to_string()
                    } else {
                        format!("ops driven: {}", driven.join(", "))
                    }
                ),
            );
        }
        let hint = if brunt_grammar::split_period_metric(criterion.metric).is_some() {
            ": no whole second of measured load fell in that chaos period (drive a load beside `s.chaos()…run()` that outlasts the faults)"
        } else if criterion.metric.starts_with("chaos.")
            || criterion.metric.starts_with("recovery.")
        {
            ": no chaos ran: declare one with `s.chaos().fault(…).health(…).ops(n).run().await`"
        } else if criterion.metric.starts_with("heap.") {
            ": this binary does not count its heap; install the counting allocator in the test target: \
             `#[global_allocator] static ALLOCATOR: brunt::heap::CountingAllocator = brunt::heap::CountingAllocator::system();`"
        } else {
            ""
        };
        return fail(
            None,
            None,
            format!(
                "metric `{}` was never recorded by this run{hint}",
                criterion.metric
            ),
        );
    };
    let unit_text = Some(metric.unit);
    let Some(actual) = metric.value else {
        let why = metric.note.as_deref().unwrap_or("no value was measured");
        return fail(
            None,
            unit_text,
            format!("metric `{}` has no value: {why}", criterion.metric),
        );
    };
    if let Some(other) = criterion.versus {
        return evaluate_versus(criterion, other, actual, metric.unit, metrics);
    }
    let metric_unit = metric.unit;
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
            // A windowed expression ends with the window's `)`.
            |(_, t)| t.trim().trim_end_matches(')').to_string(),
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
                        unit: Unit::from_symbol(u).unwrap(),
                        scope: brunt_report::Scope::Total,
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
        window: None,
        abort: false,
        versus: None,
    };

    #[test]
    fn compares_in_base_units() {
        let m = metrics(&[("latency.p99", Some(19_000_000.0), "ns")]);
        let v = evaluate(&[P99], None, false, &m, &Windows::new());
        assert!(v[0].passed, "{}", v[0].reason);
        let m = metrics(&[("latency.p99", Some(21_000_000.0), "ns")]);
        let v = evaluate(&[P99], None, false, &m, &Windows::new());
        assert!(!v[0].passed);
        assert!(v[0].reason.contains("21"), "{}", v[0].reason);
    }

    #[test]
    fn a_window_verdict_that_holds_names_the_window_closest_to_breaking() {
        let p99 = Criterion {
            expr: "window(\"1s\", latency.p99 <= 20ms)",
            window: Some(std::time::Duration::from_secs(1)),
            ..P99
        };
        let mut windows = Windows::new();
        windows.insert(
            1,
            [5.0, 19.0, 7.0]
                .iter()
                .enumerate()
                .map(|(k, ms)| {
                    (
                        k as f64 * 1e3,
                        metrics(&[("latency.p99", Some(ms * 1e6), "ns")]),
                    )
                })
                .collect(),
        );
        let v = &evaluate(&[p99], None, false, &BTreeMap::new(), &windows)[0];
        assert!(v.passed);
        assert_eq!(v.actual, Some(19e6), "the worst window's value");
        assert!(v.reason.contains("window 1–2s"), "{}", v.reason);
    }

    #[test]
    fn a_criterion_on_an_op_that_did_not_run_names_the_ops_that_did() {
        let c = Criterion {
            expr: "op.write.latency.p99 <= 20ms",
            metric: "op.write.latency.p99",
            ..P99
        };
        let m = metrics(&[("op.read.latency.p99", Some(1.0), "ns")]);
        let v = &evaluate(&[c], None, false, &m, &Windows::new())[0];
        assert!(!v.passed);
        assert!(
            v.reason.contains("no op named `write`") && v.reason.contains("ops driven: read"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn unrecorded_metric_fails_with_that_reason() {
        let v = evaluate(&[P99], None, false, &BTreeMap::new(), &Windows::new());
        assert!(!v[0].passed);
        assert_eq!(v[0].actual, None);
        assert!(v[0].reason.contains("never recorded"), "{}", v[0].reason);
    }

    #[test]
    fn metric_without_value_fails() {
        let m = metrics(&[("latency.p99", None, "ns")]);
        let v = evaluate(&[P99], None, false, &m, &Windows::new());
        assert!(!v[0].passed);
        assert!(
            v[0].reason.contains("fewer than 3 samples"),
            "{}",
            v[0].reason
        );
    }

    #[test]
    fn the_open_model_must_drop_nothing_unless_told_otherwise() {
        let shed = metrics(&[
            ("offered_rate", Some(500.0), "/s"),
            ("dropped", Some(750.0), "count"),
        ]);
        let v = evaluate(&[], Some(500.0), false, &shed, &Windows::new());
        assert_eq!(v[1].expr, "dropped == 0");
        assert!(!v[1].passed, "half the load shed: {}", v[1].reason);
        let allowed = Criterion {
            expr: "dropped <= 1000",
            metric: "dropped",
            op: CmpOp::Le,
            target: 1000.0,
            unit: None,
            window: None,
            abort: false,
            versus: None,
        };
        let v = evaluate(&[allowed], Some(500.0), false, &shed, &Windows::new());
        assert_eq!(v.len(), 2, "no implicit criterion beside a declared one");
        assert!(v.iter().all(|v| v.passed));
    }

    #[test]
    fn a_metric_compares_with_another_of_the_run() {
        let m = metrics(&[
            ("op.get.ops", Some(1000.0), "count"),
            ("redis.get_calls", Some(1000.0), "count"),
            ("target.rss.growth", Some(2.0), "MiB"),
            ("heap.allocated", Some(64.0 * 1024.0 * 1024.0), "B"),
            ("latency.p99", Some(5.0), "ms"),
        ]);
        let equal = Criterion {
            expr: "op.get.ops == redis.get_calls",
            metric: "op.get.ops",
            op: CmpOp::Eq,
            target: 1.0,
            unit: None,
            window: None,
            abort: false,
            versus: Some("redis.get_calls"),
        };
        let v = &evaluate(&[equal], None, false, &m, &Windows::new())[0];
        assert!(v.passed, "{}", v.reason);
        // 2 MiB against a tenth of 64 MiB, in base units whatever each was
        // recorded in.
        let tenth = Criterion {
            expr: "target.rss.growth <= 0.1 * heap.allocated",
            metric: "target.rss.growth",
            op: CmpOp::Le,
            target: 0.1,
            versus: Some("heap.allocated"),
            ..equal
        };
        let v = &evaluate(&[tenth], None, false, &m, &Windows::new())[0];
        assert!(v.passed, "{}", v.reason);
        let strict = Criterion {
            target: 0.01,
            ..tenth
        };
        let v = &evaluate(&[strict], None, false, &m, &Windows::new())[0];
        assert!(!v.passed, "2 MiB is over 1% of 64 MiB: {}", v.reason);
        assert!(v.reason.contains("heap.allocated"), "{}", v.reason);
        let missing = Criterion {
            versus: Some("redis.set_calls"),
            ..equal
        };
        let v = &evaluate(&[missing], None, false, &m, &Windows::new())[0];
        assert!(
            !v.passed && v.reason.contains("never recorded"),
            "{}",
            v.reason
        );
        let apples = Criterion {
            metric: "latency.p99",
            versus: Some("op.get.ops"),
            ..equal
        };
        let v = &evaluate(&[apples], None, false, &m, &Windows::new())[0];
        assert!(
            !v.passed && v.reason.contains("do not compare"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn failed_ops_fail_a_run_unless_a_criterion_says_how_many_may() {
        let failing = metrics(&[
            ("ops", Some(40_000.0), "count"),
            ("errors", Some(20_000.0), "count"),
        ]);
        let v = evaluate(&[], None, false, &failing, &Windows::new());
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].expr, "errors == 0");
        assert!(!v[0].passed, "20,000 failed ops passed: {}", v[0].reason);
        assert!(v[0].reason.contains("implicit"), "{}", v[0].reason);
        let clean = metrics(&[("errors", Some(0.0), "count")]);
        assert!(evaluate(&[], None, false, &clean, &Windows::new())[0].passed);
        // No load measured (no `errors` metric): nothing to judge.
        assert!(evaluate(&[], None, false, &BTreeMap::new(), &Windows::new()).is_empty());
        for metric in [
            "errors",
            "success_rate",
            "op.get.errors",
            "op.get.success_rate",
            "chaos.during.success_rate",
        ] {
            let declared = Criterion {
                expr: "declared",
                metric,
                op: CmpOp::Ge,
                target: 0.0,
                unit: None,
                window: None,
                abort: false,
                versus: None,
            };
            let v = evaluate(&[declared], None, false, &failing, &Windows::new());
            assert!(
                v.iter().all(|v| v.expr != "errors == 0"),
                "a criterion on `{metric}` still got the implicit one: {v:?}"
            );
        }
        let unrelated = Criterion {
            expr: "latency.p99 <= 20ms",
            ..P99
        };
        let v = evaluate(&[unrelated], None, false, &failing, &Windows::new());
        assert!(
            v.iter().any(|v| v.expr == "errors == 0" && !v.passed),
            "{v:?}"
        );
    }

    #[test]
    fn the_open_model_must_offer_its_declared_rate() {
        let reached = metrics(&[
            ("offered_rate", Some(495.0), "/s"),
            ("dropped", Some(0.0), "count"),
        ]);
        let v = evaluate(&[], Some(500.0), false, &reached, &Windows::new());
        assert_eq!(v.len(), 2);
        assert!(v[0].passed, "{}", v[0].reason);
        assert_eq!(v[0].expr, "offered_rate >= 485/s");
        let short = metrics(&[("offered_rate", Some(400.0), "/s")]);
        assert!(!evaluate(&[], Some(500.0), false, &short, &Windows::new())[0].passed);
        assert!(!evaluate(&[], Some(500.0), false, &BTreeMap::new(), &Windows::new())[0].passed);
    }

    #[test]
    fn custom_metric_in_another_dimension_fails() {
        let c = Criterion {
            expr: "sessions <= 20ms",
            metric: "sessions",
            op: CmpOp::Le,
            target: 20.0,
            unit: Some(Unit::Milliseconds),
            window: None,
            abort: false,
            versus: None,
        };
        let v = evaluate(
            &[c],
            None,
            false,
            &metrics(&[("sessions", Some(3.0), "count")]),
            &Windows::new(),
        );
        assert!(!v[0].passed);
        assert!(v[0].reason.contains("`count`"), "{}", v[0].reason);
    }
}
