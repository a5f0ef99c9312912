//! Assembling a report from a run's folded journal ([`RunRecord`]): by the
//! child when it finishes, or by the parent from the journal of a child
//! that died. Both fold and assemble the same way, so a recovered report
//! has the same shape.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::analysis::RunRecord;
use crate::criteria::{RATE_TOLERANCE, Unit, Windows, evaluate};
use crate::measure::{
    LoadShape, OpTotals, escalation_metrics, generator_bottleneck, host, load_metrics,
    machine_memory, pool_finding, resource_metrics,
};
use crate::registry::{Declared, ScenarioEntry};
use crate::report::{
    BuildInfo, Finding, Host, MetricValue, Outcome, Report, RunInfo, SCHEMA, Samples, ScenarioInfo,
    Series, Settings, Severity, encode_histogram,
};
use crate::settings::{Budget, Resolved};

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn declared_settings(d: &Declared) -> Settings {
    Settings {
        duration_ms: d.duration.map(ms),
        min_duration_ms: d.min_duration.map(ms),
        iterations: d.iterations,
        concurrency: d.concurrency,
        rate_per_s: d.rate,
        max_in_flight: d.max_in_flight,
        connections: d.connections,
        warmup_ms: d.warmup.map(ms),
        sample_ms: d.sample.map(ms),
        timeout_ms: d.timeout.map(ms),
        op_timeout_ms: d.op_timeout.map(ms),
        seed: d.seed,
        memory_limit_bytes: d.memory_limit,
    }
}

fn effective_settings(r: &Resolved) -> Settings {
    Settings {
        duration_ms: match r.budget {
            Budget::Duration(d) => Some(ms(d)),
            _ => None,
        },
        min_duration_ms: None,
        iterations: match r.budget {
            Budget::Iterations(n) => Some(n),
            _ => None,
        },
        concurrency: Some(r.concurrency),
        rate_per_s: r.rate,
        max_in_flight: r.rate.map(|_| r.max_in_flight),
        connections: r.rate.and(r.connections),
        warmup_ms: Some(ms(r.warmup)),
        sample_ms: Some(ms(r.sample)),
        timeout_ms: Some(ms(r.timeout)),
        op_timeout_ms: r.op_timeout.map(ms),
        seed: Some(r.seed),
        memory_limit_bytes: r.memory_limit,
    }
}

/// The declared scenario, for the report.
pub(crate) fn scenario_info(entry: &ScenarioEntry) -> ScenarioInfo {
    ScenarioInfo {
        name: entry.trial_name(),
        module: entry.module_path.to_string(),
        file: entry.file.to_string(),
        line: entry.line,
        tags: entry.declared.tags.iter().map(|t| t.to_string()).collect(),
        declared: declared_settings(&entry.declared),
    }
}

/// The machine: OS, logical CPUs, physical memory.
fn host() -> Host {
    let os = sysinfo::System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into());
    let total_memory_bytes = machine_memory().map_or(0, |(total, _)| total);
    Host {
        os,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        total_memory_bytes,
    }
}

/// The run's circumstances at its start.
pub(crate) fn run_info(settings: &Resolved) -> RunInfo {
    RunInfo {
        started_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        wall_ms: 0.0,
        scale: settings.scale,
        seed: settings.seed,
        inline: settings.inline,
        effective: effective_settings(settings),
        host: host(),
        brunt_version: env!("CARGO_PKG_VERSION").to_string(),
        build: None,
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

/// The verdict on `expect_findings`' `kind`: held when the run reported a
/// finding of that kind (a planted leak must be found), failed naming what
/// was found instead.
fn expected_finding(kind: &str, findings: &[Finding]) -> crate::criteria::Verdict {
    let found: Vec<&Finding> = findings.iter().filter(|f| f.kind == kind).collect();
    let reason = match found.first() {
        Some(f) => format!("found: {} ({})", f.title, f.severity.as_str()),
        None if findings.is_empty() => format!("no `{kind}` finding: the run reported no finding"),
        None => format!(
            "no `{kind}` finding; the run reported: {}",
            findings
                .iter()
                .map(|f| format!("{} (`{}`)", f.title, f.kind))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    crate::criteria::Verdict {
        expr: format!("expect_findings(\"{kind}\")"),
        metric: "findings".to_string(),
        actual: Some(found.len() as f64),
        unit: Some(Unit::Count),
        passed: !found.is_empty(),
        reason,
    }
}

/// Puts what the rest of the machine used beside every verdict on a time
/// or a rate, and, on a contended machine, says so in each one that failed
/// and in an `Info` finding: a red throughput floor on a shared machine is
/// not a broken system until a quiet run says so.
fn mark_contention(
    verdicts: &mut [crate::criteria::Verdict],
    others: f64,
    metrics: &BTreeMap<String, MetricValue>,
) -> Option<Finding> {
    let contended = others >= host::CONTENDED_PERCENT;
    let mut failed_contended = Vec::new();
    for v in verdicts.iter_mut() {
        if !host::time_sensitive(&v.metric, metrics.get(&v.metric).map(|m| m.unit)) {
            continue;
        }
        if contended && !v.passed {
            v.reason = format!("{}; {}", v.reason, host::contention_note(others));
            failed_contended.push(format!("`{}`", v.expr));
        } else {
            v.reason = format!(
                "{} (the rest of the machine used {} CPU)",
                v.reason,
                crate::report::format_value(others, crate::criteria::Dimension::Percent)
            );
        }
    }
    contended.then(|| Finding {
        severity: Severity::Info,
        kind: "machine_contended".to_string(),
        title: "the machine was contended during the run".to_string(),
        detail: format!(
            "the rest of the machine used {} CPU (host.cpu.others, at least {} counts as contended){}; rerun on a quiet machine before calling a time or rate criterion's failure the system's",
            crate::report::format_value(others, crate::criteria::Dimension::Percent),
            crate::report::format_value(host::CONTENDED_PERCENT, crate::criteria::Dimension::Percent),
            if failed_contended.is_empty() {
                String::new()
            } else {
                format!("; failed on it: {}", failed_contended.join(", "))
            }
        ),
    })
}

/// Builds the report: metrics, criteria verdicts, outcome. `ended` is the
/// outcome decided outside the criteria (error, crash, timeout) with its
/// reason; without it the criteria decide between passed and failed.
pub(crate) fn assemble(
    record: RunRecord,
    entry: &ScenarioEntry,
    sample_interval_ms: f64,
    ended: Option<(Outcome, String)>,
) -> Report {
    let mut metrics = BTreeMap::new();
    let mut record = record;
    if let Some(totals) = record.totals.as_mut() {
        totals.timeline.absorb(std::mem::take(&mut record.slices));
    }
    for (index, totals) in &record.phase_totals {
        if let Some(phase) = record.phases.get_mut(*index)
            && phase.metrics.is_empty()
        {
            load_metrics(totals, &mut phase.metrics);
        }
    }
    let measured_ops = record.totals.as_ref().map_or(0, |t| t.ops);
    let mut findings_of_load = Vec::new();
    if let Some(totals) = &record.totals {
        load_metrics(totals, &mut metrics);
        findings_of_load.extend(pool_finding(totals));
    }
    // A child that died inside a drive counted ops the finished drives'
    // totals do not hold: the counts win, the histograms cover what they can.
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
                    scope: "total".to_string(),
                    note: note.clone(),
                },
            );
        }
    }
    let baseline = record.warmup_end_ms.unwrap_or(0.0);
    let own: Vec<&Series> = record
        .series
        .iter()
        .filter(|s| s.process == "self")
        .collect();
    let targets: Vec<&Series> = record
        .series
        .iter()
        .filter(|s| s.process == "target")
        .collect();
    let mut findings = record.findings;
    findings.extend(findings_of_load);
    let build = build_info(entry);
    record.run.build = Some(build);
    findings.extend(unoptimised_build(&build));
    for (prefix, series) in [("", &own), ("target.", &targets)] {
        if !series.is_empty() {
            findings.extend(resource_metrics(
                prefix,
                series,
                sample_interval_ms,
                baseline,
                record.run.host.cpus,
                LoadShape {
                    rising: entry.declared.escalate.is_some(),
                    states_built: record.totals.as_ref().map_or(0, |t| t.pool.built),
                },
                &mut metrics,
            ));
        }
    }
    if !record.steps.is_empty() {
        let open = entry.declared.escalate.is_some_and(|e| e.open);
        escalation_metrics(&record.steps, open, &mut metrics);
    }
    if let Some(cpu) = record.sampler_cpu_percent {
        metrics.insert(
            "sampler.cpu".to_string(),
            MetricValue {
                value: Some(cpu),
                unit: Unit::Percent,
                scope: "overall_avg".to_string(),
                note: Some(
                    "Brunt's resource sampler's own CPU use, percent of one core".to_string(),
                ),
            },
        );
    }
    for (name, value) in record.custom {
        metrics.insert(name, value);
    }
    let mut events = record.events;
    if let Some(chaos) = record.chaos.as_mut() {
        crate::chaos::chaos_metrics(
            chaos,
            record.totals.as_ref().map(|t| &t.timeline),
            &mut metrics,
            &mut findings,
        );
        events.extend(crate::chaos::chaos_events(chaos));
        events.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    }
    let declared_rate = record.totals.as_ref().and_then(|t| t.declared_rate);
    let scenario_series: Vec<&Series> = own.iter().chain(&targets).copied().collect();
    let others = record
        .series
        .iter()
        .find(|s| s.process == host::HOST_PROCESS)
        .and_then(|h| host::others_metric(h, &scenario_series, record.run.host.cpus, &mut metrics));
    let mut windows = Windows::new();
    if let Some(totals) = &record.totals {
        for c in entry.declared.criteria {
            if let Some(length) = c.window {
                windows
                    .entry(length.as_secs())
                    .or_insert_with(|| totals.timeline.windows(length.as_secs()));
            }
        }
    }
    let mut criteria = evaluate(
        entry.declared.criteria,
        declared_rate,
        record.chaos.is_some(),
        &metrics,
        &windows,
    );
    if let Some(others) = others {
        findings.extend(mark_contention(&mut criteria, others, &metrics));
    }
    criteria.extend(
        entry
            .declared
            .expect_findings
            .iter()
            .map(|kind| expected_finding(kind, &findings)),
    );
    let taint = declared_rate.and_then(|rate| generator_bottleneck(rate, RATE_TOLERANCE, &metrics));
    let tainted = taint.is_some();
    if let Some(finding) = taint {
        if let Some(throughput) = metrics.get_mut("throughput") {
            throughput.note = Some("tainted: the load generator was the bottleneck".to_string());
        }
        findings.push(finding);
    }
    let (outcome, reason) = match ended {
        Some((outcome, reason)) => (outcome, Some(reason)),
        None => {
            let mut failed: Vec<String> = criteria
                .iter()
                .filter(|v| !v.passed)
                .map(|v| format!("criterion `{}` failed: {}", v.expr, v.reason))
                .collect();
            if let Some(bar) = entry.declared.fail_on {
                let expected = entry.declared.expect_findings;
                failed.extend(
                    findings
                        .iter()
                        .filter(|f| f.severity >= bar && !expected.contains(&f.kind.as_str()))
                        .map(|f| {
                            format!(
                                "finding `{}` ({}) fails the scenario (fail_on = \"{}\"): {}",
                                f.title,
                                f.severity.as_str(),
                                bar.as_str(),
                                f.detail
                            )
                        }),
                );
            }
            match (&record.aborted, failed.is_empty()) {
                (None, true) => (Outcome::Passed, None),
                (None, false) => (Outcome::Failed, Some(failed.join("\n"))),
                (Some(aborted), _) => (
                    Outcome::Failed,
                    Some(
                        std::iter::once(aborted.clone())
                            .chain(failed)
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                ),
            }
        }
    };
    Report {
        schema: SCHEMA.to_string(),
        scenario: record.scenario,
        run: record.run,
        outcome,
        reason,
        tainted,
        metrics,
        criteria,
        phases: record.phases,
        events,
        findings,
        samples: Samples {
            interval_ms: sample_interval_ms,
            series: record
                .series
                .into_iter()
                .filter(|s| s.process != host::HOST_PROCESS)
                .collect(),
            load: record
                .totals
                .as_ref()
                .map(|t| t.timeline.points())
                .unwrap_or_default(),
            load_bins: record.totals.as_ref().and_then(|t| t.timeline.chart_bins()),
            custom: record.custom_series,
            histograms: record
                .totals
                .as_ref()
                .map(report_histograms)
                .unwrap_or_default(),
        },
        steps: record.steps,
        chaos: record.chaos,
        attempts: Vec::new(),
        flaky: false,
    }
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
