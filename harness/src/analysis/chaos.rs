//! From a chaos run's log to the report: the fault distribution, the
//! `chaos.*` and `recovery.*` metrics, the load of each period (before,
//! during and after the faults), and the `fault` events of the timeline.
//! Reads what was recorded; measures nothing.

use std::collections::BTreeMap;

use crate::criteria::Unit;
use crate::measure::Timeline;
use brunt_report::{ChaosSection, Event, FaultShare, Finding, MetricValue, Scope, Severity};

/// One `fault` event per fault (when it began, what it did) and one
/// `unhealthy` event per fault the system did not recover from.
pub(crate) fn chaos_events(section: &ChaosSection) -> Vec<Event> {
    let mut events = Vec::new();
    for (entry, timing) in section.log.iter().zip(&section.timing) {
        let mut message = format!("#{} {}", entry.index, entry.fault);
        if !entry.detail.is_empty() {
            message.push_str(&format!(": {}", entry.detail));
        }
        if let Some(error) = &timing.error {
            message.push_str(&format!(" (fault error: {error})"));
        }
        events.push(Event {
            t_ms: timing.at_ms,
            kind: "fault".to_string(),
            message,
        });
        if !entry.healthy {
            events.push(Event {
                t_ms: timing.at_ms + timing.fault_ms,
                kind: "unhealthy".to_string(),
                message: format!(
                    "#{} {}: health did not return{}",
                    entry.index,
                    entry.fault,
                    timing
                        .health_error
                        .as_ref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
            });
        }
    }
    if let Some(settled) = section.settled.as_ref().filter(|c| !c.healthy) {
        events.push(Event {
            t_ms: settled.t_ms,
            kind: "unhealthy".to_string(),
            message: format!(
                "once the faults were over: {}",
                settled.error.as_deref().unwrap_or("health did not return")
            ),
        });
    }
    events
}

fn metric(value: Option<f64>, unit: Unit, scope: Scope, note: Option<String>) -> MetricValue {
    MetricValue {
        value,
        unit,
        scope,
        note,
    }
}

/// The nearest-rank `q` quantile of sorted values.
fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Fills the section's distribution and adds the chaos metrics: counts,
/// survival, recovery times, and — when load was measured — the load
/// metrics of each period and how long latency took to return to its
/// steady state after the last fault.
pub(crate) fn chaos_metrics(
    section: &mut ChaosSection,
    timeline: Option<&Timeline>,
    metrics: &mut BTreeMap<String, MetricValue>,
    findings: &mut Vec<Finding>,
) {
    let ops = section.log.len() as u32;
    let unsettled = section.settled.as_ref().is_some_and(|c| !c.healthy);
    let failures = section.log.iter().filter(|e| !e.healthy).count() as u32 + u32::from(unsettled);
    let fault_errors = section.log.iter().filter(|e| !e.ok).count() as u32;
    section.distribution = section
        .faults
        .iter()
        .map(|w| {
            let runs: Vec<_> = section.log.iter().filter(|e| e.fault == w.fault).collect();
            FaultShare {
                fault: w.fault.clone(),
                weight: w.weight,
                count: runs.len() as u32,
                share_pct: if ops == 0 {
                    0.0
                } else {
                    100.0 * runs.len() as f64 / f64::from(ops)
                },
                failures: runs.iter().filter(|e| !e.healthy).count() as u32,
                fault_errors: runs.iter().filter(|e| !e.ok).count() as u32,
            }
        })
        .collect();
    let count = |v: u32| metric(Some(f64::from(v)), Unit::Count, Scope::Total, None);
    metrics.insert("chaos.ops".into(), count(ops));
    metrics.insert("chaos.failures".into(), count(failures));
    metrics.insert("chaos.fault_errors".into(), count(fault_errors));
    metrics.insert(
        "chaos.survival_rate".into(),
        metric(
            (ops > 0).then(|| 100.0 * f64::from(ops.saturating_sub(failures)) / f64::from(ops)),
            Unit::Percent,
            Scope::OverallAvg,
            (ops == 0).then(|| "no fault ran".to_string()),
        ),
    );
    let mut recoveries: Vec<f64> = section
        .timing
        .iter()
        .filter_map(|t| t.recovery_ms)
        .collect();
    recoveries.sort_by(f64::total_cmp);
    let none_note = (recoveries.is_empty()).then(|| "no fault was recovered from".to_string());
    let mean =
        (!recoveries.is_empty()).then(|| recoveries.iter().sum::<f64>() / recoveries.len() as f64);
    for (name, value, scope) in [
        ("recovery.time.min", recoveries.first().copied(), Scope::Min),
        ("recovery.time.mean", mean, Scope::OverallAvg),
        (
            "recovery.time.p50",
            nearest_rank(&recoveries, 0.50),
            Scope::Percentile,
        ),
        (
            "recovery.time.p99",
            nearest_rank(&recoveries, 0.99),
            Scope::Percentile,
        ),
        ("recovery.time.max", recoveries.last().copied(), Scope::Max),
    ] {
        metrics.insert(
            name.into(),
            metric(value, Unit::Milliseconds, scope, none_note.clone()),
        );
    }
    if failures > 0 {
        let first = section
            .log
            .iter()
            .zip(&section.timing)
            .find(|(e, _)| !e.healthy);
        if let (None, Some(settled)) = (first, section.settled.as_ref()) {
            findings.push(Finding {
                severity: Severity::Critical,
                kind: "unhealthy_after_faults".into(),
                title: "unhealthy once the faults were over".into(),
                detail: format!(
                    "the system passed its health check after each of the {ops} faults, but not after the last one had settled: {}",
                    settled.error.as_deref().unwrap_or("health did not return")
                ),
            });
        }
        if let Some((entry, timing)) = first {
            findings.push(Finding {
                severity: Severity::Critical,
                kind: "no_recovery".into(),
                title: format!("no recovery after fault `{}`", entry.fault),
                detail: format!(
                    "{failures} of {ops} faults left the system unhealthy; the first, #{} `{}` ({}), at {:.0} ms: {}",
                    entry.index,
                    entry.fault,
                    entry.detail,
                    timing.at_ms,
                    timing
                        .health_error
                        .as_deref()
                        .unwrap_or("health did not return")
                ),
            });
        }
    }
    if let Some(timeline) = timeline {
        period_metrics(section, timeline, metrics);
    }
}

/// How far above the steady state's worst second a second's p99 may be and
/// still count as back to baseline: a run's seconds vary by ~20 % on a
/// busy 2-core machine, while the faults this detects move p99 by
/// multiples.
const BASELINE_TOLERANCE: f64 = 0.5;

/// `chaos.before.*`, `chaos.during.*`, `chaos.after.*` from the whole
/// seconds of measured load in each period, and `recovery.latency`.
fn period_metrics(
    section: &ChaosSection,
    timeline: &Timeline,
    metrics: &mut BTreeMap<String, MetricValue>,
) {
    let start = section.start_ms;
    let end = section.end_ms.unwrap_or(f64::INFINITY);
    // Before and after hold the whole seconds entirely outside the faults;
    // every other second of load (those the faults touched, even in part)
    // is "during".
    let before = timeline.whole_seconds(f64::NEG_INFINITY, start);
    let after = timeline.whole_seconds(end, f64::INFINITY);
    let during: Vec<u64> = timeline
        .whole_seconds(f64::NEG_INFINITY, f64::INFINITY)
        .into_iter()
        .filter(|s| !before.contains(s) && !after.contains(s))
        .collect();
    let periods = [("before", before), ("during", during), ("after", after)];
    for (period, seconds) in &periods {
        let Some(load) = timeline.totals_of(seconds) else {
            continue;
        };
        let measured = super::load_metrics_of(&load);
        for base in brunt_grammar::PER_OP_METRICS {
            if let Some(value) = measured.get(*base) {
                let mut value = value.clone();
                value.note = Some(format!(
                    "{} whole second(s) of load {period} the faults",
                    seconds.len()
                ));
                metrics.insert(format!("chaos.{period}.{base}"), value);
            }
        }
    }
    // Back to baseline: the first whole second after the faults whose p99
    // is within the band: the worst second of the steady state before them
    // (its own noise) plus BASELINE_TOLERANCE.
    let (_, before) = &periods[0];
    let (_, after) = &periods[2];
    let baseline = before
        .iter()
        .filter_map(|s| timeline.p99_of(*s))
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        .map(|worst| worst * (1.0 + BASELINE_TOLERANCE));
    let value = match (baseline, after.is_empty()) {
        (None, _) => metric(
            None,
            Unit::Milliseconds,
            Scope::Time,
            Some("no whole second of load before the first fault: no baseline".into()),
        ),
        (Some(_), true) => metric(
            None,
            Unit::Milliseconds,
            Scope::Time,
            Some("no whole second of load after the last fault".into()),
        ),
        (Some(band), false) => {
            let back = after
                .iter()
                .find(|s| timeline.p99_of(**s).is_some_and(|p99| p99 <= band));
            match back {
                Some(second) => metric(
                    Some((*second as f64 * 1e3 + 1e3 - end).max(0.0)),
                    Unit::Milliseconds,
                    Scope::Time,
                    Some(format!(
                        "from the last fault's recovery to the end of the first second whose p99 is within {:.0}% of the steady state's worst ({:.3} ms)",
                        BASELINE_TOLERANCE * 100.0,
                        band / 1e6
                    )),
                ),
                None => metric(
                    None,
                    Unit::Milliseconds,
                    Scope::Time,
                    Some(format!(
                        "latency did not return within {:.0}% of the steady state's worst p99 ({:.3} ms) in the {} s measured after the faults",
                        BASELINE_TOLERANCE * 100.0,
                        band / 1e6,
                        after.len()
                    )),
                ),
            }
        }
    };
    metrics.insert("recovery.latency".into(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use brunt_report::{ChaosLogEntry, FaultTiming, FaultWeight};

    fn section() -> ChaosSection {
        let entry = |index, fault: &str, healthy| ChaosLogEntry {
            index,
            fault: fault.into(),
            detail: String::new(),
            ok: true,
            healthy,
        };
        let timing = |index, recovery: Option<f64>| FaultTiming {
            index,
            at_ms: f64::from(index) * 100.0,
            fault_ms: 1.0,
            recovery_ms: recovery,
            error: None,
            health_error: recovery.is_none().then(|| "down".to_string()),
        };
        ChaosSection {
            seed: 1,
            schedule_digest: String::new(),
            planned: 4,
            faults: vec![
                FaultWeight {
                    fault: "a".into(),
                    weight: 3,
                },
                FaultWeight {
                    fault: "b".into(),
                    weight: 1,
                },
            ],
            determinism: None,
            replayed_from: None,
            start_ms: 0.0,
            end_ms: Some(400.0),
            log: vec![
                entry(0, "a", true),
                entry(1, "a", true),
                entry(2, "b", true),
                entry(3, "a", false),
            ],
            timing: vec![
                timing(0, Some(10.0)),
                timing(1, Some(30.0)),
                timing(2, Some(20.0)),
                timing(3, None),
            ],
            distribution: Vec::new(),
            minimal: None,
            replay: None,
            shrink: None,
            settled: None,
        }
    }

    #[test]
    fn counts_survival_and_recovery_come_from_the_log() {
        let mut s = section();
        let mut metrics = BTreeMap::new();
        let mut findings = Vec::new();
        chaos_metrics(&mut s, None, &mut metrics, &mut findings);
        let v = |k: &str| metrics[k].value.unwrap();
        assert_eq!(v("chaos.ops"), 4.0);
        assert_eq!(v("chaos.failures"), 1.0);
        assert_eq!(v("chaos.survival_rate"), 75.0);
        assert_eq!(v("recovery.time.max"), 30.0);
        assert_eq!(v("recovery.time.p50"), 20.0);
        assert_eq!(v("recovery.time.mean"), 20.0);
        assert_eq!(s.distribution[0].count, 3);
        assert_eq!(s.distribution[0].failures, 1);
        assert_eq!(s.distribution[1].share_pct, 25.0);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].detail.contains("#3 `a`"),
            "{}",
            findings[0].detail
        );
        let events = chaos_events(&s);
        assert_eq!(events.iter().filter(|e| e.kind == "fault").count(), 4);
        assert_eq!(events.iter().filter(|e| e.kind == "unhealthy").count(), 1);
    }
}
