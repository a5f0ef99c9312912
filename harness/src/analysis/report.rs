//! [`assemble`]: a run's folded record into its report — the built-in
//! metrics of its load, resources and chaos, the custom ones, the verdicts
//! and the outcome. The child calls it when it finishes, the parent for a
//! child that died; both from [`fold`](super::fold).

use std::collections::BTreeMap;

use super::contention;
use super::verdict::{Evidence, judge};
use super::{
    LoadShape, RunRecord, chaos_events, chaos_metrics, escalation_metrics, load_metrics,
    load_metrics_of, pool_finding, resource_metrics,
};
use crate::criteria::{Unit, Windows};
use crate::measure::{OpTotals, host};
use crate::registry::ScenarioEntry;
use brunt_report::{
    BuildInfo, Finding, MetricValue, Outcome, Report, SCHEMA, Samples, Scope, Series, Severity,
    encode_histogram,
};

/// Builds the report: metrics, criteria verdicts, outcome. `ended` is the
/// outcome decided outside the criteria (error, crash, timeout) with its
/// reason; without it the criteria decide between passed and failed.
pub(crate) fn assemble(
    mut record: RunRecord,
    entry: &ScenarioEntry,
    sample_interval_ms: f64,
    ended: Option<(Outcome, String)>,
) -> Report {
    if let Some(totals) = record.totals.as_mut() {
        totals.timeline.absorb(std::mem::take(&mut record.slices));
    }
    for (index, totals) in &record.phase_totals {
        if let Some(phase) = record.phases.get_mut(*index) {
            load_metrics(totals, &mut phase.metrics);
        }
    }
    let mut metrics = BTreeMap::new();
    let mut findings = std::mem::take(&mut record.findings);
    findings.extend(load_figures(&record, &mut metrics));
    let build = build_info(entry);
    record.run.build = Some(build);
    findings.extend(unoptimised_build(&build));
    findings.extend(resource_figures(
        &record,
        entry,
        sample_interval_ms,
        &mut metrics,
    ));
    for (name, value) in std::mem::take(&mut record.custom) {
        metrics.insert(name, value);
    }
    let mut events = std::mem::take(&mut record.events);
    if let Some(chaos) = record.chaos.as_mut() {
        chaos_metrics(
            chaos,
            record.totals.as_ref().map(|t| &t.timeline),
            &mut metrics,
            &mut findings,
        );
        events.extend(chaos_events(chaos));
        events.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    }
    let others = others_figure(&record, &mut metrics);
    let windows = criteria_windows(&record, entry);
    let judged = judge(
        Evidence {
            entry,
            declared_rate: record.totals.as_ref().and_then(|t| t.declared_rate),
            chaos: record.chaos.is_some(),
            windows: &windows,
            others,
            aborted: record.aborted.as_deref(),
        },
        &mut metrics,
        &mut findings,
        ended,
    );
    Report {
        schema: SCHEMA.to_string(),
        samples: samples(&mut record, sample_interval_ms),
        scenario: record.scenario,
        run: record.run,
        outcome: judged.outcome,
        reason: judged.reason,
        tainted: judged.tainted,
        metrics,
        criteria: judged.criteria,
        phases: record.phases,
        events,
        findings,
        steps: record.steps,
        chaos: record.chaos,
        attempts: Vec::new(),
        flaky: false,
    }
}

/// The load's metrics and the findings they imply. A child that died
/// inside a drive counted ops the finished drives' totals do not hold: its
/// counts win, the histograms cover what they can.
fn load_figures(record: &RunRecord, metrics: &mut BTreeMap<String, MetricValue>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let measured_ops = record.totals.as_ref().map_or(0, |t| t.ops);
    if let Some(totals) = &record.totals {
        load_metrics(totals, metrics);
        findings.extend(pool_finding(totals));
    }
    if let Some((ops, errors)) = record.progress.filter(|(ops, _)| *ops > measured_ops) {
        let note = Some(if measured_ops > 0 {
            format!(
                "counted up to the last stream record before the child died; latency covers the {measured_ops} ops of the drives that ended before it"
            )
        } else {
            "counted up to the last stream record before the child died; latency histograms died with it"
                .to_string()
        });
        for (name, value) in [("ops", ops), ("errors", errors)] {
            metrics.insert(
                name.to_string(),
                MetricValue {
                    value: Some(value as f64),
                    unit: Unit::Count,
                    scope: Scope::Total,
                    note: note.clone(),
                },
            );
        }
    }
    findings
}

/// The resource metrics of the scenario's process and of its watched ones,
/// the escalation's and the sampler's own; with the findings they imply.
fn resource_figures(
    record: &RunRecord,
    entry: &ScenarioEntry,
    sample_interval_ms: f64,
    metrics: &mut BTreeMap<String, MetricValue>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let baseline = record.warmup_end_ms.unwrap_or(0.0);
    for (prefix, process) in [("", "self"), ("target.", "target")] {
        let series: Vec<&Series> = record
            .series
            .iter()
            .filter(|s| s.process == process)
            .collect();
        if !series.is_empty() {
            findings.extend(resource_metrics(
                prefix,
                &series,
                sample_interval_ms,
                baseline,
                record.run.host.cpus,
                LoadShape {
                    rising: entry.declared.escalate.is_some(),
                    states_built: record.totals.as_ref().map_or(0, |t| t.pool.built),
                },
                metrics,
            ));
        }
    }
    if !record.steps.is_empty() {
        let open = entry.declared.escalate.is_some_and(|e| e.open);
        escalation_metrics(&record.steps, open, metrics);
    }
    if let Some(cpu) = record.sampler_cpu_percent {
        metrics.insert(
            "sampler.cpu".to_string(),
            MetricValue {
                value: Some(cpu),
                unit: Unit::Percent,
                scope: Scope::OverallAvg,
                note: Some(
                    "Brunt's resource sampler's own CPU use, percent of one core".to_string(),
                ),
            },
        );
    }
    findings
}

/// `host.cpu.others`: the CPU the rest of the machine used during the run,
/// percent, if the machine's CPU could be read.
fn others_figure(record: &RunRecord, metrics: &mut BTreeMap<String, MetricValue>) -> Option<f64> {
    let scenario_series: Vec<&Series> = ["self", "target"]
        .iter()
        .flat_map(|process| record.series.iter().filter(move |s| s.process == *process))
        .collect();
    record
        .series
        .iter()
        .find(|s| s.process == host::HOST_PROCESS)
        .and_then(|h| contention::others_metric(h, &scenario_series, record.run.host.cpus, metrics))
}

/// The per-window series the criteria with a `window` read.
fn criteria_windows(record: &RunRecord, entry: &ScenarioEntry) -> Windows {
    let mut windows = Windows::new();
    if let Some(totals) = &record.totals {
        for c in entry.declared.criteria {
            if let Some(length) = c.window {
                windows.entry(length.as_secs()).or_insert_with(|| {
                    totals
                        .timeline
                        .windows(length.as_secs())
                        .into_iter()
                        .map(|(start_ms, load)| (start_ms, load_metrics_of(&load)))
                        .collect()
                });
            }
        }
    }
    windows
}

/// The report's samples: every series but the machine's, the load per
/// second and per chart bin, the scenario's own series and the histograms.
fn samples(record: &mut RunRecord, sample_interval_ms: f64) -> Samples {
    Samples {
        interval_ms: sample_interval_ms,
        series: std::mem::take(&mut record.series)
            .into_iter()
            .filter(|s| s.process != host::HOST_PROCESS)
            .collect(),
        load: record
            .totals
            .as_ref()
            .map(|t| t.timeline.points())
            .unwrap_or_default(),
        load_bins: record.totals.as_ref().and_then(|t| t.timeline.chart_bins()),
        custom: std::mem::take(&mut record.custom_series),
        histograms: record
            .totals
            .as_ref()
            .map(report_histograms)
            .unwrap_or_default(),
    }
}

/// How the scenario's crate and Brunt were compiled.
fn build_info(entry: &ScenarioEntry) -> BuildInfo {
    BuildInfo {
        scenario_optimised: entry.build.optimised(),
        harness_optimised: crate::registry::harness_optimised(),
        debug_assertions: entry.build.debug_assertions,
    }
}

/// A warning when what ran was compiled without optimisation: its numbers
/// would be a debug build's, often half or less of the system's.
fn unoptimised_build(build: &BuildInfo) -> Option<Finding> {
    let what = match (build.scenario_optimised, build.harness_optimised) {
        (true, true) => return None,
        (false, true) => "the scenario's crate (its ops and what it compiles in)",
        (true, false) => "Brunt itself (its load models and recorder run on every op)",
        (false, false) => "the scenario's crate and Brunt itself",
    };
    Some(Finding {
        severity: Severity::Warning,
        kind: "unoptimised_build".to_string(),
        title: "unoptimised build".to_string(),
        detail: format!(
            "{what} was compiled at opt-level 0, so these figures measure a debug build, not the system; add `[profile.test] opt-level = 3` to the workspace's Cargo.toml (README: \"Measure optimised code\")"
        ),
    })
}

/// The run's histograms as the report carries them.
fn report_histograms(totals: &OpTotals) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if !totals.latency.is_empty() {
        out.insert("latency".to_string(), encode_histogram(&totals.latency));
    }
    if let Some(service) = totals.service.as_ref().filter(|h| !h.is_empty()) {
        out.insert("service_time".to_string(), encode_histogram(service));
    }
    if let Some(setup) = totals.setup.as_ref().filter(|s| !s.time.is_empty()) {
        out.insert("setup.time".to_string(), encode_histogram(&setup.time));
    }
    for (kind, name) in totals.kinds.iter().zip(&totals.kind_names) {
        if !kind.latency.is_empty() {
            out.insert(
                format!("op.{name}.latency"),
                encode_histogram(&kind.latency),
            );
        }
    }
    out
}
