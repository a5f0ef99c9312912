//! The resource metrics (`rss.*`, `heap.*`, `cpu.*`, `threads.*`, `fds.*`
//! and their `target.` twins) from the sampled series: levels, growth
//! between robust levels at the start and end of the measured load, trends,
//! and the leak findings a trend test supports.

use std::collections::BTreeMap;

use super::load::put;
use super::{GrowthTrend, growth_trend};
use crate::criteria::{Dimension, Unit};
use brunt_report::{Finding, MetricValue, SamplePoint, Scope, Series, Severity, format_value};

/// Fewest post-warm-up samples from which a growth trend is claimed.
pub(crate) const MIN_TREND_SAMPLES: usize = 3;

/// Shortest stretch of post-warm-up samples a leak is judged on: over less,
/// a connection pool filling or a buffer growing once reads as a leak (a
/// 0.1 s run once flagged "fd leak: grew by 21.61").
pub(crate) const MIN_LEAK_SPAN_S: f64 = 2.0;

/// Fewest post-warm-up samples a leak is judged on.
pub(crate) const MIN_LEAK_SAMPLES: usize = 10;

/// Points of several processes summed per sampler tick (they are sampled
/// together, once per tick). Points without a tick (reports written before
/// ticks were recorded) are keyed by their time rounded to the interval.
fn combine(series: &[&Series], interval_ms: f64, cores: f64) -> Vec<SamplePoint> {
    if series.len() == 1 {
        return series[0].points.clone();
    }
    let mut ticks: BTreeMap<u64, SamplePoint> = BTreeMap::new();
    for s in series {
        for p in &s.points {
            let key = p
                .tick
                .unwrap_or_else(|| (p.t_ms / interval_ms.max(1.0)).round() as u64);
            let entry = ticks.entry(key).or_insert(SamplePoint {
                t_ms: p.t_ms,
                tick: p.tick,
                rss_bytes: 0,
                cpu_percent: None,
                cpu_time_s: None,
                threads: 0,
                fds: 0,
                heap_live_bytes: None,
                heap_allocated_bytes: None,
                heap_allocations: None,
            });
            entry.rss_bytes += p.rss_bytes;
            entry.threads += p.threads;
            entry.fds += p.fds;
            if let Some(cpu) = p.cpu_percent {
                entry.cpu_percent =
                    Some((entry.cpu_percent.unwrap_or(0.0) + cpu).min(cores * 100.0));
            }
        }
    }
    ticks.into_values().collect()
}

/// A resource whose trend after warm-up is watched for leaks.
struct Watched {
    /// Metric family (`rss`, `heap`, `threads`, `fds`).
    family: &'static str,
    /// What leaks, for the finding's title.
    what: &'static str,
    unit: Unit,
    slope_unit: Option<Unit>,
    /// Growth below this many units is not material, whatever its
    /// significance.
    material_floor: f64,
    /// Growth below this fraction of the baseline is not material either.
    material_fraction: f64,
    read: fn(&SamplePoint) -> Option<f64>,
}

const MIB: f64 = 1024.0 * 1024.0;

const WATCHED: [Watched; 4] = [
    Watched {
        family: "rss",
        what: "memory",
        unit: Unit::Bytes,
        slope_unit: Some(Unit::BytesPerSecond),
        material_floor: 16.0 * MIB,
        material_fraction: 0.10,
        read: |p| Some(p.rss_bytes as f64),
    },
    Watched {
        family: "heap",
        what: "memory",
        unit: Unit::Bytes,
        slope_unit: Some(Unit::BytesPerSecond),
        material_floor: 16.0 * MIB,
        material_fraction: 0.10,
        read: |p| p.heap_live_bytes.map(|b| b as f64),
    },
    Watched {
        family: "threads",
        what: "thread",
        unit: Unit::Count,
        slope_unit: None,
        material_floor: 4.0,
        material_fraction: 0.5,
        read: |p| Some(p.threads as f64),
    },
    Watched {
        family: "fds",
        what: "file descriptor",
        unit: Unit::Count,
        slope_unit: None,
        material_floor: 16.0,
        material_fraction: 0.5,
        read: |p| Some(p.fds as f64),
    },
];

/// What the load did that makes a process grow without leaking.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LoadShape {
    /// The load rose step by step (an escalation).
    pub(crate) rising: bool,
    /// Worker states (a connection each) the open model's pool built during
    /// the measured load, in this process: each holds a descriptor or two
    /// (the client's, and an in-process server's) and some memory.
    pub(crate) states_built: u64,
}

/// Most memory one worker state may explain (a connection with its
/// buffers: hyper's are 8–400 KiB).
const STATE_BYTES: f64 = 1024.0 * 1024.0;

/// Whether `growth` of `family` is no more than `states` worker states
/// hold: two descriptors each (both ends of a loopback connection may be
/// in this process), [`STATE_BYTES`] of memory each.
fn explained_by_states(family: &str, growth: f64, states: u64) -> bool {
    let states = states as f64;
    match family {
        "fds" => growth <= 2.0 * states + 2.0,
        "rss" | "heap" => growth <= states * STATE_BYTES,
        _ => false,
    }
}

/// One process's growth trend of one resource after warm-up.
struct PidTrend {
    pid: u32,
    trend: GrowthTrend,
    baseline: f64,
    span_s: f64,
}

/// `rss.*`, `cpu.*`, `threads.*`, `fds.*` (and, for the own process with
/// `brunt::heap::CountingAllocator` installed, `heap.*`) under `prefix`
/// (`""` for the own process, `"target."` for watched ones), and a finding
/// for each resource that looks like a leak.
///
/// Growth and slope are a robust trend ([`growth_trend`]: Theil–Sen with a
/// Mann–Kendall test) over each process's samples after `baseline_ms` (the
/// end of warm-up), summed over processes: a process watched mid-run adds
/// its own trend, never a step. A leak is suspected only when the samples
/// rise significantly and go on rising through their later half *and* the
/// growth is material (above a floor and a fraction of the baseline), so a
/// one-time allocation, a collector's sawtooth and noise are not reported.
/// With exact heap counts the memory finding is judged on `heap.growth`
/// (it does not depend on the allocator returning pages).
///
/// `cpu.mean` is CPU time over wall time between the first and last
/// sample; `cpu.peak` the busiest sampling interval, never above `cores`
/// × 100 %.
///
/// Under a rising load (an escalation: the level goes up at every step) the
/// states the load needs — connections, sessions, buffers — rise with it,
/// and no trend can tell that from a leak: growth that would be a leak
/// finding is reported as information instead (a soak at a steady load
/// judges leaks). So is the scenario's own growth that the generator's pool
/// of worker states explains (see [`LoadShape::states_built`]).
pub(crate) fn resource_metrics(
    prefix: &str,
    series: &[&Series],
    interval_ms: f64,
    baseline_ms: f64,
    cores: usize,
    load: LoadShape,
    out: &mut BTreeMap<String, MetricValue>,
) -> Vec<Finding> {
    let rising_load = load.rising;
    let cores = cores.max(1) as f64;
    let points = combine(series, interval_ms, cores);
    let mut findings = Vec::new();
    if points.is_empty() {
        return findings;
    }
    let name = |n: &str| format!("{prefix}{n}");
    let has_heap = prefix.is_empty() && points.iter().any(|p| p.heap_live_bytes.is_some());
    for watched in &WATCHED {
        let family = watched.family;
        let read = watched.read;
        if family == "heap" && !has_heap {
            continue;
        }
        let values: Vec<f64> = points.iter().filter_map(read).collect();
        match family {
            "rss" => {
                put(
                    out,
                    name("rss.start"),
                    values.first().copied(),
                    watched.unit,
                    Scope::Start,
                    None,
                );
                put(
                    out,
                    name("rss.end"),
                    values.last().copied(),
                    watched.unit,
                    Scope::End,
                    None,
                );
            }
            "heap" => heap_totals(&points, out),
            _ => {}
        }
        put(
            out,
            name(&format!("{family}.peak")),
            values.iter().copied().reduce(f64::max),
            watched.unit,
            Scope::Peak,
            (family == "heap").then(|| "the most live heap seen at a sample".to_string()),
        );
        let trends = pid_trends(series, baseline_ms, read);
        let dimension = watched.unit.dimension();
        let note = growth_note(&trends, dimension);
        let growth = (!trends.is_empty()).then(|| trends.iter().map(|t| t.trend.growth).sum());
        put(
            out,
            name(&format!("{family}.growth")),
            growth,
            watched.unit,
            Scope::Trend,
            Some(note.clone()),
        );
        if let Some(slope_unit) = watched.slope_unit {
            put(
                out,
                name(&format!("{family}.slope")),
                (!trends.is_empty()).then(|| trends.iter().map(|t| t.trend.slope).sum()),
                slope_unit,
                Scope::Trend,
                Some(note),
            );
        }
        // Exact heap counts judge memory leaks when there are any.
        if family == "rss" && has_heap {
            continue;
        }
        let own_states = if prefix.is_empty() {
            load.states_built
        } else {
            0
        };
        findings.extend(
            trends
                .iter()
                .filter_map(|t| leak_finding(prefix, watched, t, rising_load, own_states)),
        );
    }
    cpu_metrics(&name, series, &points, cores, out);
    findings
}

/// Each process's growth trend of one resource after warm-up.
fn pid_trends(
    series: &[&Series],
    baseline_ms: f64,
    read: fn(&SamplePoint) -> Option<f64>,
) -> Vec<PidTrend> {
    series
        .iter()
        .filter_map(|s| {
            let after: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| p.t_ms >= baseline_ms)
                .filter_map(|p| Some((p.t_ms / 1e3, read(p)?)))
                .collect();
            let trend = growth_trend(&after)?;
            Some(PidTrend {
                pid: s.pid,
                trend,
                baseline: after[0].1,
                span_s: after[after.len() - 1].0 - after[0].0,
            })
        })
        .collect()
}

/// The note of a `*.growth` and `*.slope`: how growth was measured, the
/// trend's statistics, and whether the stretch was long enough to judge a
/// leak.
fn growth_note(trends: &[PidTrend], dimension: Dimension) -> String {
    if trends.is_empty() {
        format!("needs at least {MIN_TREND_SAMPLES} samples after warm-up")
    } else {
        let n: usize = trends.iter().map(|t| t.trend.n).sum();
        let low: f64 = trends.iter().map(|t| t.trend.slope_low).sum();
        let high: f64 = trends.iter().map(|t| t.trend.slope_high).sum();
        let span = trends.iter().map(|t| t.span_s).fold(0.0, f64::max);
        let judged = if span < MIN_LEAK_SPAN_S || n < MIN_LEAK_SAMPLES {
            format!(
                "; too short to judge a leak ({span:.1}s; a leak is judged on at least {MIN_LEAK_SPAN_S}s and {MIN_LEAK_SAMPLES} samples after warm-up)"
            )
        } else {
            String::new()
        };
        format!(
            "growth: the end level less the start level (medians of a tenth of the samples at each end); Theil–Sen over {n} samples after warm-up{}; slope {} per second (95% CI {} to {}); Mann–Kendall z {}{judged}",
            if trends.len() > 1 {
                format!(", per process ({}), summed", trends.len())
            } else {
                String::new()
            },
            format_value(trends.iter().map(|t| t.trend.slope).sum(), dimension),
            format_value(low, dimension),
            format_value(high, dimension),
            trends
                .iter()
                .map(|t| format!("{:.1}", t.trend.z))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

/// The finding of one process's trend, if it is one: a resource that grew
/// materially over a stretch long enough to judge and was still rising in
/// its later half. A leak is suspected unless the load rose too, or the
/// growth is what the generator's own pooled states (`own_states` built)
/// explain.
fn leak_finding(
    prefix: &str,
    watched: &Watched,
    t: &PidTrend,
    rising_load: bool,
    own_states: u64,
) -> Option<Finding> {
    if t.span_s < MIN_LEAK_SPAN_S || t.trend.n < MIN_LEAK_SAMPLES {
        // Too short to tell a leak from a pool filling once.
        return None;
    }
    let family = watched.family;
    let material = t.trend.growth
        >= watched
            .material_floor
            .max(watched.material_fraction * t.baseline);
    if !(t.trend.keeps_rising() && material) {
        return None;
    }
    let (severity, verdict) = if rising_load {
        (
            Severity::Info,
            "grew with the rising load (not judged a leak)".to_string(),
        )
    } else if own_states > 0 && explained_by_states(family, t.trend.growth, own_states) {
        (
            Severity::Info,
            format!(
                "grew with the generator's pool of worker states ({own_states} built during the measured load; not judged a leak)"
            ),
        )
    } else {
        (Severity::Warning, "leak suspected".to_string())
    };
    let resource = match family {
        "rss" | "heap" => "memory",
        "threads" => "thread",
        _ => "fd",
    };
    let dimension = watched.unit.dimension();
    Some(Finding {
        severity,
        kind: format!(
            "{}{resource}_{}",
            if prefix.is_empty() { "" } else { "target_" },
            if severity == Severity::Warning {
                "leak"
            } else {
                "growth"
            }
        ),
        title: format!(
            "{} {verdict}{}",
            watched.what,
            if prefix.is_empty() {
                String::new()
            } else {
                format!(" in watched process {}", t.pid)
            }
        ),
        detail: format!(
            "{prefix}{family}.growth grew by {} over {:.1}s after warm-up (from {}) and was still rising in the later half (Theil–Sen slope {} per second, 95% CI {} to {}; Mann–Kendall z {:.1} overall, {:.1} in the later half)",
            format_value(t.trend.growth, dimension),
            t.span_s,
            format_value(t.baseline, dimension),
            format_value(t.trend.slope, dimension),
            format_value(t.trend.slope_low, dimension),
            format_value(t.trend.slope_high, dimension),
            t.trend.z,
            t.trend.z_late,
        ),
    })
}

/// `heap.live` (at the end), `heap.allocated` and `heap.allocations`
/// (during the run: from the first sample to the last).
fn heap_totals(points: &[SamplePoint], out: &mut BTreeMap<String, MetricValue>) {
    let first = points.iter().find(|p| p.heap_live_bytes.is_some());
    let last = points.iter().rev().find(|p| p.heap_live_bytes.is_some());
    let (Some(first), Some(last)) = (first, last) else {
        return;
    };
    let during = |read: fn(&SamplePoint) -> Option<u64>| {
        Some(read(last)?.saturating_sub(read(first)?) as f64)
    };
    put(
        out,
        "heap.live".into(),
        last.heap_live_bytes.map(|b| b as f64),
        Unit::Bytes,
        Scope::End,
        Some(
            "bytes allocated and not freed at the last sample (brunt::heap::CountingAllocator)"
                .into(),
        ),
    );
    put(
        out,
        "heap.allocated".into(),
        during(|p| p.heap_allocated_bytes),
        Unit::Bytes,
        Scope::Total,
        Some("bytes allocated between the first and last sample".into()),
    );
    put(
        out,
        "heap.allocations".into(),
        during(|p| p.heap_allocations),
        Unit::Count,
        Scope::Total,
        Some("allocations between the first and last sample".into()),
    );
}

/// `cpu.mean`: CPU time over wall time from each process's first sample to
/// its last (summed over processes); `cpu.peak`: the busiest interval.
fn cpu_metrics(
    name: &dyn Fn(&str) -> String,
    series: &[&Series],
    points: &[SamplePoint],
    cores: f64,
    out: &mut BTreeMap<String, MetricValue>,
) {
    let first_t = points.first().map_or(0.0, |p| p.t_ms);
    let last_t = points.last().map_or(0.0, |p| p.t_ms);
    let wall_s = (last_t - first_t) / 1e3;
    let cpu_s: Option<f64> = series
        .iter()
        .map(|s| {
            let times: Vec<f64> = s.points.iter().filter_map(|p| p.cpu_time_s).collect();
            Some(times.last()? - times.first()?)
        })
        .sum();
    let intervals: Vec<f64> = points.iter().filter_map(|p| p.cpu_percent).collect();
    let mean = match cpu_s {
        Some(cpu) if wall_s > 0.0 => Some((cpu / wall_s * 100.0).min(cores * 100.0)),
        // Reports without CPU times: the mean of the intervals.
        _ => {
            (!intervals.is_empty()).then(|| intervals.iter().sum::<f64>() / intervals.len() as f64)
        }
    };
    let no_cpu = mean
        .is_none()
        .then(|| "needs at least 2 samples".to_string());
    put(
        out,
        name("cpu.mean"),
        mean,
        Unit::Percent,
        Scope::OverallAvg,
        no_cpu
            .clone()
            .or_else(|| Some("CPU time over wall time, percent of one core".into())),
    );
    put(
        out,
        name("cpu.peak"),
        intervals
            .iter()
            .copied()
            .reduce(f64::max)
            .map(|p| p.min(cores * 100.0)),
        Unit::Percent,
        Scope::Peak,
        no_cpu.or_else(|| {
            Some(format!(
                "busiest sampling interval, percent of one core (at most {:.0}% on {cores} cores)",
                cores * 100.0
            ))
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(f64, u64)]) -> Series {
        Series {
            process: "self".into(),
            pid: 1,
            points: points
                .iter()
                .enumerate()
                .map(|(k, &(t_ms, rss_bytes))| SamplePoint {
                    t_ms,
                    tick: Some(k as u64),
                    rss_bytes,
                    cpu_percent: Some(50.0),
                    cpu_time_s: Some(t_ms / 2e3),
                    threads: 4,
                    fds: 9,
                    heap_live_bytes: None,
                    heap_allocated_bytes: None,
                    heap_allocations: None,
                })
                .collect(),
        }
    }

    #[test]
    fn growth_is_the_trend_after_warmup() {
        // 1 MiB/s after warm-up at t = 1 s; a spike before it is ignored.
        let mut points = vec![(0.0, 500_000_000), (500.0, 10)];
        points.extend((0..=10).map(|i| (1000.0 + 100.0 * i as f64, 100_000_000 + 104_858 * i)));
        let s = series(&points);
        let mut out = BTreeMap::new();
        let findings =
            resource_metrics("", &[&s], 100.0, 1000.0, 2, LoadShape::default(), &mut out);
        assert!(findings.is_empty(), "1 MiB is not material: {findings:?}");
        let slope = out["rss.slope"].value.unwrap();
        assert!((slope - 1_048_580.0).abs() < 100.0, "{slope}");
        let growth = out["rss.growth"].value.unwrap();
        assert!((growth - 1_048_580.0).abs() < 100.0, "{growth}");
        assert_eq!(out["rss.peak"].value, Some(500_000_000.0));
        assert_eq!(out["threads.peak"].value, Some(4.0));
    }

    #[test]
    fn a_material_significant_rise_is_a_suspected_leak_and_a_plateau_is_not() {
        // 64 MiB over 2 s, after warm-up.
        let leak: Vec<(f64, u64)> = (0..=20)
            .map(|i| (100.0 * i as f64, 50_000_000 + 3_355_443 * i))
            .collect();
        let mut out = BTreeMap::new();
        let findings = resource_metrics(
            "",
            &[&series(&leak)],
            100.0,
            0.0,
            2,
            LoadShape::default(),
            &mut out,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].title.contains("memory leak suspected"));
        assert_eq!(findings[0].severity, Severity::Warning);
        // The same rise under an escalation: reported, not judged a leak.
        let findings = resource_metrics(
            "",
            &[&series(&leak)],
            100.0,
            0.0,
            2,
            LoadShape {
                rising: true,
                states_built: 0,
            },
            &mut out,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(
            findings[0].title.contains("grew with the rising load"),
            "{}",
            findings[0].title
        );
        // A jump during warm-up, then a noisy plateau: no leak.
        let plateau: Vec<(f64, u64)> = (0..=20)
            .map(|i| {
                (
                    100.0 * i as f64,
                    if i < 3 {
                        10_000_000
                    } else {
                        90_000_000 + (i % 3) * 100_000
                    },
                )
            })
            .collect();
        let findings = resource_metrics(
            "",
            &[&series(&plateau)],
            100.0,
            300.0,
            2,
            LoadShape::default(),
            &mut out,
        );
        assert!(findings.is_empty(), "{findings:?}");
        assert!(out["rss.growth"].value.unwrap().abs() < 1_000_000.0);
    }

    #[test]
    fn watched_processes_sum_by_tick_and_trend_apart() {
        // Two targets sampled together; the second sample of `a` came late
        // (t 151 ms), where rounding time to the interval would have put it
        // in the same slot as the next tick and doubled the peak.
        let mut a = series(&[(0.0, 100), (151.0, 100), (200.0, 100), (300.0, 100)]);
        a.process = "target".into();
        // `b` is watched from the third tick on: a pid added mid-run, not a
        // step of the others' memory.
        let mut b = series(&[(200.0, 500), (300.0, 500), (400.0, 500), (500.0, 500)]);
        b.process = "target".into();
        b.pid = 2;
        for (k, p) in b.points.iter_mut().enumerate() {
            p.tick = Some(k as u64 + 2);
        }
        let mut out = BTreeMap::new();
        let findings = resource_metrics(
            "target.",
            &[&a, &b],
            100.0,
            0.0,
            2,
            LoadShape::default(),
            &mut out,
        );
        assert_eq!(
            out["target.rss.peak"].value,
            Some(600.0),
            "100 + 500 at most"
        );
        assert_eq!(
            out["target.rss.growth"].value,
            Some(0.0),
            "no step read as growth"
        );
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn too_few_samples_leave_growth_unmeasured() {
        let s = series(&[(0.0, 1), (100.0, 2)]);
        let mut out = BTreeMap::new();
        resource_metrics(
            "target.",
            &[&s],
            100.0,
            0.0,
            2,
            LoadShape::default(),
            &mut out,
        );
        assert_eq!(out["target.rss.growth"].value, None);
        assert!(
            out["target.rss.growth"]
                .note
                .as_deref()
                .unwrap()
                .contains("at least 3")
        );
    }
}
