//! `stress-report.md`: what a reviewer reads, in the spirit of the seed
//! reports, with nothing claimed that was not measured.

use std::fmt::Write;

use crate::baseline::{ChangeVerdict, Comparison};
use crate::model::Suite;
use crate::view::{
    criterion_actual, criterion_target, failed_criteria, limits, metric_text, ns_text,
    report_metric, reproduce_command, step_held, step_level, throughput_consistency, verdict_line,
};
use brunt_report::{Report, format_value};

/// Escapes a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

/// Renders the suite (and its comparison with a baseline) as Markdown.
pub fn render_markdown(suite: &Suite, comparison: Option<&Comparison>) -> String {
    let mut out = String::new();
    let meta = &suite.meta;
    let _ = writeln!(out, "# Stress report\n");
    let _ = writeln!(out, "**{}**\n", verdict_line(suite, comparison));
    let _ = writeln!(
        out,
        "Commit `{}`{} · scale {} · {} · started {}{}\n",
        meta.git_commit.as_deref().unwrap_or("unknown"),
        if meta.git_dirty {
            " (uncommitted changes)"
        } else {
            ""
        },
        meta.scale,
        meta.host
            .as_ref()
            .map_or("host unknown".to_string(), |h| format!(
                "{}, {} CPUs, {}",
                h.os,
                h.cpus,
                format_value(h.total_memory_bytes as f64, brunt_grammar::Dimension::Size)
            )),
        meta.started_at,
        match (&meta.shard, meta.merged_shards.is_empty()) {
            (Some(s), _) => format!(" · shard {s}"),
            (None, false) => format!(
                " · merged shards {}",
                meta.merged_shards
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        }
    );

    // Executive summary.
    let _ = writeln!(out, "## Executive summary\n");
    for (outcome, n) in suite.outcome_counts() {
        if n > 0 {
            let _ = writeln!(out, "- {n} {}", outcome.as_str());
        }
    }
    if let Some(why) = &meta.runner_failed {
        let _ = writeln!(out, "- ❌ {why}");
    }
    let failed = failed_criteria(suite);
    if failed.is_empty() {
        let _ = writeln!(out, "- every acceptance criterion held");
    } else {
        let _ = writeln!(out, "- worst criteria:");
        for f in failed.iter().take(5) {
            let _ = writeln!(
                out,
                "  - `{}` in `{}`: {}",
                f.verdict.expr, f.scenario, f.verdict.reason
            );
        }
    }
    for report in suite.reports.iter().filter(|r| r.reason.is_some()) {
        if !matches!(report.outcome, brunt_report::Outcome::Failed) {
            let _ = writeln!(
                out,
                "- `{}` {}: {}",
                report.scenario.name,
                report.outcome.as_str(),
                report
                    .reason
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("")
            );
        }
    }
    if let Some(c) = comparison {
        let n = c.regressions().count();
        let _ = writeln!(
            out,
            "- {n} regression{} against baseline `{}`",
            if n == 1 { "" } else { "s" },
            c.baseline
        );
    }
    out.push('\n');

    // Results.
    let _ = writeln!(out, "## Results\n");
    let _ = writeln!(
        out,
        "| Scenario | Ops | Duration | Ops/s | Success rate | p99 latency | Outcome |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
    for r in &suite.reports {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {}{} | {} | {} | {} |",
            r.scenario.name,
            report_metric(r, "ops"),
            report_metric(r, "duration"),
            report_metric(r, "throughput"),
            if r.tainted { " (tainted)" } else { "" },
            report_metric(r, "success_rate"),
            report_metric(r, "latency.p99"),
            outcome_text(r)
        );
    }
    out.push('\n');

    // Criteria.
    let _ = writeln!(out, "## Acceptance criteria\n");
    let _ = writeln!(out, "| Scenario | Criterion | Target | Actual | Status |");
    let _ = writeln!(out, "|---|---|---|---:|---|");
    for r in &suite.reports {
        for v in &r.criteria {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} |",
                r.scenario.name,
                cell(&v.expr),
                cell(&criterion_target(v)),
                criterion_actual(v),
                if v.passed { "✅ pass" } else { "❌ **FAIL**" }
            );
        }
    }
    out.push('\n');

    // Regressions.
    if let Some(c) = comparison {
        render_comparison(&mut out, c);
    }

    // Consistency.
    let _ = writeln!(out, "## Throughput consistency\n");
    match throughput_consistency(suite) {
        Some((s, n)) => {
            let _ = writeln!(
                out,
                "Across {n} scenarios: mean {}, standard deviation {}, coefficient of variation {}. Scenarios differ in work per op, so a wide spread says the workloads differ, not that one is unstable.\n",
                format_value(s.mean, brunt_grammar::Dimension::Rate),
                format_value(s.sd, brunt_grammar::Dimension::Rate),
                s.cv_pct.map_or("–".to_string(), |cv| format!("{cv:.1}%"))
            );
        }
        None => {
            let _ = writeln!(out, "Fewer than two scenarios measured a throughput.\n");
        }
    }

    // Established limits.
    let with_limits: Vec<&Report> = suite
        .reports
        .iter()
        .filter(|r| !limits(r).is_empty())
        .collect();
    if !with_limits.is_empty() {
        let _ = writeln!(out, "## Established limits\n");
        let _ = writeln!(out, "| Scenario | Limit | Value | How measured |");
        let _ = writeln!(out, "|---|---|---:|---|");
        for r in with_limits {
            for (name, m) in limits(r) {
                let _ = writeln!(
                    out,
                    "| `{}` | `{name}` | {} | {} |",
                    r.scenario.name,
                    metric_text(Some(m)),
                    cell(m.note.as_deref().unwrap_or(m.scope.as_str()))
                );
            }
        }
        out.push('\n');
    }

    // Details.
    let _ = writeln!(out, "## Scenarios\n");
    for r in &suite.reports {
        render_scenario(&mut out, suite, r);
    }
    out
}

fn outcome_text(r: &Report) -> String {
    match r.outcome {
        brunt_report::Outcome::Passed if r.flaky => format!(
            "⚠️ passed, **flaky** (failed {} of {} runs: {})",
            r.attempts.len(),
            r.attempts.len() + 1,
            r.attempts
                .iter()
                .map(|a| a.outcome.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        brunt_report::Outcome::Passed => "✅ passed".to_string(),
        o => format!("❌ **{}**", o.as_str()),
    }
}

fn render_comparison(out: &mut String, c: &Comparison) {
    let _ = writeln!(out, "## Regressions against baseline `{}`\n", c.baseline);
    let _ = writeln!(
        out,
        "Baseline commit `{}`, run {}. A metric regresses when it moves the wrong way by more than {}% and the {}% bootstrap confidence interval of the change lies outside ±{}% noise; metrics measured once per run are not judged.\n",
        c.baseline_commit.as_deref().unwrap_or("unknown"),
        c.baseline_started_at,
        c.tolerance_pct,
        100.0 * (1.0 - c.significance),
        c.noise_pct
    );
    let judged = c.changed();
    if judged.is_empty() {
        let n = c.unchanged();
        let _ = writeln!(
            out,
            "No regression and no improvement among {n} judged metrics.\n"
        );
    } else {
        let _ = writeln!(
            out,
            "| Scenario | Metric | Baseline (run) | Now (run) | Change of the per-second mean | 95% CI | Verdict |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---|---|");
        for m in judged {
            let s = m.sampled.as_ref();
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {} | {} |",
                m.scenario,
                m.metric,
                value_in(m.base, &m.unit),
                value_in(m.new, &m.unit),
                s.map_or("–".to_string(), |s| format!("{:+.1}%", s.change_pct)),
                s.map_or("–".to_string(), |s| format!(
                    "{:+.1}% … {:+.1}%",
                    s.ci_pct.0, s.ci_pct.1
                )),
                if m.verdict == ChangeVerdict::Regressed {
                    "❌ **regressed**"
                } else {
                    "improved"
                }
            );
        }
        out.push('\n');
    }
    let mut listed = false;
    for r in &c.refused {
        let _ = writeln!(out, "- `{}` not compared: {}", r.scenario, r.reason);
        listed = true;
    }
    for name in &c.new_scenarios {
        let _ = writeln!(out, "- `{name}` is new: not in the baseline");
        listed = true;
    }
    for name in &c.missing_scenarios {
        let _ = writeln!(out, "- `{name}` is in the baseline and did not run");
        listed = true;
    }
    if listed {
        out.push('\n');
    }
}

fn value_in(value: Option<f64>, unit: &str) -> String {
    match (value, brunt_grammar::Unit::from_symbol(unit)) {
        (Some(v), Ok(u)) => format_value(u.to_base(v), u.dimension()),
        (Some(v), Err(_)) => format!("{v}"),
        (None, _) => "–".to_string(),
    }
}

fn render_scenario(out: &mut String, suite: &Suite, r: &Report) {
    let _ = writeln!(out, "### `{}` — {}\n", r.scenario.name, outcome_text(r));
    let _ = writeln!(
        out,
        "`{}:{}` · seed {} · scale {}{}\n",
        r.scenario.file,
        r.scenario.line,
        r.run.seed,
        r.run.scale,
        if r.scenario.tags.is_empty() {
            String::new()
        } else {
            format!(" · tags {}", r.scenario.tags.join(", "))
        }
    );
    let _ = writeln!(
        out,
        "Reproduce:\n\n```sh\n{}\n```\n",
        reproduce_command(&suite.meta, r)
    );
    if let Some(reason) = &r.reason {
        let _ = writeln!(
            out,
            "**Why it {}:**\n\n```text\n{reason}\n```\n",
            r.outcome.as_str()
        );
    }
    // Load and latency.
    let load: Vec<(&str, &str)> = [
        ("ops", "Ops"),
        ("errors", "Errors"),
        ("throughput", "Throughput"),
        ("success_rate", "Success rate"),
        ("latency.p50", "Latency p50"),
        ("latency.p99", "Latency p99"),
        ("latency.max", "Latency max"),
    ]
    .into_iter()
    .filter(|(m, _)| r.metrics.contains_key(*m))
    .collect();
    if !load.is_empty() {
        let _ = writeln!(
            out,
            "{}\n",
            load.iter()
                .map(|(m, label)| format!("{label} **{}**", report_metric(r, m)))
                .collect::<Vec<_>>()
                .join(" · ")
        );
    }
    // Resources.
    let mut rows = Vec::new();
    for (prefix, label) in [("", "this process"), ("target.", "watched processes")] {
        for (kind, unit_label) in [("rss", "RSS"), ("heap", "heap (live)")] {
            let peak = format!("{prefix}{kind}.peak");
            if r.metrics.contains_key(&peak) {
                rows.push(format!(
                    "| {unit_label}, {label} | {} | {} | {} |",
                    report_metric(r, &peak),
                    report_metric(r, &format!("{prefix}{kind}.growth")),
                    report_metric(r, &format!("{prefix}{kind}.slope"))
                ));
            }
        }
        let cpu = format!("{prefix}cpu.peak");
        if r.metrics.contains_key(&cpu) {
            rows.push(format!(
                "| CPU, {label} | {} | mean {} | – |",
                report_metric(r, &cpu),
                report_metric(r, &format!("{prefix}cpu.mean"))
            ));
        }
    }
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "| Resource | Peak | Growth | Slope |\n|---|---:|---:|---:|"
        );
        for row in rows {
            let _ = writeln!(out, "{row}");
        }
        out.push('\n');
    }
    if !r.phases.is_empty() {
        let _ = writeln!(
            out,
            "| Phase | Start | End | Ops | p99 |\n|---|---:|---:|---:|---:|"
        );
        for p in &r.phases {
            let _ = writeln!(
                out,
                "| {} | {:.0} ms | {} | {} | {} |",
                cell(&p.name),
                p.start_ms,
                p.end_ms
                    .map_or("died inside".to_string(), |e| format!("{e:.0} ms")),
                metric_text(p.metrics.get("ops")),
                metric_text(p.metrics.get("latency.p99"))
            );
        }
        out.push('\n');
    }
    if !r.steps.is_empty() {
        let _ = writeln!(
            out,
            "| Step level | Ops | Throughput | p50 | p99 | Held | Broken |\n|---:|---:|---:|---:|---:|---|---|"
        );
        for s in &r.steps {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1}/s | {} | {} | {} | {} |",
                step_level(r, s),
                s.ops,
                s.throughput_per_s,
                ns_text(s.latency_p50_ns),
                ns_text(s.latency_p99_ns),
                match step_held(s) {
                    "no" => "**no**",
                    held => held,
                },
                cell(&s.broken.join("; "))
            );
        }
        out.push('\n');
    }
    let limits = limits(r);
    if !limits.is_empty() {
        let _ = writeln!(
            out,
            "Limits: {}\n",
            limits
                .iter()
                .map(|(n, m)| format!("`{n}` {}", metric_text(Some(m))))
                .collect::<Vec<_>>()
                .join(" · ")
        );
    }
    if let Some(chaos) = &r.chaos {
        let _ = writeln!(
            out,
            "**Chaos**: seed {}, {} faults planned, {} ran, survival {} (schedule `{}`).\n",
            chaos.seed,
            chaos.planned,
            chaos.log.len(),
            report_metric(r, "chaos.survival_rate"),
            chaos.schedule_digest
        );
        if !chaos.distribution.is_empty() {
            let _ = writeln!(
                out,
                "| Fault | Weight | Ran | Share | Not recovered | Fault errors |\n|---|---:|---:|---:|---:|---:|"
            );
            for d in &chaos.distribution {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {:.1}% | {} | {} |",
                    d.fault, d.weight, d.count, d.share_pct, d.failures, d.fault_errors
                );
            }
            out.push('\n');
        }
        if let Some(minimal) = &chaos.minimal {
            let _ = writeln!(
                out,
                "Minimal failing schedule ({} faults):\n",
                minimal.len()
            );
            for e in minimal {
                let _ = writeln!(out, "1. `{}` — {}", e.fault, cell(&e.detail));
            }
            out.push('\n');
        }
        if let Some(replay) = &chaos.replay {
            let _ = writeln!(out, "Replay:\n\n```sh\n{replay}\n```\n");
        }
    }
    let failed: Vec<_> = r.criteria.iter().filter(|v| !v.passed).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "Failure modes:\n");
        for v in failed {
            let _ = writeln!(out, "- `{}`: {}", v.expr, v.reason);
        }
        out.push('\n');
    }
    if !r.findings.is_empty() {
        let _ = writeln!(out, "Findings:\n");
        for f in &r.findings {
            let _ = writeln!(
                out,
                "- **{}** {}: {}",
                f.severity.as_str(),
                f.title,
                f.detail
            );
        }
        out.push('\n');
    }
    let notable: Vec<_> = r
        .events
        .iter()
        .filter(|e| !matches!(e.kind.as_str(), "fault" | "drive_start" | "drive_end"))
        .collect();
    if !notable.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} events</summary>\n",
            notable.len()
        );
        for e in notable.iter().take(50) {
            let _ = writeln!(out, "- {:.0} ms `{}` {}", e.t_ms, e.kind, cell(&e.message));
        }
        if notable.len() > 50 {
            let _ = writeln!(
                out,
                "- … {} more in the scenario's report",
                notable.len() - 50
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
}
