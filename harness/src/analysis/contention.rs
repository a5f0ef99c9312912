//! The machine's own CPU use, to tell a slow system from a busy machine.
//!
//! A throughput or latency criterion that fails while other processes hold
//! the cores measured the machine, not the system under test. The sampler
//! reads the CPU time every core spent busy at each tick; less the
//! scenario's own and its watched processes' CPU over the same ticks, that
//! is `host.cpu.others`: what the rest of the machine used during the run.

use std::collections::BTreeMap;

use crate::criteria::{Dimension, Unit, base_metric};
use brunt_report::{MetricValue, Scope, Series, format_value};

/// Above this (percent of one core) the rest of the machine competed for the
/// cores: half a core, a tenth of the time slices a 2-core machine has each
/// second — enough to move a latency percentile or a throughput floor.
pub(crate) const CONTENDED_PERCENT: f64 = 50.0;

/// `host.cpu.others`: the machine's busy CPU between the host series' first
/// and last reading, less the CPU the scenario's processes (`own`, the
/// scenario and its watched ones) used over the same ticks, percent of one
/// core, within 0 and `cores` × 100 %. `None` without two host readings.
pub(crate) fn others_metric(
    host: &Series,
    own: &[&Series],
    cores: usize,
    out: &mut BTreeMap<String, MetricValue>,
) -> Option<f64> {
    let readings: Vec<(Option<u64>, f64, f64)> = host
        .points
        .iter()
        .filter_map(|p| Some((p.tick, p.t_ms, p.cpu_time_s?)))
        .collect();
    let (&(first_tick, t0, busy0), &(last_tick, t1, busy1)) = (readings.first()?, readings.last()?);
    let seconds = (t1 - t0) / 1e3;
    if seconds <= 0.0 {
        return None;
    }
    // Each process's CPU over the same ticks (a process watched later, from
    // its first sample).
    let scenario: f64 = own
        .iter()
        .filter_map(|s| {
            let at_or_after = |tick: Option<u64>| {
                s.points
                    .iter()
                    .find(|p| tick.is_none() || p.tick >= tick)
                    .and_then(|p| p.cpu_time_s)
            };
            let at_or_before = |tick: Option<u64>| {
                s.points
                    .iter()
                    .rev()
                    .find(|p| tick.is_none() || p.tick <= tick)
                    .and_then(|p| p.cpu_time_s)
            };
            Some((at_or_before(last_tick)? - at_or_after(first_tick)?).max(0.0))
        })
        .sum();
    let most = cores.max(1) as f64 * 100.0;
    let others = ((busy1 - busy0 - scenario) / seconds * 100.0).clamp(0.0, most);
    out.insert(
        "host.cpu.others".into(),
        MetricValue {
            value: Some(others),
            unit: Unit::Percent,
            scope: Scope::OverallAvg,
            note: Some(format!(
                "CPU the rest of the machine used during the run (/proc/stat less the scenario's and its watched processes'), percent of one core of {cores}{}",
                if others >= CONTENDED_PERCENT {
                    "; contended: criteria on time measured a shared machine"
                } else {
                    ""
                }
            )),
        },
    );
    Some(others)
}

/// Whether a criterion on `metric` measures time or rate, so that a busy
/// machine moves it: latency, service time, throughput and rates, lag,
/// recovery, CPU per op, and the scenario's own rates and times.
pub(crate) fn time_sensitive(metric: &str, unit: Option<Unit>) -> bool {
    let base = base_metric(metric);
    base.starts_with("latency.")
        || base.starts_with("service_time.")
        || base.starts_with("arrival.lag.")
        || base.starts_with("recovery.")
        || matches!(
            base,
            "throughput" | "attempted_rate" | "offered_rate" | "duration"
        )
        || unit.is_some_and(|u| matches!(u.dimension(), Dimension::Time | Dimension::Rate))
}

/// What a verdict's reason adds on a contended machine.
pub(crate) fn contention_note(others: f64) -> String {
    format!(
        "on a contended machine: the rest of it used {} CPU during the run (host.cpu.others)",
        format_value(others, Dimension::Percent)
    )
}
