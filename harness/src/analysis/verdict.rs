//! The verdicts and the outcome of a run: its criteria evaluated on the
//! metrics, `expect_findings`, the contention beside every time or rate
//! verdict, a generator that could not offer its rate, `fail_on`, an abort.

use std::collections::BTreeMap;

use super::contention;
use crate::criteria::{RATE_TOLERANCE, Unit, Verdict, Windows, evaluate};
use crate::registry::ScenarioEntry;
use brunt_report::{Finding, MetricValue, Outcome, Severity};

use super::generator_bottleneck;

/// What the verdicts came to.
pub(super) struct Judged {
    pub(super) criteria: Vec<Verdict>,
    pub(super) outcome: Outcome,
    pub(super) reason: Option<String>,
    /// Whether the load generator, not the system, limited the run.
    pub(super) tainted: bool,
}

/// What the verdicts read of the run besides its metrics and findings.
pub(super) struct Evidence<'a> {
    pub(super) entry: &'a ScenarioEntry,
    /// The open model's declared rate, if the run held one.
    pub(super) declared_rate: Option<f64>,
    pub(super) chaos: bool,
    pub(super) windows: &'a Windows,
    /// CPU the rest of the machine used during the run, percent.
    pub(super) others: Option<f64>,
    /// Why an `abort(...)` criterion stopped the run, if one did.
    pub(super) aborted: Option<&'a str>,
}

/// Evaluates the criteria and decides the outcome. `ended` is the outcome
/// decided outside the criteria (error, crash, timeout) with its reason;
/// without it the criteria, findings and an abort decide between passed
/// and failed. Adds the findings the verdicts raise.
pub(super) fn judge(
    evidence: Evidence<'_>,
    metrics: &mut BTreeMap<String, MetricValue>,
    findings: &mut Vec<Finding>,
    ended: Option<(Outcome, String)>,
) -> Judged {
    let declared = &evidence.entry.declared;
    let mut criteria = evaluate(
        declared.criteria,
        evidence.declared_rate,
        evidence.chaos,
        metrics,
        evidence.windows,
    );
    if let Some(others) = evidence.others {
        findings.extend(mark_contention(&mut criteria, others, metrics));
    }
    criteria.extend(
        declared
            .expect_findings
            .iter()
            .map(|kind| expected_finding(kind, findings)),
    );
    let taint = evidence
        .declared_rate
        .and_then(|rate| generator_bottleneck(rate, RATE_TOLERANCE, metrics));
    let tainted = taint.is_some();
    if let Some(finding) = taint {
        if let Some(throughput) = metrics.get_mut("throughput") {
            throughput.note = Some("tainted: the load generator was the bottleneck".to_string());
        }
        findings.push(finding);
    }
    let (outcome, reason) = match ended {
        Some((outcome, reason)) => (outcome, Some(reason)),
        None => decide(&evidence, &criteria, findings),
    };
    Judged {
        criteria,
        outcome,
        reason,
        tainted,
    }
}

/// Passed, or failed with every reason: a failed criterion, a finding at
/// or past `fail_on` (unless expected), an abort.
fn decide(
    evidence: &Evidence<'_>,
    criteria: &[Verdict],
    findings: &[Finding],
) -> (Outcome, Option<String>) {
    let declared = &evidence.entry.declared;
    let mut failed: Vec<String> = criteria
        .iter()
        .filter(|v| !v.passed)
        .map(|v| format!("criterion `{}` failed: {}", v.expr, v.reason))
        .collect();
    if let Some(bar) = declared.fail_on {
        let expected = declared.expect_findings;
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
    match (evidence.aborted, failed.is_empty()) {
        (None, true) => (Outcome::Passed, None),
        (None, false) => (Outcome::Failed, Some(failed.join("\n"))),
        (Some(aborted), _) => (
            Outcome::Failed,
            Some(
                std::iter::once(aborted.to_string())
                    .chain(failed)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ),
    }
}

/// The verdict on `expect_findings`' `kind`: held when the run reported a
/// finding of that kind (a planted leak must be found), failed naming what
/// was found instead.
fn expected_finding(kind: &str, findings: &[Finding]) -> Verdict {
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
    Verdict {
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
    verdicts: &mut [Verdict],
    others: f64,
    metrics: &BTreeMap<String, MetricValue>,
) -> Option<Finding> {
    let contended = others >= contention::CONTENDED_PERCENT;
    let mut failed_contended = Vec::new();
    for v in verdicts.iter_mut() {
        if !contention::time_sensitive(&v.metric, metrics.get(&v.metric).map(|m| m.unit)) {
            continue;
        }
        if contended && !v.passed {
            v.reason = format!("{}; {}", v.reason, contention::contention_note(others));
            failed_contended.push(format!("`{}`", v.expr));
        } else {
            v.reason = format!(
                "{} (the rest of the machine used {} CPU)",
                v.reason,
                brunt_report::format_value(others, crate::criteria::Dimension::Percent)
            );
        }
    }
    contended.then(|| Finding {
        severity: Severity::Info,
        kind: "machine_contended".to_string(),
        title: "the machine was contended during the run".to_string(),
        detail: format!(
            "the rest of the machine used {} CPU (host.cpu.others, at least {} counts as contended){}; rerun on a quiet machine before calling a time or rate criterion's failure the system's",
            brunt_report::format_value(others, crate::criteria::Dimension::Percent),
            brunt_report::format_value(contention::CONTENDED_PERCENT, crate::criteria::Dimension::Percent),
            if failed_contended.is_empty() {
                String::new()
            } else {
                format!("; failed on it: {}", failed_contended.join(", "))
            }
        ),
    })
}
