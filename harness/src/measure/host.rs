//! The machine's own CPU use, to tell a slow system from a busy machine.
//!
//! A throughput or latency criterion that fails while other processes hold
//! the cores measured the machine, not the system under test. The sampler
//! reads the CPU time every core spent busy (`/proc/stat`: all but idle and
//! iowait) at each tick; less the scenario's own and its watched processes'
//! CPU over the same ticks, that is `host.cpu.others`: what the rest of the
//! machine used during the run.

use std::collections::BTreeMap;

use crate::criteria::Unit;
use crate::report::{MetricValue, Series, format_value};

/// The process name the sampler streams the machine's readings under (pid
/// 0); never written to a report's series.
pub(crate) const HOST_PROCESS: &str = "host";

/// Above this (percent of one core) the rest of the machine competed for the
/// cores: half a core, a tenth of the time slices a 2-core machine has each
/// second — enough to move a latency percentile or a throughput floor.
pub(crate) const CONTENDED_PERCENT: f64 = 50.0;

/// CPU time every core of the machine spent busy since boot, seconds;
/// `None` off Linux or when `/proc/stat` cannot be read.
pub(crate) fn busy_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        busy_from_stat(&stat)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Busy seconds from `/proc/stat`'s first (`cpu`) line: user, nice, system,
/// irq, softirq and steal jiffies (idle and iowait left out; guest time is
/// already inside user).
fn busy_from_stat(stat: &str) -> Option<f64> {
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let field = |k: usize| fields.get(k).copied().unwrap_or(0);
    let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
    // SAFETY: sysconf has no preconditions; it only reads configuration.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| busy as f64 / ticks as f64)
}

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
            scope: "overall_avg".into(),
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
    let base = crate::criteria::base_metric(metric);
    base.starts_with("latency.")
        || base.starts_with("service_time.")
        || base.starts_with("arrival.lag.")
        || base.starts_with("recovery.")
        || matches!(
            base,
            "throughput" | "attempted_rate" | "offered_rate" | "duration"
        )
        || unit.is_some_and(|u| {
            matches!(
                u.dimension(),
                crate::criteria::Dimension::Time | crate::criteria::Dimension::Rate
            )
        })
}

/// What a verdict's reason adds on a contended machine.
pub(crate) fn contention_note(others: f64) -> String {
    format!(
        "on a contended machine: the rest of it used {} CPU during the run (host.cpu.others)",
        format_value(others, crate::criteria::Dimension::Percent)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_leaves_idle_and_iowait_out() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        let stat = "cpu  100 20 30 5000 70 4 6 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n";
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        assert_eq!(busy_from_stat(stat), Some(160.0 / ticks));
        assert_eq!(busy_from_stat("intr 1 2 3"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_machine_has_been_busy_since_boot() {
        assert!(busy_seconds().is_some_and(|s| s > 0.0));
    }
}
