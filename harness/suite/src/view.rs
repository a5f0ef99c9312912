//! What every renderer shows, computed once from the suite: the headline
//! figures of each scenario, the failed criteria ranked by how far they
//! missed, throughput consistency across scenarios, established limits,
//! the command that reproduces a scenario, each metric's precision, and
//! the exit code. Renderers format this; none of them measures.

use brunt_grammar::parse_criterion;

use crate::baseline::Comparison;
use crate::model::{Suite, SuiteMeta};
use crate::stats::{Spread, load_seconds, spread};
use brunt_report::Verdict;
use brunt_report::{MetricValue, Outcome, Report, Scope, format_value};

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
        format_value(v, brunt_grammar::Dimension::Time)
    })
}

/// Whether an escalation step held: `yes`, `tainted` (the generator, not
/// the system, fell behind) or `no`.
pub fn step_held(step: &brunt_report::Step) -> &'static str {
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

/// A bin the measured load covered less than this share of is left out of
/// the throughput chart: its rate would be extrapolated from a sliver of
/// time (a drive that ended 2 ms into a bin).
pub const MIN_COVERED_SHARE: f64 = 0.5;

/// One bin of a scenario's load charts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartBin {
    /// Start of the bin, ms since the run started.
    pub t_ms: f64,
    /// Ops finished per second of the part of the bin the measured load
    /// covered; `None` when it covered less than [`MIN_COVERED_SHARE`].
    pub throughput: Option<f64>,
    /// Latency percentiles of the ops finished in the bin, ns (`None` when
    /// none finished).
    pub latency_p50_ns: Option<f64>,
    /// 90th percentile, ns.
    pub latency_p90_ns: Option<f64>,
    /// 99th percentile, ns.
    pub latency_p99_ns: Option<f64>,
}

/// A scenario's load as its throughput and latency charts draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLoad {
    /// Width of every bin, ms.
    pub width_ms: f64,
    /// The bins, in time order.
    pub bins: Vec<ChartBin>,
    /// Bins left out of the throughput line because the load covered less
    /// than [`MIN_COVERED_SHARE`] of them.
    pub partial_left_out: usize,
    /// How long the measured load ran, ms.
    pub load_ms: f64,
}

/// The load of `report` for its charts: the report's uniform bins
/// (`samples.load_bins`), throughput as ops that succeeded per second of the part of each
/// bin the load covered, so a run that ends 100 ms into its last second
/// does not draw a collapse; bins the load covered less than half of are
/// left out unless fewer than two would remain. A report written before those bins existed
/// falls back to its seconds, taken as whole. `None` without measured ops.
pub fn chart_load(report: &Report) -> Option<ChartLoad> {
    if let Some(bins_of) = &report.samples.load_bins {
        let width = bins_of.width_ms;
        let whole_enough = |covered_ms: f64| covered_ms >= MIN_COVERED_SHARE * width;
        // A load too short for two bins it covered half of: every bin it
        // ran in at all, rather than no line.
        let keep_partial = bins_of
            .points
            .iter()
            .filter(|b| whole_enough(b.covered_ms))
            .count()
            < 2;
        let mut partial_left_out = 0;
        let bins = bins_of
            .points
            .iter()
            .map(|b| {
                let drawn = b.covered_ms > 0.0 && (keep_partial || whole_enough(b.covered_ms));
                partial_left_out += usize::from(!drawn);
                ChartBin {
                    t_ms: b.t_ms,
                    throughput: drawn
                        .then(|| (b.ops - b.errors.min(b.ops)) as f64 * 1e3 / b.covered_ms),
                    latency_p50_ns: b.latency_p50_ns,
                    latency_p90_ns: b.latency_p90_ns,
                    latency_p99_ns: b.latency_p99_ns,
                }
            })
            .collect::<Vec<_>>();
        let load_ms = bins_of.points.iter().map(|b| b.covered_ms).sum();
        return (!bins.is_empty()).then_some(ChartLoad {
            width_ms: width,
            bins,
            partial_left_out,
            load_ms,
        });
    }
    let seconds = load_seconds(report);
    if seconds.is_empty() {
        return None;
    }
    let bins = seconds
        .iter()
        .map(|&(t_ms, ops, errors)| {
            let point = report.samples.load.iter().find(|p| p.t_ms == t_ms);
            ChartBin {
                t_ms,
                throughput: Some((ops - errors.min(ops)) as f64),
                latency_p50_ns: point.and_then(|p| p.latency_p50_ns),
                latency_p90_ns: point.and_then(|p| p.latency_p90_ns),
                latency_p99_ns: point.and_then(|p| p.latency_p99_ns),
            }
        })
        .collect();
    Some(ChartLoad {
        width_ms: 1e3,
        load_ms: 1e3 * seconds.len() as f64,
        bins,
        partial_left_out: 0,
    })
}

/// A bin width for people: `10 ms`, `1 s`.
pub fn width_text(width_ms: f64) -> String {
    if width_ms >= 1e3 {
        format!("{} s", trimmed(width_ms / 1e3))
    } else {
        format!("{} ms", trimmed(width_ms))
    }
}

/// A number without trailing zeros, at most three decimals: `1.5`, `120`.
pub fn trimmed(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// An escalation step's level with its unit: `16 workers` for a closed
/// model, `2,000/s` for an open one (an escalation of rates reports
/// `breaking_rate`; its steps an offered rate).
pub fn step_level(report: &Report, step: &brunt_report::Step) -> String {
    let open = report.metrics.contains_key("breaking_rate")
        || report.metrics.contains_key("max_sustainable_rate")
        || report.steps.iter().any(|s| s.offered_rate_per_s.is_some());
    let count = if step.level.fract() == 0.0 {
        format_value(step.level, brunt_grammar::Dimension::Count)
    } else {
        trimmed(step.level)
    };
    if open {
        format!("{count}/s")
    } else if step.level == 1.0 {
        "1 worker".to_string()
    } else {
        format!("{count} workers")
    }
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
    match metric.scope {
        Scope::Total => "exact count".to_string(),
        Scope::Trend => format!("trend over the samples after warm-up, {sampled}"),
        _ => match metric.unit.dimension() {
            brunt_grammar::Dimension::Time => "ns clock".to_string(),
            brunt_grammar::Dimension::Rate => "exact count over ns clock".to_string(),
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
    let flaky = suite.reports.iter().filter(|r| r.flaky).count();
    let counts = if flaky > 0 {
        let mut counts = counts;
        counts.push(format!("{flaky} flaky (passed on a rerun)"));
        counts
    } else {
        counts
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use brunt_report::{LoadBin, LoadBins, LoadPoint, Step};

    fn report() -> Report {
        serde_json::from_str(include_str!("../../tests/data/report.json")).unwrap()
    }

    fn bin(t_ms: f64, covered_ms: f64, ops: u64) -> LoadBin {
        LoadBin {
            t_ms,
            covered_ms,
            ops,
            errors: 0,
            latency_p50_ns: (ops > 0).then_some(1e6),
            latency_p90_ns: (ops > 0).then_some(2e6),
            latency_p99_ns: (ops > 0).then_some(3e6),
            latency_max_ns: (ops > 0).then_some(4e6),
        }
    }

    #[test]
    fn throughput_is_per_second_of_the_load_a_bin_covered() {
        let mut r = report();
        // A drive from 3 ms to 43 ms at 1,000 ops/s, stalled in [20, 30).
        r.samples.load_bins = Some(LoadBins {
            width_ms: 10.0,
            points: vec![
                bin(0.0, 7.0, 7),
                bin(10.0, 10.0, 10),
                bin(20.0, 10.0, 0),
                bin(30.0, 10.0, 10),
                bin(40.0, 3.0, 3),
            ],
        });
        let load = chart_load(&r).unwrap();
        assert_eq!(load.width_ms, 10.0);
        let throughput: Vec<Option<f64>> = load.bins.iter().map(|b| b.throughput).collect();
        // The first bin, 7 ops in 7 ms, is no drop; the stall is a zero;
        // the last bin, covered 3 ms of 10, is left out rather than drawn
        // from a sliver.
        assert_eq!(
            throughput,
            [Some(1000.0), Some(1000.0), Some(0.0), Some(1000.0), None]
        );
        assert_eq!(load.partial_left_out, 1);
        assert_eq!(load.load_ms, 40.0);
        // Its latency is still drawn: the ops in it are measured.
        assert_eq!(load.bins[4].latency_p99_ns, Some(3e6));
        assert_eq!(load.bins[2].latency_p99_ns, None);
    }

    #[test]
    fn a_load_too_short_for_two_half_covered_bins_keeps_its_partial_ones() {
        let mut r = report();
        // 6 ms of load over two 10 ms bins: 4 ms and 2 ms of them.
        r.samples.load_bins = Some(LoadBins {
            width_ms: 10.0,
            points: vec![bin(0.0, 4.0, 8), bin(10.0, 2.0, 4)],
        });
        let load = chart_load(&r).unwrap();
        let throughput: Vec<Option<f64>> = load.bins.iter().map(|b| b.throughput).collect();
        assert_eq!(throughput, [Some(2000.0), Some(2000.0)]);
        assert_eq!(load.partial_left_out, 0);
    }

    #[test]
    fn a_report_without_bins_charts_its_seconds() {
        let mut r = report();
        r.samples.load_bins = None;
        let second = |t_ms: f64, ops: u64| LoadPoint {
            t_ms,
            ops,
            errors: 0,
            latency_p50_ns: Some(1e6),
            latency_p90_ns: Some(2e6),
            latency_p99_ns: Some(3e6),
            latency_max_ns: Some(4e6),
        };
        r.samples.load = vec![second(0.0, 500), second(2000.0, 400)];
        let load = chart_load(&r).unwrap();
        assert_eq!(load.width_ms, 1000.0);
        let bins: Vec<(f64, Option<f64>, Option<f64>)> = load
            .bins
            .iter()
            .map(|b| (b.t_ms, b.throughput, b.latency_p50_ns))
            .collect();
        assert_eq!(
            bins,
            [
                (0.0, Some(500.0), Some(1e6)),
                (1000.0, Some(0.0), None),
                (2000.0, Some(400.0), Some(1e6))
            ]
        );
        r.samples.load.clear();
        assert_eq!(chart_load(&r), None);
    }

    #[test]
    fn escalation_levels_carry_their_unit() {
        let step = |level: f64| Step {
            level,
            start_ms: 0.0,
            duration_ms: 1000.0,
            ops: 10,
            errors: 0,
            throughput_per_s: 10.0,
            offered_rate_per_s: None,
            latency_p50_ns: None,
            latency_p99_ns: None,
            held: true,
            tainted: false,
            aborted: false,
            broken: Vec::new(),
        };
        let mut closed = report();
        closed.steps = vec![step(1.0), step(16.0), step(1024.0)];
        let levels: Vec<String> = closed
            .steps
            .iter()
            .map(|s| step_level(&closed, s))
            .collect();
        assert_eq!(levels, ["1 worker", "16 workers", "1,024 workers"]);
        let mut open = closed.clone();
        open.metrics.insert(
            "breaking_rate".to_string(),
            MetricValue {
                value: None,
                unit: brunt_grammar::Unit::PerSecond,
                scope: Scope::Observed,
                note: None,
            },
        );
        open.steps = vec![step(2000.0), step(2.5)];
        let levels: Vec<String> = open.steps.iter().map(|s| step_level(&open, s)).collect();
        assert_eq!(levels, ["2,000/s", "2.5/s"]);
    }

    #[test]
    fn numbers_for_people_have_no_trailing_zeros() {
        let texts: Vec<String> = [1.5, 120.0, 0.30000000000000004, -0.0001, 2.125]
            .map(trimmed)
            .into();
        assert_eq!(texts, ["1.5", "120", "0.3", "0", "2.125"]);
        assert_eq!(width_text(10.0), "10 ms");
        assert_eq!(width_text(1000.0), "1 s");
        assert_eq!(width_text(6000.0), "6 s");
    }
}
