//! The load's built-in metrics (`ops`, `throughput`, `latency.*`,
//! `setup.*`, the open model's `offered_rate`, `arrival.lag.*`, …), from the
//! op totals folded from the journal, and the findings they imply (a
//! generator that could not offer its rate, a pool that grew). Each metric
//! carries its unit and scope; one the run could not measure is written
//! with a `null` value and a note saying why, so a criterion on it fails
//! with that reason.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::criteria::Unit;
use crate::measure::{OpTotals, SetupTally};
use brunt_report::{Finding, MetricValue, Scope, Severity, Step, format_value};

/// Writes one metric.
pub(super) fn put(
    out: &mut BTreeMap<String, MetricValue>,
    name: String,
    value: Option<f64>,
    unit: Unit,
    scope: Scope,
    note: Option<String>,
) {
    out.insert(
        name,
        MetricValue {
            value,
            unit,
            scope,
            note,
        },
    );
}

/// [`load_metrics`] of a stretch of load on its own: a criterion's window,
/// a chaos period, an escalation step.
pub(crate) fn load_metrics_of(totals: &OpTotals) -> BTreeMap<String, MetricValue> {
    let mut metrics = BTreeMap::new();
    load_metrics(totals, &mut metrics);
    metrics
}

/// `ops`, `errors`, `success_rate`, `throughput`, `duration` and
/// `latency.*` from the measured ops.
pub(crate) fn load_metrics(totals: &OpTotals, out: &mut BTreeMap<String, MetricValue>) {
    let seconds = totals.measured.as_secs_f64();
    counted_metrics(
        "",
        totals.ops,
        totals.errors,
        totals.expected,
        seconds,
        &totals.latency,
        out,
    );
    put(
        out,
        "duration".into(),
        Some(seconds),
        Unit::Seconds,
        Scope::Total,
        None,
    );
    if totals.op_timeout {
        put(
            out,
            "timeouts".into(),
            Some(totals.timeouts as f64),
            Unit::Count,
            Scope::Total,
            Some("ops that passed op_timeout: errors, recorded with the timeout as latency".into()),
        );
    }
    if let Some(service) = &totals.service {
        histogram_metrics("service_time", service, out);
        open_metrics(totals, out);
    }
    // Each op kind of a mix or flow, under `op.<name>.`.
    for (kind, name) in totals.kinds.iter().zip(&totals.kind_names) {
        counted_metrics(
            &format!("op.{name}."),
            kind.ops,
            kind.errors,
            kind.expected,
            seconds,
            &kind.latency,
            out,
        );
    }
    if let Some(setup) = &totals.setup {
        setup_metrics(setup, out);
    }
}

/// `ops`, `errors`, `expected_errors`, `success_rate`, `throughput`,
/// `attempted_rate` and `latency.*` under `prefix` (`""` or `op.<name>.`). Expected errors are
/// ops that failed as they were meant to: not errors, and not in the
/// success rate, which is over the ops meant to succeed.
fn counted_metrics(
    prefix: &str,
    ops: u64,
    errors: u64,
    expected: u64,
    seconds: f64,
    latency: &Histogram<u64>,
    out: &mut BTreeMap<String, MetricValue>,
) {
    let name = |n: &str| format!("{prefix}{n}");
    put(
        out,
        name("ops"),
        Some(ops as f64),
        Unit::Count,
        Scope::Total,
        None,
    );
    put(
        out,
        name("errors"),
        Some(errors as f64),
        Unit::Count,
        Scope::Total,
        None,
    );
    put(
        out,
        name("expected_errors"),
        Some(expected as f64),
        Unit::Count,
        Scope::Total,
        None,
    );
    let meant = ops.saturating_sub(expected);
    put(
        out,
        name("success_rate"),
        (meant > 0).then(|| (meant - errors.min(meant)) as f64 / meant as f64 * 100.0),
        Unit::Percent,
        Scope::OverallAvg,
        if meant > 0 {
            (expected > 0)
                .then(|| "over the ops meant to succeed (expected errors left out)".to_string())
        } else {
            Some("no op meant to succeed was measured".to_string())
        },
    );
    // A failed op is not served load: counting it would let a system that
    // answers every request with an error report the rate it was offered.
    let succeeded = ops - errors.min(ops);
    put(
        out,
        name("throughput"),
        (seconds > 0.0).then(|| succeeded as f64 / seconds),
        Unit::PerSecond,
        Scope::OverallAvg,
        if seconds <= 0.0 {
            Some("no measured time".to_string())
        } else {
            (errors > 0).then(|| {
                format!("ops that succeeded per second (expected errors included); {errors} failed ops left out")
            })
        },
    );
    put(
        out,
        name("attempted_rate"),
        (seconds > 0.0).then(|| ops as f64 / seconds),
        Unit::PerSecond,
        Scope::OverallAvg,
        Some(if seconds <= 0.0 {
            "no measured time".to_string()
        } else {
            "every measured op per second, failed ones included".to_string()
        }),
    );
    histogram_metrics(&name("latency"), latency, out);
}

/// `setup.time.*` and `setup.errors`: building the workers' states.
fn setup_metrics(setup: &SetupTally, out: &mut BTreeMap<String, MetricValue>) {
    let h = &setup.time;
    let built = (!h.is_empty()).then_some(());
    let note = if h.is_empty() {
        Some("no worker state was built".to_string())
    } else {
        Some(format!("{} worker states built", h.len()))
    };
    let quantile = |q: f64| built.map(|()| h.value_at_quantile(q) as f64);
    for (name, value, scope) in [
        ("setup.time.min", built.map(|()| h.min() as f64), Scope::Min),
        (
            "setup.time.mean",
            built.map(|()| h.mean()),
            Scope::OverallAvg,
        ),
        ("setup.time.p50", quantile(0.50), Scope::Percentile),
        ("setup.time.p99", quantile(0.99), Scope::Percentile),
        ("setup.time.max", built.map(|()| h.max() as f64), Scope::Max),
    ] {
        put(
            out,
            name.into(),
            value,
            Unit::Nanoseconds,
            scope,
            note.clone(),
        );
    }
    put(
        out,
        "setup.errors".into(),
        Some(setup.errors as f64),
        Unit::Count,
        Scope::Total,
        Some("worker states that failed to build (their workers ran no op)".into()),
    );
}

/// `<family>.{min,mean,p50,p90,p95,p99,p999,max}` from one histogram, in ns.
fn histogram_metrics(family: &str, h: &Histogram<u64>, out: &mut BTreeMap<String, MetricValue>) {
    let empty = h.is_empty();
    let no_ops = empty.then(|| "no op was measured".to_string());
    let quantile = |q: f64| (!empty).then(|| h.value_at_quantile(q) as f64);
    let values = [
        ("min", (!empty).then(|| h.min() as f64), Scope::Min),
        ("mean", (!empty).then(|| h.mean()), Scope::OverallAvg),
        ("p50", quantile(0.50), Scope::Percentile),
        ("p90", quantile(0.90), Scope::Percentile),
        ("p95", quantile(0.95), Scope::Percentile),
        ("p99", quantile(0.99), Scope::Percentile),
        ("p999", quantile(0.999), Scope::Percentile),
        ("max", (!empty).then(|| h.max() as f64), Scope::Max),
    ];
    for (name, value, scope) in values {
        put(
            out,
            format!("{family}.{name}"),
            value,
            Unit::Nanoseconds,
            scope,
            no_ops.clone(),
        );
    }
}

/// Open model only: late and dropped arrivals and the rate offered (beside
/// `service_time.*`, measured from each op's actual start, while `latency.*`
/// counts from its intended start).
fn open_metrics(totals: &OpTotals, out: &mut BTreeMap<String, MetricValue>) {
    put(
        out,
        "late".into(),
        Some(totals.late as f64),
        Unit::Count,
        Scope::Total,
        None,
    );
    put(
        out,
        "dropped".into(),
        Some(totals.dropped as f64),
        Unit::Count,
        Scope::Total,
        None,
    );
    let issuing = totals.issuing.as_secs_f64();
    put(
        out,
        "offered_rate".into(),
        (issuing > 0.0).then(|| (totals.ops + totals.dropped) as f64 / issuing),
        Unit::PerSecond,
        Scope::OverallAvg,
        Some("arrivals offered (run or dropped) per second of issuing".to_string()),
    );
    let busy = totals.generator.busy();
    put(
        out,
        "generator.busy".into(),
        busy.map(|b| b * 100.0),
        Unit::Percent,
        Scope::OverallAvg,
        Some("share of the arrival threads' time not spent waiting for the schedule".to_string()),
    );
    let cpu = totals.generator.cpu_cores();
    put(
        out,
        "generator.cpu".into(),
        cpu.map(|c| c * 100.0),
        Unit::Percent,
        Scope::OverallAvg,
        Some(if cpu.is_some() {
            "CPU time of all arrival threads over the issuing's wall time, percent of one core (ops run on these threads: their CPU is included)".to_string()
        } else {
            "thread CPU time cannot be read on this platform".to_string()
        }),
    );
    if let Some(lag) = &totals.lag {
        histogram_metrics("arrival.lag", lag, out);
        for name in ["min", "mean", "p50", "p90", "p95", "p99", "p999", "max"] {
            if let Some(m) = out.get_mut(&format!("arrival.lag.{name}"))
                && m.value.is_some()
            {
                m.note = Some(
                    "how late the generator sent each arrival after its intended time (latency counts from the intended time whatever this is)"
                        .to_string(),
                );
            }
        }
    }
    let pool = &totals.pool;
    if pool.bound > 0 {
        let bound = if pool.declared {
            format!("`connections = {}`", pool.bound)
        } else {
            format!(
                "the default bound of {} (rate × 16 ms, 16–1,024)",
                pool.bound
            )
        };
        put(
            out,
            "connections.peak".into(),
            Some(pool.peak as f64),
            Unit::Count,
            Scope::Max,
            Some(format!("most worker states held at once, under {bound}")),
        );
    }
    put(
        out,
        "queued".into(),
        Some(pool.queued as f64),
        Unit::Count,
        Scope::Total,
        Some(
            "arrivals that waited for an idle worker state (their wait is in `latency`)"
                .to_string(),
        ),
    );
}

/// Escalation only. Closed model: `breaking_point` (the first concurrency
/// at which an `until` condition broke; `null` if none did up to `max`) and
/// `max_sustainable_concurrency`; open model: `breaking_rate` and
/// `max_sustainable_rate`. Both: `max_sustainable_throughput`, from the last
/// step that held. A step the generator could not offer (tainted) ends the
/// escalation without a breaking point: it says nothing about the system.
pub(crate) fn escalation_metrics(
    steps: &[Step],
    open: bool,
    out: &mut BTreeMap<String, MetricValue>,
) {
    let (breaking, sustainable, unit, what) = if open {
        (
            "breaking_rate",
            "max_sustainable_rate",
            Unit::PerSecond,
            "rate",
        )
    } else {
        (
            "breaking_point",
            "max_sustainable_concurrency",
            Unit::Count,
            "concurrency",
        )
    };
    let shown = |level: f64| {
        if open {
            format_value(level, crate::criteria::Dimension::Rate)
        } else {
            format!("{level}")
        }
    };
    let ended = steps.iter().find(|s| !s.held);
    let (value, note) = match ended {
        Some(s) if s.aborted => (
            None,
            format!(
                "the escalation was aborted at {} by an abort criterion, so no breaking point was measured",
                shown(s.level)
            ),
        ),
        Some(s) if s.tainted => (
            None,
            format!(
                "the escalation ended at {}: the load generator could not offer it, so no breaking point was measured",
                shown(s.level)
            ),
        ),
        Some(s) => (
            Some(s.level),
            format!("{what} {} broke: {}", shown(s.level), s.broken.join("; ")),
        ),
        None => (
            None,
            format!("no condition broke up to the highest {what} tried"),
        ),
    };
    put(
        out,
        breaking.into(),
        value,
        unit,
        Scope::Observed,
        Some(note),
    );
    let last_held = steps.iter().take_while(|s| s.held).last();
    let none_held = last_held
        .is_none()
        .then(|| "the first step already broke a condition".to_string());
    put(
        out,
        sustainable.into(),
        last_held.map(|s| s.level),
        unit,
        Scope::Peak,
        none_held.clone(),
    );
    put(
        out,
        "max_sustainable_throughput".into(),
        last_held.map(|s| s.throughput_per_s),
        Unit::PerSecond,
        Scope::Peak,
        none_held,
    );
}

/// Arrival threads busy (never waiting for their schedule) more than this
/// share of the time, with the schedule slipping, mean the generator set the
/// pace, percent.
pub(crate) const GENERATOR_SATURATED: f64 = 90.0;

/// Under the open model: whether the load generator, not the system under
/// test, was the bottleneck. It was when the declared rate was not offered
/// (`offered_rate` more than `tolerance` below it) while the arrival threads
/// were saturated. Then the run's throughput and latency describe Brunt, and
/// the finding says so.
pub(crate) fn generator_bottleneck(
    declared_rate: f64,
    tolerance: f64,
    metrics: &BTreeMap<String, MetricValue>,
) -> Option<Finding> {
    let offered = metrics.get("offered_rate")?.value?;
    let busy = metrics.get("generator.busy")?.value?;
    if offered >= declared_rate * (1.0 - tolerance) || busy < GENERATOR_SATURATED {
        return None;
    }
    let cpu = metrics
        .get("generator.cpu")
        .and_then(|m| m.value)
        .map_or("unknown".to_string(), |c| {
            format_value(c, crate::criteria::Dimension::Percent)
        });
    Some(Finding {
        severity: Severity::Critical,
        kind: "generator_bottleneck".to_string(),
        title: "load generator was the bottleneck: run tainted".to_string(),
        detail: format!(
            "declared {}, offered {} while the arrival threads never caught up with their \
             schedule ({} of their time busy, {cpu} CPU); \
             the throughput and latency of this run measure Brunt's generator, \
             not the system under test. Lower the rate or give the generator more cores.",
            format_value(declared_rate, crate::criteria::Dimension::Rate),
            format_value(offered, crate::criteria::Dimension::Rate),
            format_value(busy, crate::criteria::Dimension::Percent),
        ),
    })
}

/// An Info finding when arrivals queued for one of the default bound's
/// worker states: their latency holds the wait, and the user may want a
/// larger pool (`connections`). A declared bound queues by choice: no
/// finding.
pub(crate) fn pool_finding(totals: &OpTotals) -> Option<Finding> {
    let pool = &totals.pool;
    if pool.declared || pool.queued == 0 || pool.bound == 0 {
        return None;
    }
    Some(Finding {
        severity: Severity::Info,
        kind: "pool_queued".to_string(),
        title: "arrivals queued for a worker state".to_string(),
        detail: format!(
            "{} of {} arrivals found all {} worker states in use (the default bound: rate × 16 ms, 16–1,024) \
             and waited for one; that wait is in their latency. Declare `connections = N` to choose the pool.",
            pool.queued,
            totals.ops + totals.dropped,
            pool.bound,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn load_metrics_from_totals() {
        let mut totals = OpTotals::default();
        for i in 0..100u64 {
            totals.latency.record(1_000 * (i + 1)).unwrap();
        }
        totals.ops = 100;
        totals.errors = 5;
        totals.measured = Duration::from_secs(2);
        let mut out = BTreeMap::new();
        load_metrics(&totals, &mut out);
        assert_eq!(out["success_rate"].value, Some(95.0));
        // Throughput counts the 95 that succeeded; every attempt has its own.
        assert_eq!(out["throughput"].value, Some(47.5));
        assert_eq!(out["attempted_rate"].value, Some(50.0));
        assert_eq!(out["duration"].value, Some(2.0));
        assert_eq!(out["latency.max"].unit, Unit::Nanoseconds);
        let p50 = out["latency.p50"].value.unwrap();
        assert!((49_900.0..=50_100.0).contains(&p50), "{p50}");
    }
}
