//! The compact verdict the parent prints after each scenario: outcome, the
//! headline numbers, and the criteria table.

use std::fmt::Write;

use crate::criteria::Dimension;
use crate::load::Escalation;
use brunt_report::{Outcome, Report, Severity, format_value};

/// Most characters of a finding's detail the verdict shows (the report
/// has all of it).
const DETAIL_CHARS: usize = 300;

fn metric_text(report: &Report, name: &str) -> Option<String> {
    let metric = report.metrics.get(name)?;
    let value = metric.value?;
    let unit = metric.unit;
    Some(format_value(unit.to_base(value), unit.dimension()))
}

/// A level of an escalation with its unit: `16 workers`, `2k/s`.
fn level_text(level: f64, open: bool) -> String {
    if open {
        format_value(level, Dimension::Rate)
    } else if level == 1.0 {
        "1 worker".to_string()
    } else {
        format!("{} workers", format_value(level, Dimension::Count))
    }
}

/// The escalation's heading, from its declaration: what rose, how, and the
/// conditions each step was held to.
fn escalation_heading(escalation: &Escalation) -> String {
    let until: Vec<&str> = escalation.until.iter().map(|c| c.expr).collect();
    format!(
        "escalation of {} from {} ×{} up to {}, {} a step, until {}:",
        if escalation.open {
            "the arrival rate"
        } else {
            "workers"
        },
        level_text(escalation.start, escalation.open),
        escalation.factor,
        level_text(escalation.max, escalation.open),
        format_value(escalation.step.as_nanos() as f64, Dimension::Time),
        until.join(", ")
    )
}

/// Renders the verdict block for one report; `escalation` is the scenario's
/// declared escalation, if it has one.
pub(crate) fn render_verdict(
    report: &Report,
    report_path: &std::path::Path,
    escalation: Option<&Escalation>,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "  {}{}{} {}",
        report.outcome.as_str().to_uppercase(),
        if report.flaky { " (FLAKY)" } else { "" },
        if report.tainted { " (TAINTED)" } else { "" },
        report.scenario.name
    );
    let headline: Vec<String> = [
        ("ops", "ops"),
        ("errors", "errors"),
        ("throughput", "throughput"),
        ("latency.p99", "p99"),
        ("rss.peak", "rss peak"),
    ]
    .iter()
    .filter_map(|(metric, label)| metric_text(report, metric).map(|v| format!("{label} {v}")))
    .collect();
    if !headline.is_empty() {
        let _ = write!(out, "  ({})", headline.join(", "));
    }
    out.push('\n');
    // Every run of a rerun scenario, each earlier one with why it did not
    // pass; the last is this report's.
    if !report.attempts.is_empty() {
        let runs = report.attempts.len() + 1;
        let last = (report.outcome, None);
        let earlier = report.attempts.iter().map(|a| {
            (
                a.outcome,
                a.reason.as_deref().and_then(|r| r.lines().next()),
            )
        });
        for (k, (outcome, reason)) in earlier.chain(std::iter::once(last)).enumerate() {
            let _ = writeln!(
                out,
                "    run {} of {runs}: {}{}{}",
                k + 1,
                outcome.as_str(),
                reason.map(|r| format!(": {r}")).unwrap_or_default(),
                if k + 1 == runs && report.flaky {
                    " — flaky: it failed, then passed on a rerun"
                } else {
                    ""
                }
            );
        }
    }
    // A failed run's failed criteria are in the table below; anything else
    // in its reason (an abort, the memory guard) is shown here.
    if let Some(reason) = &report.reason {
        for line in reason.lines() {
            if report.outcome != Outcome::Failed || !line.starts_with("criterion `") {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let width = report
        .criteria
        .iter()
        .map(|c| c.expr.len())
        .max()
        .unwrap_or(0);
    for verdict in &report.criteria {
        let mark = if verdict.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "    {mark} {:<width$}  {}",
            verdict.expr, verdict.reason
        );
    }
    let ops: Vec<&str> = {
        let mut ops: Vec<&str> = report
            .metrics
            .keys()
            .filter_map(|k| brunt_grammar::split_op_metric(k).map(|(op, _)| op))
            .collect();
        ops.dedup();
        ops
    };
    if !ops.is_empty() {
        let width = ops.iter().map(|o| o.len()).max().unwrap_or(0).max(2);
        let _ = writeln!(
            out,
            "    {:<width$}  {:>10}  {:>8}  {:>9}  {:>12}  {:>10}  {:>10}",
            "op", "ops", "errors", "expected", "throughput", "p50", "p99"
        );
        for op in ops {
            let get = |m: &str| metric_text(report, &format!("op.{op}.{m}")).unwrap_or("-".into());
            let _ = writeln!(
                out,
                "    {op:<width$}  {:>10}  {:>8}  {:>9}  {:>12}  {:>10}  {:>10}",
                get("ops"),
                get("errors"),
                get("expected_errors"),
                get("throughput"),
                get("latency.p50"),
                get("latency.p99")
            );
        }
    }
    if !report.steps.is_empty() {
        let open = escalation.map_or(
            report.steps.iter().any(|s| s.offered_rate_per_s.is_some()),
            |e| e.open,
        );
        match escalation {
            Some(escalation) => {
                let _ = writeln!(out, "    {}", escalation_heading(escalation));
            }
            None => {
                let _ = writeln!(out, "    escalation:");
            }
        }
        let levels: Vec<String> = report
            .steps
            .iter()
            .map(|s| level_text(s.level, open))
            .collect();
        let width = levels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        for (step, level) in report.steps.iter().zip(&levels) {
            let p99 = step
                .latency_p99_ns
                .map_or("-".to_string(), |v| format_value(v, Dimension::Time));
            let _ = writeln!(
                out,
                "      {level:>width$}: throughput {}, p99 {p99}{}",
                format_value(step.throughput_per_s, Dimension::Rate),
                if step.held {
                    String::new()
                } else if step.broken.is_empty() {
                    "  (did not hold)".to_string()
                } else {
                    format!("  (broke: {})", step.broken.join("; "))
                }
            );
        }
    }
    for finding in &report.findings {
        if finding.severity != Severity::Info {
            let _ = writeln!(out, "    ! {}", finding.title);
            let detail: String = finding.detail.chars().take(DETAIL_CHARS).collect();
            if !detail.is_empty() {
                let more = if finding.detail.chars().count() > DETAIL_CHARS {
                    " …"
                } else {
                    ""
                };
                let _ = writeln!(out, "      {detail}{more}");
            }
        }
    }
    let _ = writeln!(out, "    report: {}", report_path.display());
    out
}
