//! What every renderer shows, computed once from the suite: the headline
//! figures of each scenario, the failed criteria ranked by how far they
//! missed, throughput consistency across scenarios, established limits,
//! the command that reproduces a scenario, each metric's precision, and
//! the exit code. Renderers format this; none of them measures.

use brunt_grammar::parse_criterion;

use crate::criteria::Verdict;
use crate::report::{MetricValue, Outcome, Report, format_value};
use crate::suite::baseline::Comparison;
use crate::suite::model::{Suite, SuiteMeta};
use crate::suite::stats::{Spread, spread};

/// A metric's value for people, in the unit that keeps it short; `–` when
/// missing.
pub fn metric_text(metric: Option<&MetricValue>) -> String {
    match metric.and_then(|m| m.value.map(|v| (v, m.unit))) {
        Some((value, unit)) => format_value(unit.to_base(value), unit.dimension()),
        None => "–".to_string(),
    }
}

/// A time in ns for people (`3.1ms`); `–` when missing.
pub fn ns_text(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| {
        format_value(v, crate::criteria::Dimension::Time)
    })
}

/// Whether an escalation step held: `yes`, `tainted` (the generator, not
/// the system, fell behind) or `no`.
pub fn step_held(step: &crate::report::Step) -> &'static str {
    if step.held {
        "yes"
    } else if step.tainted {
        "tainted"
    } else {
        "no"
    }
}

/// A report's metric for people.
pub fn report_metric(report: &Report, name: &str) -> String {
    metric_text(report.metrics.get(name))
}

/// A criterion's target as written: `<= 50ms` of `latency.p99 <= 50ms`.
pub fn criterion_target(verdict: &Verdict) -> String {
    if let Ok(parsed) = parse_criterion(&verdict.expr) {
        let unit = parsed.unit.map_or("", |u| u.symbol());
        return format!("{} {}{unit}", parsed.op.symbol(), parsed.value);
    }
    // `window(…)`, `abort(…)`: the expression after the metric's name.
    match verdict.expr.find(&verdict.metric) {
        Some(at) => verdict.expr[at + verdict.metric.len()..]
            .trim()
            .trim_end_matches(')')
            .to_string(),
        None => verdict.expr.clone(),
    }
}

/// A criterion's actual value for people.
pub fn criterion_actual(verdict: &Verdict) -> String {
    match (verdict.actual, verdict.unit) {
        (Some(v), Some(unit)) => format_value(unit.to_base(v), unit.dimension()),
        (Some(v), None) => format!("{v}"),
        (None, _) => "not measured".to_string(),
    }
}

/// The run's load second by second, `(t_ms, ops, errors)`, from its first
/// second with a finished op to its last, a second in which no op finished
/// (a stall) included as zero: the report lists only seconds that saw an
/// op finish, and leaving the stalls out would overstate throughput.
pub fn load_seconds(report: &Report) -> Vec<(f64, u64, u64)> {
    let mut out: Vec<(f64, u64, u64)> = Vec::new();
    for p in &report.samples.load {
        if let Some(&(last, _, _)) = out.last() {
            let mut t = last + 1000.0;
            while t < p.t_ms - 1.0 {
                out.push((t, 0, 0));
                t += 1000.0;
            }
        }
        out.push((p.t_ms, p.ops, p.errors));
    }
    out
}

/// A failed criterion with its scenario.
#[derive(Debug, Clone)]
pub struct FailedCriterion<'a> {
    /// The scenario.
    pub scenario: &'a str,
    /// The verdict.
    pub verdict: &'a Verdict,
    /// How far it missed, relative to its target (∞ when never measured).
    pub miss: f64,
}

/// Every failed criterion of the suite, the furthest miss first.
pub fn failed_criteria(suite: &Suite) -> Vec<FailedCriterion<'_>> {
    let mut failed: Vec<FailedCriterion> = suite
        .reports
        .iter()
        .flat_map(|r| {
            r.criteria
                .iter()
                .filter(|v| !v.passed)
                .map(move |v| FailedCriterion {
                    scenario: &r.scenario.name,
                    verdict: v,
                    miss: miss(v),
                })
        })
        .collect();
    failed.sort_by(|a, b| b.miss.total_cmp(&a.miss));
    failed
}

fn miss(verdict: &Verdict) -> f64 {
    let Some(actual) = verdict.actual else {
        return f64::INFINITY;
    };
    let Ok(parsed) = parse_criterion(&verdict.expr) else {
        return 0.0;
    };
    let target = parsed
        .unit
        .map_or(parsed.value, |u| u.to_base(parsed.value));
    let actual = verdict.unit.map_or(actual, |u| u.to_base(actual));
    if target == 0.0 {
        actual.abs()
    } else {
        ((actual - target) / target).abs()
    }
}

/// Throughput consistency across the suite's scenarios, as seed 003
/// reports it: mean, standard deviation and coefficient of variation of
/// their `throughput` (tainted runs left out).
pub fn throughput_consistency(suite: &Suite) -> Option<(Spread, usize)> {
    let values: Vec<f64> = suite
        .reports
        .iter()
        .filter(|r| !r.tainted)
        .filter_map(|r| r.metrics.get("throughput").and_then(|m| m.value))
        .collect();
    spread(&values).map(|s| (s, values.len()))
}

/// Whether a metric states a limit the run established: an escalation's
/// breaking point and last held level, a scenario's `limit.*`, seed 000's
/// process limit.
pub fn is_limit(metric: &str) -> bool {
    metric.starts_with("limit.")
        || metric.starts_with("breaking_")
        || metric.starts_with("max_sustainable_")
        || matches!(metric, "process_count_max" | "time_to_limit_s")
}

/// The limits a report established.
pub fn limits(report: &Report) -> Vec<(&str, &MetricValue)> {
    report
        .metrics
        .iter()
        .filter(|(name, m)| is_limit(name) && m.value.is_some())
        .map(|(name, m)| (name.as_str(), m))
        .collect()
}

/// The one command that runs `report`'s scenario again as it ran here.
pub fn reproduce_command(meta: &SuiteMeta, report: &Report) -> String {
    let runner = if meta.runner.is_empty() {
        format!("cargo test --test {} --", meta.test_target)
    } else {
        meta.runner.clone()
    };
    format!(
        "BRUNT_SCALE={} BRUNT_SEED={} {runner} --ignored --exact {}",
        report.run.scale, report.run.seed, report.scenario.name
    )
}

/// How precisely a metric is known, in seed 000's metrology sense: the
/// resolution of the instrument that produced it.
pub fn precision(report: &Report, name: &str, metric: &MetricValue) -> String {
    let sampled = format!("sampled every {} ms", report.samples.interval_ms);
    let family = name.strip_prefix("target.").unwrap_or(name);
    let hdr = "3 significant digits (HDR histogram, ns clock)";
    if family.starts_with("latency.")
        || family.starts_with("service_time.")
        || family.starts_with("setup.time.")
        || (family.starts_with("op.") && family.contains(".latency."))
    {
        return hdr.to_string();
    }
    if family.starts_with("rss.") {
        return format!("4 KiB page, {sampled}");
    }
    if family.starts_with("cpu.") {
        return format!("kernel CPU time (ns), {sampled}");
    }
    if family.starts_with("heap.") {
        return format!("exact bytes (counting allocator), {sampled}");
    }
    if family.starts_with("threads.") || family.starts_with("fds.") {
        return format!("exact count, {sampled}");
    }
    match metric.scope.as_str() {
        "total" => "exact count".to_string(),
        "trend" => format!("trend over the samples after warm-up, {sampled}"),
        _ => match metric.unit.dimension() {
            crate::criteria::Dimension::Time => "ns clock".to_string(),
            crate::criteria::Dimension::Rate => "exact count over ns clock".to_string(),
            _ => "as measured by the scenario".to_string(),
        },
    }
}

/// The command's exit code: 1 when a scenario did not pass or (with
/// `fail_on_regression`) a metric regressed, else 0.
pub fn exit_code(suite: &Suite, comparison: Option<&Comparison>, fail_on_regression: bool) -> u8 {
    let regressed = comparison.is_some_and(|c| c.regressions().next().is_some());
    if !suite.passed() || (fail_on_regression && regressed) {
        1
    } else {
        0
    }
}

/// One line on the suite: counts and outcome.
pub fn verdict_line(suite: &Suite, comparison: Option<&Comparison>) -> String {
    let counts: Vec<String> = suite
        .outcome_counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect();
    let regressions = comparison.map_or(0, |c| c.regressions().count());
    let mut line = format!(
        "{}: {} scenario{} — {}",
        if suite.passed() && regressions == 0 {
            "PASSED"
        } else {
            "FAILED"
        },
        suite.reports.len(),
        if suite.reports.len() == 1 { "" } else { "s" },
        counts.join(", ")
    );
    if let Some(c) = comparison {
        line.push_str(&format!(
            "; {regressions} regression{} against baseline `{}`",
            if regressions == 1 { "" } else { "s" },
            c.baseline
        ));
    }
    line
}

/// Whether an outcome is an error in JUnit's sense (the scenario did not
/// run to a verdict) rather than a failure.
pub fn is_error(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Error | Outcome::Crashed | Outcome::TimedOut
    )
}
