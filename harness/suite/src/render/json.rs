//! `stress-report.json`: every metric of every scenario with its value,
//! unit, scope and precision (seed 000's metrology format), the run's
//! metadata, the suite's latency from merged histograms, and the
//! comparison with a baseline. Dashboards read this file.

use serde_json::{Map, Value, json};

use crate::baseline::Comparison;
use crate::model::{SUITE_SCHEMA, Suite};
use crate::view::{
    criterion_target, failed_criteria, limits, precision, reproduce_command, throughput_consistency,
};

/// Renders the suite as the aggregate JSON.
pub fn render_json(suite: &Suite, comparison: Option<&Comparison>) -> Value {
    let scenarios: Vec<Value> = suite
        .reports
        .iter()
        .map(|r| {
            let metrics: Map<String, Value> = r
                .metrics
                .iter()
                .map(|(name, m)| {
                    let mut entry = json!({
                        "value": m.value,
                        "unit": m.unit.symbol(),
                        "scope": m.scope,
                        "precision": precision(r, name, m),
                    });
                    if let Some(note) = &m.note {
                        entry["note"] = json!(note);
                    }
                    (name.clone(), entry)
                })
                .collect();
            let mut scenario = json!({
                "name": r.scenario.name,
                "module": r.scenario.module,
                "file": r.scenario.file,
                "line": r.scenario.line,
                "tags": r.scenario.tags,
                "outcome": r.outcome.as_str(),
                "reason": r.reason,
                "tainted": r.tainted,
                "flaky": r.flaky,
                "attempts": r.attempts,
                "seed": r.run.seed,
                "scale": r.run.scale,
                "started_at": r.run.started_at,
                "wall_ms": r.run.wall_ms,
                "command": reproduce_command(&suite.meta, r),
                "metrics": metrics,
                "criteria": r.criteria.iter().map(|v| json!({
                    "expr": v.expr,
                    "metric": v.metric,
                    "target": criterion_target(v),
                    "actual": v.actual,
                    "unit": v.unit.map(|u| u.symbol()),
                    "passed": v.passed,
                    "reason": v.reason,
                })).collect::<Vec<_>>(),
                "limits": limits(r).iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                "findings": r.findings,
            });
            if !r.steps.is_empty() {
                scenario["steps"] = json!(r.steps);
            }
            if let Some(chaos) = &r.chaos {
                scenario["chaos"] = json!({
                    "seed": chaos.seed,
                    "schedule_digest": chaos.schedule_digest,
                    "planned": chaos.planned,
                    "ran": chaos.log.len(),
                    "distribution": chaos.distribution,
                    "minimal": chaos.minimal,
                    "replay": chaos.replay,
                });
            }
            scenario
        })
        .collect();
    let latency = match suite.merged_histograms() {
        Ok(h) => {
            let mut out = Map::new();
            for (family, hist) in h {
                if hist.is_empty() {
                    continue;
                }
                let q = |q: f64| hist.value_at_quantile(q);
                out.insert(
                    family,
                    json!({
                        "unit": "ns",
                        "scope": "percentile",
                        "precision": "3 significant digits (HDR histograms of every scenario, added)",
                        "count": hist.len(),
                        "p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p999": q(0.999),
                        "max": hist.max(),
                    }),
                );
            }
            Value::Object(out)
        }
        Err(e) => json!({ "error": e }),
    };
    let totals = |name: &str| -> f64 {
        suite
            .reports
            .iter()
            .filter_map(|r| r.metrics.get(name).and_then(|m| m.value))
            .sum()
    };
    json!({
        "schema": SUITE_SCHEMA,
        "meta": suite.meta,
        "summary": {
            "passed": suite.passed() && comparison.is_none_or(|c| c.regressions().next().is_none()),
            "scenarios": suite.reports.len(),
            "outcomes": suite.outcome_counts().into_iter().map(|(o, n)| (o.as_str().to_string(), json!(n))).collect::<Map<_, _>>(),
            "failed_criteria": failed_criteria(suite).iter().map(|f| json!({
                "scenario": f.scenario,
                "expr": f.verdict.expr,
                "reason": f.verdict.reason,
            })).collect::<Vec<_>>(),
            "ops": { "value": totals("ops"), "unit": "count", "scope": "total", "precision": "exact count" },
            "errors": { "value": totals("errors"), "unit": "count", "scope": "total", "precision": "exact count" },
            "latency": latency,
            "throughput_consistency": throughput_consistency(suite).map(|(s, n)| json!({
                "scenarios": n,
                "mean": s.mean,
                "sd": s.sd,
                "cv_pct": s.cv_pct,
                "unit": "/s",
            })),
        },
        "scenarios": scenarios,
        "comparison": comparison,
    })
}
