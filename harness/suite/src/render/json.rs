//! `stress-report.json`: every metric of every scenario with its value,
//! unit, scope and precision (seed 000's metrology format), the run's
//! metadata, the suite's latency from merged histograms, and the
//! comparison with a baseline — a [`SuiteFile`], the type `--merge` reads
//! back. Dashboards read this file.

use std::collections::BTreeMap;

use brunt_report::{Report, Scope};

use crate::baseline::Comparison;
use crate::model::{SUITE_SCHEMA, Suite, SuiteMeta};
use crate::suite_file::{
    ChaosSummary, CriterionEntry, FailedCriterionEntry, LatencySummary, ScenarioSummary, SuiteFile,
    SuiteLatency, SuiteMetric, SuiteSummary, SuiteTotal, ThroughputConsistency,
};
use crate::view::{
    criterion_target, failed_criteria, limits, precision, reproduce_command, throughput_consistency,
};

/// Renders the suite as the aggregate JSON.
pub fn render_json(suite: &Suite, comparison: Option<&Comparison>) -> SuiteFile {
    let totals = |name: &str| -> f64 {
        suite
            .reports
            .iter()
            .filter_map(|r| r.metrics.get(name).and_then(|m| m.value))
            .sum()
    };
    SuiteFile {
        schema: SUITE_SCHEMA.to_string(),
        meta: suite.meta.clone(),
        summary: SuiteSummary {
            passed: suite.passed() && comparison.is_none_or(|c| c.regressions().next().is_none()),
            scenarios: suite.reports.len(),
            outcomes: suite
                .outcome_counts()
                .into_iter()
                .map(|(o, n)| (o.as_str().to_string(), n))
                .collect(),
            failed_criteria: failed_criteria(suite)
                .iter()
                .map(|f| FailedCriterionEntry {
                    scenario: f.scenario.to_string(),
                    expr: f.verdict.expr.clone(),
                    reason: f.verdict.reason.clone(),
                })
                .collect(),
            ops: SuiteTotal::count(totals("ops")),
            errors: SuiteTotal::count(totals("errors")),
            latency: latency(suite),
            throughput_consistency: throughput_consistency(suite).map(|(s, n)| {
                ThroughputConsistency {
                    scenarios: n,
                    mean: s.mean,
                    sd: s.sd,
                    cv_pct: s.cv_pct,
                    unit: "/s".into(),
                }
            }),
        },
        scenarios: suite
            .reports
            .iter()
            .map(|r| scenario(&suite.meta, r))
            .collect(),
        comparison: comparison.cloned(),
    }
}

/// The suite's latency per histogram family, from every scenario's
/// histograms added.
fn latency(suite: &Suite) -> SuiteLatency {
    let histograms = match suite.merged_histograms() {
        Ok(h) => h,
        Err(error) => return SuiteLatency::Error { error },
    };
    let families = histograms
        .into_iter()
        .filter(|(_, hist)| !hist.is_empty())
        .map(|(family, hist)| {
            let q = |q: f64| hist.value_at_quantile(q);
            let summary = LatencySummary {
                unit: "ns".into(),
                scope: Scope::Percentile,
                precision: "3 significant digits (HDR histograms of every scenario, added)".into(),
                count: hist.len(),
                p50: q(0.5),
                p90: q(0.9),
                p99: q(0.99),
                p999: q(0.999),
                max: hist.max(),
            };
            (family, summary)
        })
        .collect();
    SuiteLatency::Families(families)
}

fn scenario(meta: &SuiteMeta, r: &Report) -> ScenarioSummary {
    let metrics: BTreeMap<String, SuiteMetric> = r
        .metrics
        .iter()
        .map(|(name, m)| {
            let metric = SuiteMetric {
                value: m.value,
                unit: m.unit.symbol().to_string(),
                scope: m.scope,
                precision: precision(r, name, m),
                note: m.note.clone(),
            };
            (name.clone(), metric)
        })
        .collect();
    ScenarioSummary {
        name: r.scenario.name.clone(),
        module: r.scenario.module.clone(),
        file: r.scenario.file.clone(),
        line: r.scenario.line,
        tags: r.scenario.tags.clone(),
        outcome: r.outcome.as_str().to_string(),
        reason: r.reason.clone(),
        tainted: r.tainted,
        flaky: r.flaky,
        attempts: r.attempts.clone(),
        seed: r.run.seed,
        scale: r.run.scale,
        started_at: r.run.started_at.clone(),
        wall_ms: r.run.wall_ms,
        command: reproduce_command(meta, r),
        metrics,
        criteria: r
            .criteria
            .iter()
            .map(|v| CriterionEntry {
                expr: v.expr.clone(),
                metric: v.metric.clone(),
                target: criterion_target(v),
                actual: v.actual,
                unit: v.unit.map(|u| u.symbol().to_string()),
                passed: v.passed,
                reason: v.reason.clone(),
            })
            .collect(),
        limits: limits(r).iter().map(|(n, _)| n.to_string()).collect(),
        findings: r.findings.clone(),
        steps: r.steps.clone(),
        chaos: r.chaos.as_ref().map(|chaos| ChaosSummary {
            seed: chaos.seed,
            schedule_digest: chaos.schedule_digest.clone(),
            planned: chaos.planned,
            ran: chaos.log.len(),
            distribution: chaos.distribution.clone(),
            minimal: chaos.minimal.clone(),
            replay: chaos.replay.clone(),
        }),
    }
}
