//! The contract's built-in metrics, computed from what was recorded (op
//! totals) and sampled (resource series). Each metric carries its unit and
//! scope. A metric the run could not measure is written with a `null` value
//! and a note saying why, so that a criterion on it fails with that reason.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::{OpTotals, linear_trend};
use crate::criteria::Unit;
use crate::report::{Finding, MetricValue, SamplePoint, Series, Severity, Step, format_value};

/// Fewest post-warm-up samples from which a growth trend is claimed.
pub(crate) const MIN_TREND_SAMPLES: usize = 3;

fn put(
    out: &mut BTreeMap<String, MetricValue>,
    name: String,
    value: Option<f64>,
    unit: Unit,
    scope: &str,
    note: Option<String>,
) {
    out.insert(
        name,
        MetricValue {
            value,
            unit: unit.symbol().to_string(),
            scope: scope.to_string(),
            note,
        },
    );
}

/// `ops`, `errors`, `success_rate`, `throughput`, `duration` and
/// `latency.*` from the measured ops.
pub(crate) fn load_metrics(totals: &OpTotals, out: &mut BTreeMap<String, MetricValue>) {
    let ops = totals.ops as f64;
    let seconds = totals.measured.as_secs_f64();
    put(out, "ops".into(), Some(ops), Unit::Count, "total", None);
    put(
        out,
        "errors".into(),
        Some(totals.errors as f64),
        Unit::Count,
        "total",
        None,
    );
    let no_ops = (totals.ops == 0).then(|| "no op was measured".to_string());
    put(
        out,
        "success_rate".into(),
        (totals.ops > 0).then(|| (ops - totals.errors as f64) / ops * 100.0),
        Unit::Percent,
        "overall_avg",
        no_ops.clone(),
    );
    put(
        out,
        "throughput".into(),
        (seconds > 0.0).then(|| ops / seconds),
        Unit::PerSecond,
        "overall_avg",
        (seconds <= 0.0).then(|| "no measured time".to_string()),
    );
    put(
        out,
        "duration".into(),
        Some(seconds),
        Unit::Seconds,
        "total",
        None,
    );
    histogram_metrics("latency", &totals.latency, out);
    if let Some(service) = &totals.service {
        histogram_metrics("service_time", service, out);
        open_metrics(totals, out);
    }
}

/// `<family>.{min,mean,p50,p90,p95,p99,p999,max}` from one histogram, in ns.
fn histogram_metrics(family: &str, h: &Histogram<u64>, out: &mut BTreeMap<String, MetricValue>) {
    let empty = h.is_empty();
    let no_ops = empty.then(|| "no op was measured".to_string());
    let quantile = |q: f64| (!empty).then(|| h.value_at_quantile(q) as f64);
    let values = [
        ("min", (!empty).then(|| h.min() as f64), "min"),
        ("mean", (!empty).then(|| h.mean()), "overall_avg"),
        ("p50", quantile(0.50), "percentile"),
        ("p90", quantile(0.90), "percentile"),
        ("p95", quantile(0.95), "percentile"),
        ("p99", quantile(0.99), "percentile"),
        ("p999", quantile(0.999), "percentile"),
        ("max", (!empty).then(|| h.max() as f64), "max"),
    ];
    for (name, value, scope) in values {
        put(
            out,
            format!("{family}.{name}"),
            value,
            Unit::Nanoseconds,
            scope,
            no_ops.clone(),
        );
    }
}

/// Open model only: late and dropped arrivals and the rate offered (beside
/// `service_time.*`, measured from each op's actual start, while `latency.*`
/// counts from its intended start).
fn open_metrics(totals: &OpTotals, out: &mut BTreeMap<String, MetricValue>) {
    put(
        out,
        "late".into(),
        Some(totals.late as f64),
        Unit::Count,
        "total",
        None,
    );
    put(
        out,
        "dropped".into(),
        Some(totals.dropped as f64),
        Unit::Count,
        "total",
        None,
    );
    let issuing = totals.issuing.as_secs_f64();
    put(
        out,
        "offered_rate".into(),
        (issuing > 0.0).then(|| (totals.ops + totals.dropped) as f64 / issuing),
        Unit::PerSecond,
        "overall_avg",
        Some("arrivals offered (run or dropped) per second of issuing".to_string()),
    );
    let busy = totals.generator.busy();
    put(
        out,
        "generator.busy".into(),
        busy.map(|b| b * 100.0),
        Unit::Percent,
        "overall_avg",
        Some("share of the arrival threads' time not spent waiting for the schedule".to_string()),
    );
    let cpu = totals.generator.cpu_cores();
    put(
        out,
        "generator.cpu".into(),
        cpu.map(|c| c * 100.0),
        Unit::Percent,
        "overall_avg",
        Some(if cpu.is_some() {
            "CPU time of all arrival threads over the issuing's wall time, percent of one core (ops run on these threads: their CPU is included)".to_string()
        } else {
            "thread CPU time cannot be read on this platform".to_string()
        }),
    );
}

/// Escalation only. Closed model: `breaking_point` (the first concurrency
/// at which an `until` condition broke; `null` if none did up to `max`) and
/// `max_sustainable_concurrency`; open model: `breaking_rate` and
/// `max_sustainable_rate`. Both: `max_sustainable_throughput`, from the last
/// step that held. A step the generator could not offer (tainted) ends the
/// escalation without a breaking point: it says nothing about the system.
pub(crate) fn escalation_metrics(
    steps: &[Step],
    open: bool,
    out: &mut BTreeMap<String, MetricValue>,
) {
    let (breaking, sustainable, unit, what) = if open {
        (
            "breaking_rate",
            "max_sustainable_rate",
            Unit::PerSecond,
            "rate",
        )
    } else {
        (
            "breaking_point",
            "max_sustainable_concurrency",
            Unit::Count,
            "concurrency",
        )
    };
    let shown = |level: f64| {
        if open {
            format_value(level, crate::criteria::Dimension::Rate)
        } else {
            format!("{level}")
        }
    };
    let ended = steps.iter().find(|s| !s.held);
    let (value, note) = match ended {
        Some(s) if s.tainted => (
            None,
            format!(
                "the escalation ended at {}: the load generator could not offer it, so no breaking point was measured",
                shown(s.level)
            ),
        ),
        Some(s) => (
            Some(s.level),
            format!("{what} {} broke: {}", shown(s.level), s.broken.join("; ")),
        ),
        None => (
            None,
            format!("no condition broke up to the highest {what} tried"),
        ),
    };
    put(out, breaking.into(), value, unit, "observed", Some(note));
    let last_held = steps.iter().take_while(|s| s.held).last();
    let none_held = last_held
        .is_none()
        .then(|| "the first step already broke a condition".to_string());
    put(
        out,
        sustainable.into(),
        last_held.map(|s| s.level),
        unit,
        "peak",
        none_held.clone(),
    );
    put(
        out,
        "max_sustainable_throughput".into(),
        last_held.map(|s| s.throughput_per_s),
        Unit::PerSecond,
        "peak",
        none_held,
    );
}

/// Arrival threads busy (never waiting for their schedule) more than this
/// share of the time, with the schedule slipping, mean the generator set the
/// pace, percent.
pub(crate) const GENERATOR_SATURATED: f64 = 90.0;

/// Under the open model: whether the load generator, not the system under
/// test, was the bottleneck. It was when the declared rate was not offered
/// (`offered_rate` more than `tolerance` below it) while the arrival threads
/// were saturated. Then the run's throughput and latency describe Brunt, and
/// the finding says so.
pub(crate) fn generator_bottleneck(
    declared_rate: f64,
    tolerance: f64,
    metrics: &BTreeMap<String, MetricValue>,
) -> Option<Finding> {
    let offered = metrics.get("offered_rate")?.value?;
    let busy = metrics.get("generator.busy")?.value?;
    if offered >= declared_rate * (1.0 - tolerance) || busy < GENERATOR_SATURATED {
        return None;
    }
    let cpu = metrics
        .get("generator.cpu")
        .and_then(|m| m.value)
        .map_or("unknown".to_string(), |c| {
            format_value(c, crate::criteria::Dimension::Percent)
        });
    Some(Finding {
        severity: Severity::Critical,
        title: "load generator was the bottleneck: run tainted".to_string(),
        detail: format!(
            "declared {}, offered {} while the arrival threads never caught up with their \
             schedule ({} of their time busy, {cpu} CPU); \
             the throughput and latency of this run measure Brunt's generator, \
             not the system under test. Lower the rate or give the generator more cores.",
            format_value(declared_rate, crate::criteria::Dimension::Rate),
            format_value(offered, crate::criteria::Dimension::Rate),
            format_value(busy, crate::criteria::Dimension::Percent),
        ),
    })
}

/// Points of several processes summed per tick (they are sampled together).
fn combine(series: &[&Series], interval_ms: f64) -> Vec<SamplePoint> {
    if series.len() == 1 {
        return series[0].points.clone();
    }
    let mut ticks: BTreeMap<i64, SamplePoint> = BTreeMap::new();
    for s in series {
        for p in &s.points {
            let key = (p.t_ms / interval_ms.max(1.0)).round() as i64;
            let entry = ticks.entry(key).or_insert(SamplePoint {
                t_ms: p.t_ms,
                rss_bytes: 0,
                cpu_percent: None,
                threads: 0,
                fds: 0,
            });
            entry.rss_bytes += p.rss_bytes;
            entry.threads += p.threads;
            entry.fds += p.fds;
            if let Some(cpu) = p.cpu_percent {
                entry.cpu_percent = Some(entry.cpu_percent.unwrap_or(0.0) + cpu);
            }
        }
    }
    ticks.into_values().collect()
}

/// A resource whose trend after warm-up is watched for leaks.
struct Watched {
    /// Metric family (`rss`, `threads`, `fds`).
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
    read: fn(&SamplePoint) -> f64,
}

const WATCHED: [Watched; 3] = [
    Watched {
        family: "rss",
        what: "memory",
        unit: Unit::Bytes,
        slope_unit: Some(Unit::BytesPerSecond),
        material_floor: 16.0 * 1024.0 * 1024.0,
        material_fraction: 0.10,
        read: |p| p.rss_bytes as f64,
    },
    Watched {
        family: "threads",
        what: "thread",
        unit: Unit::Count,
        slope_unit: None,
        material_floor: 4.0,
        material_fraction: 0.5,
        read: |p| p.threads as f64,
    },
    Watched {
        family: "fds",
        what: "file descriptor",
        unit: Unit::Count,
        slope_unit: None,
        material_floor: 16.0,
        material_fraction: 0.5,
        read: |p| p.fds as f64,
    },
];

/// `rss.*`, `cpu.*`, `threads.*` and `fds.*` under `prefix` (`""` for the
/// own process, `"target."` for watched ones), and a finding for each
/// resource that looks like a leak.
///
/// Growth and slope are a least-squares trend over the samples taken after
/// `baseline_ms` (the end of warm-up); growth is the trend's rise over that
/// span. A leak is suspected only when the slope is significantly positive
/// (its 95 % interval excludes zero) *and* the growth is material (above a
/// floor and a fraction of the baseline), so noise and small, bounded warm-up
/// effects are not reported.
pub(crate) fn resource_metrics(
    prefix: &str,
    series: &[&Series],
    interval_ms: f64,
    baseline_ms: f64,
    out: &mut BTreeMap<String, MetricValue>,
) -> Vec<Finding> {
    let points = combine(series, interval_ms);
    let mut findings = Vec::new();
    if points.is_empty() {
        return findings;
    }
    let name = |n: &str| format!("{prefix}{n}");
    let after_warmup: Vec<&SamplePoint> = points.iter().filter(|p| p.t_ms >= baseline_ms).collect();
    let span = match (after_warmup.first(), after_warmup.last()) {
        (Some(a), Some(b)) => (b.t_ms - a.t_ms) / 1e3,
        _ => 0.0,
    };
    for watched in &WATCHED {
        let family = watched.family;
        let read = watched.read;
        if family == "rss" {
            let start = points.first().map(read);
            let end = points.last().map(read);
            put(out, name("rss.start"), start, watched.unit, "start", None);
            put(out, name("rss.end"), end, watched.unit, "end", None);
        }
        put(
            out,
            name(&format!("{family}.peak")),
            points.iter().map(read).reduce(f64::max),
            watched.unit,
            "peak",
            None,
        );
        let trend_points: Vec<(f64, f64)> = after_warmup
            .iter()
            .map(|p| (p.t_ms / 1e3, read(p)))
            .collect();
        let trend = linear_trend(&trend_points);
        let note = match trend {
            Some(t) => format!(
                "least-squares over {} samples after warm-up; slope {} ± {} per second (95% CI)",
                t.n,
                format_value(t.slope, watched.unit.dimension()),
                format_value(t.slope_ci95(), watched.unit.dimension()),
            ),
            None => format!(
                "needs at least {MIN_TREND_SAMPLES} samples after warm-up, had {}",
                trend_points.len()
            ),
        };
        let growth = trend.map(|t| t.slope * span);
        put(
            out,
            name(&format!("{family}.growth")),
            growth,
            watched.unit,
            "trend",
            Some(note.clone()),
        );
        if let Some(slope_unit) = watched.slope_unit {
            put(
                out,
                name(&format!("{family}.slope")),
                trend.map(|t| t.slope),
                slope_unit,
                "trend",
                Some(note.clone()),
            );
        }
        let (Some(trend), Some(growth)) = (trend, growth) else {
            continue;
        };
        let baseline = trend_points.first().map_or(0.0, |p| p.1);
        let significant = trend.slope - trend.slope_ci95() > 0.0;
        let material = growth
            >= watched
                .material_floor
                .max(watched.material_fraction * baseline);
        if significant && material {
            let dimension = watched.unit.dimension();
            findings.push(Finding {
                severity: Severity::Warning,
                title: format!(
                    "{} leak suspected{}",
                    watched.what,
                    if prefix.is_empty() {
                        ""
                    } else {
                        " in the watched process"
                    }
                ),
                detail: format!(
                    "{} grew by {} over {:.1}s after warm-up (from {}); {note}",
                    name(family),
                    format_value(growth, dimension),
                    span,
                    format_value(baseline, dimension),
                ),
            });
        }
    }
    let cpu: Vec<f64> = points.iter().filter_map(|p| p.cpu_percent).collect();
    let no_cpu = cpu
        .is_empty()
        .then(|| "needs at least 2 samples".to_string());
    put(
        out,
        name("cpu.mean"),
        (!cpu.is_empty()).then(|| cpu.iter().sum::<f64>() / cpu.len() as f64),
        Unit::Percent,
        "overall_avg",
        no_cpu.clone(),
    );
    put(
        out,
        name("cpu.peak"),
        cpu.iter().copied().reduce(f64::max),
        Unit::Percent,
        "peak",
        no_cpu,
    );
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn series(points: &[(f64, u64)]) -> Series {
        Series {
            process: "self".into(),
            pid: 1,
            points: points
                .iter()
                .map(|&(t_ms, rss_bytes)| SamplePoint {
                    t_ms,
                    rss_bytes,
                    cpu_percent: Some(50.0),
                    threads: 4,
                    fds: 9,
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
        let findings = resource_metrics("", &[&s], 100.0, 1000.0, &mut out);
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
        let findings = resource_metrics("", &[&series(&leak)], 100.0, 0.0, &mut out);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].title.contains("memory leak suspected"));
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
        let findings = resource_metrics("", &[&series(&plateau)], 100.0, 300.0, &mut out);
        assert!(findings.is_empty(), "{findings:?}");
        assert!(out["rss.growth"].value.unwrap().abs() < 1_000_000.0);
    }

    #[test]
    fn too_few_samples_leave_growth_unmeasured() {
        let s = series(&[(0.0, 1), (100.0, 2)]);
        let mut out = BTreeMap::new();
        resource_metrics("target.", &[&s], 100.0, 0.0, &mut out);
        assert_eq!(out["target.rss.growth"].value, None);
        assert!(
            out["target.rss.growth"]
                .note
                .as_deref()
                .unwrap()
                .contains("at least 3")
        );
    }

    #[test]
    fn load_metrics_from_totals() {
        let mut totals = OpTotals::default();
        for i in 0..100u64 {
            totals.latency.record(1_000 * (i + 1)).unwrap();
        }
        totals.ops = 100;
        totals.errors = 5;
        totals.measured = Duration::from_secs(2);
        let mut out = BTreeMap::new();
        load_metrics(&totals, &mut out);
        assert_eq!(out["success_rate"].value, Some(95.0));
        assert_eq!(out["throughput"].value, Some(50.0));
        assert_eq!(out["duration"].value, Some(2.0));
        assert_eq!(out["latency.max"].unit, "ns");
        let p50 = out["latency.p50"].value.unwrap();
        assert!((49_900.0..=50_100.0).contains(&p50), "{p50}");
    }
}
