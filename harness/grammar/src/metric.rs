//! Metric names: the built-in metrics of the contract with what each
//! measures, and the rules a custom metric's name must follow.

use crate::{Dimension, GrammarError};

/// Whether an escalation step measures a metric on its own load, so that
/// `until(...)` can judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerStep {
    /// Not measured per step (resources, custom metrics, escalation results).
    No,
    /// Every step measures it.
    Both,
    /// Only steps of arrival rates (the open model) measure it.
    Open,
}

/// A built-in metric and what it supports: the one table the attribute
/// macro (compile-time checks), the sampler (live values) and the runtime
/// (evaluation) all read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricInfo {
    /// The metric's name.
    pub name: &'static str,
    /// What it measures.
    pub dimension: Dimension,
    /// Computable for any whole-second stretch of the per-second load
    /// series: `window(...)` can judge it.
    pub windowable: bool,
    /// Known while the run goes (the sampler computes it every interval)
    /// and never decreases: `abort(...)` can watch it under an upper bound.
    pub live: bool,
    /// Whether escalation steps measure it.
    pub per_step: PerStep,
}

const fn m(name: &'static str, dimension: Dimension) -> MetricInfo {
    MetricInfo {
        name,
        dimension,
        windowable: false,
        live: false,
        per_step: PerStep::No,
    }
}

/// A load metric every step measures; windowable.
const fn load(name: &'static str, dimension: Dimension) -> MetricInfo {
    MetricInfo {
        windowable: true,
        per_step: PerStep::Both,
        ..m(name, dimension)
    }
}

/// A metric only open-model steps measure.
const fn open(name: &'static str, dimension: Dimension) -> MetricInfo {
    MetricInfo {
        per_step: PerStep::Open,
        ..m(name, dimension)
    }
}

/// A growing value the sampler knows live.
const fn live(mut info: MetricInfo) -> MetricInfo {
    info.live = true;
    info
}

/// Every built-in metric and what it supports. `target.*` repeats the
/// resource metrics for processes added with `Stress::watch_pid`.
pub const METRICS: &[MetricInfo] = &[
    live(load("ops", Dimension::Count)),
    live(load("errors", Dimension::Count)),
    load("success_rate", Dimension::Percent),
    MetricInfo {
        per_step: PerStep::Both,
        ..m("expected_errors", Dimension::Count)
    },
    m("setup.errors", Dimension::Count),
    m("warmup.ops", Dimension::Count),
    m("warmup.errors", Dimension::Count),
    m("setup.time.min", Dimension::Time),
    m("setup.time.mean", Dimension::Time),
    m("setup.time.p50", Dimension::Time),
    m("setup.time.p99", Dimension::Time),
    m("setup.time.max", Dimension::Time),
    MetricInfo {
        per_step: PerStep::Both,
        ..m("timeouts", Dimension::Count)
    },
    load("throughput", Dimension::Rate),
    load("attempted_rate", Dimension::Rate),
    MetricInfo {
        per_step: PerStep::Both,
        ..m("duration", Dimension::Time)
    },
    load("latency.min", Dimension::Time),
    load("latency.mean", Dimension::Time),
    load("latency.p50", Dimension::Time),
    load("latency.p90", Dimension::Time),
    load("latency.p95", Dimension::Time),
    load("latency.p99", Dimension::Time),
    load("latency.p999", Dimension::Time),
    load("latency.max", Dimension::Time),
    open("service_time.min", Dimension::Time),
    open("service_time.mean", Dimension::Time),
    open("service_time.p50", Dimension::Time),
    open("service_time.p90", Dimension::Time),
    open("service_time.p95", Dimension::Time),
    open("service_time.p99", Dimension::Time),
    open("service_time.p999", Dimension::Time),
    open("service_time.max", Dimension::Time),
    open("offered_rate", Dimension::Rate),
    open("late", Dimension::Count),
    open("dropped", Dimension::Count),
    open("generator.busy", Dimension::Percent),
    open("generator.cpu", Dimension::Percent),
    open("arrival.lag.min", Dimension::Time),
    open("arrival.lag.mean", Dimension::Time),
    open("arrival.lag.p50", Dimension::Time),
    open("arrival.lag.p90", Dimension::Time),
    open("arrival.lag.p95", Dimension::Time),
    open("arrival.lag.p99", Dimension::Time),
    open("arrival.lag.p999", Dimension::Time),
    open("arrival.lag.max", Dimension::Time),
    open("queued", Dimension::Count),
    open("connections.peak", Dimension::Count),
    m("breaking_point", Dimension::Count),
    m("max_sustainable_concurrency", Dimension::Count),
    m("max_sustainable_throughput", Dimension::Rate),
    m("breaking_rate", Dimension::Rate),
    m("max_sustainable_rate", Dimension::Rate),
    m("sampler.cpu", Dimension::Percent),
    m("host.cpu.others", Dimension::Percent),
    m("rss.start", Dimension::Size),
    live(m("rss.peak", Dimension::Size)),
    m("rss.end", Dimension::Size),
    m("rss.growth", Dimension::Size),
    m("rss.slope", Dimension::SizeRate),
    m("cpu.mean", Dimension::Percent),
    m("cpu.peak", Dimension::Percent),
    m("heap.live", Dimension::Size),
    live(m("heap.peak", Dimension::Size)),
    m("heap.allocated", Dimension::Size),
    m("heap.allocations", Dimension::Count),
    m("heap.growth", Dimension::Size),
    m("heap.slope", Dimension::SizeRate),
    live(m("threads.peak", Dimension::Count)),
    m("threads.growth", Dimension::Count),
    live(m("fds.peak", Dimension::Count)),
    m("fds.growth", Dimension::Count),
    m("target.rss.start", Dimension::Size),
    live(m("target.rss.peak", Dimension::Size)),
    m("target.rss.end", Dimension::Size),
    m("target.rss.growth", Dimension::Size),
    m("target.rss.slope", Dimension::SizeRate),
    m("target.cpu.mean", Dimension::Percent),
    m("target.cpu.peak", Dimension::Percent),
    live(m("target.threads.peak", Dimension::Count)),
    m("target.threads.growth", Dimension::Count),
    live(m("target.fds.peak", Dimension::Count)),
    m("target.fds.growth", Dimension::Count),
    m("chaos.ops", Dimension::Count),
    m("chaos.failures", Dimension::Count),
    m("chaos.fault_errors", Dimension::Count),
    m("chaos.survival_rate", Dimension::Percent),
    m("recovery.time.min", Dimension::Time),
    m("recovery.time.mean", Dimension::Time),
    m("recovery.time.p50", Dimension::Time),
    m("recovery.time.p99", Dimension::Time),
    m("recovery.time.max", Dimension::Time),
    m("recovery.latency", Dimension::Time),
];

/// The kinds of finding a run can report, as `expect_findings` names them:
/// leaks (a trend that keeps rising, of the scenario's process or, with
/// `target_`, of its watched ones), growth that is not judged a leak (under a
/// rising load, or the generator's own pool), and what the runner and the
/// chaos engine find. `custom` is `Stress::finding`'s.
pub const FINDING_KINDS: &[&str] = &[
    "memory_leak",
    "thread_leak",
    "fd_leak",
    "target_memory_leak",
    "target_thread_leak",
    "target_fd_leak",
    "memory_growth",
    "thread_growth",
    "fd_growth",
    "target_memory_growth",
    "target_thread_growth",
    "target_fd_growth",
    "generator_bottleneck",
    "pool_queued",
    "machine_contended",
    "unoptimised_build",
    "unhealthy_after_faults",
    "no_recovery",
    "chaos_shrunk",
    "chaos_not_reproduced",
    "no_stream",
    "no_samples",
    "custom",
];

/// The periods of a chaos run whose load metrics are measured apart, under
/// `chaos.<period>.` (`chaos.after.latency.p99`): the steady state before
/// the first fault, the faults, and after the last fault.
pub const CHAOS_PERIODS: &[&str] = &["before", "during", "after"];

/// Splits `chaos.<period>.<metric>` into the period and the metric; `None`
/// for any other name.
pub fn split_period_metric(name: &str) -> Option<(&str, &str)> {
    let (period, base) = name.strip_prefix("chaos.")?.split_once('.')?;
    CHAOS_PERIODS.contains(&period).then_some((period, base))
}

/// The metrics each op of a mix or flow gets under `op.<name>.`
/// (`op.tools_list.latency.p99`).
pub const PER_OP_METRICS: &[&str] = &[
    "ops",
    "errors",
    "expected_errors",
    "success_rate",
    "throughput",
    "attempted_rate",
    "warmup.ops",
    "latency.min",
    "latency.mean",
    "latency.p50",
    "latency.p90",
    "latency.p95",
    "latency.p99",
    "latency.p999",
    "latency.max",
];

/// Splits `op.<name>.<metric>` into the op's name and the metric; `None` for
/// a name outside the `op.` namespace.
pub fn split_op_metric(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix("op.")?.split_once('.')
}

/// What a built-in metric supports, or `None` for any other name. A per-op
/// metric (`op.<name>.latency.p99`) measures what its base metric does and
/// is not windowable, live or judged per escalation step.
pub fn metric_info(name: &str) -> Option<MetricInfo> {
    if let Some((op, base)) = split_op_metric(name) {
        if !crate::is_op_name(op) || !PER_OP_METRICS.contains(&base) {
            return None;
        }
        let info = METRICS.iter().find(|m| m.name == base)?;
        return Some(MetricInfo {
            name: "op.",
            dimension: info.dimension,
            windowable: false,
            live: false,
            per_step: PerStep::No,
        });
    }
    if let Some((_, base)) = split_period_metric(name) {
        if !PER_OP_METRICS.contains(&base) {
            return None;
        }
        let info = METRICS.iter().find(|m| m.name == base)?;
        return Some(MetricInfo {
            name: "chaos.",
            dimension: info.dimension,
            windowable: false,
            live: false,
            per_step: PerStep::No,
        });
    }
    METRICS.iter().find(|m| m.name == name).copied()
}

/// The names of the built-in metrics that satisfy `keep`, for messages.
pub fn metric_names(keep: impl Fn(&MetricInfo) -> bool) -> Vec<&'static str> {
    METRICS.iter().filter(|m| keep(m)).map(|m| m.name).collect()
}

/// Prefixes that belong to built-in metrics; a custom metric may not use them.
pub const RESERVED_NAMESPACES: &[&str] = &[
    "latency.",
    "service_time.",
    "generator.",
    "sampler.",
    "rss.",
    "cpu.",
    "heap.",
    "op.",
    "setup.",
    "threads.",
    "fds.",
    "target.",
    "chaos.",
    "recovery.",
];

/// Built-in names shorter than this are not used for "did you mean": a
/// custom `rate` is not a typo of `late`.
const MIN_NEAR_MISS_LEN: usize = 5;

/// What a built-in metric measures, or `None` for any other name.
pub fn lookup_builtin(name: &str) -> Option<Dimension> {
    metric_info(name).map(|m| m.dimension)
}

/// Checks a metric name as a criterion or `Stress::record` would use it.
///
/// Returns the built-in dimension for a built-in name and `None` for a valid
/// custom name. A name inside a reserved namespace that is not built in, or
/// one within two edits of a built-in name, is rejected as a likely typo:
/// a criterion on a misspelt metric would otherwise fail only at run time.
pub fn check_metric_name(name: &str) -> Result<Option<Dimension>, GrammarError> {
    let well_formed = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        && !name.contains("..")
        && !name.ends_with('.');
    if !well_formed {
        return Err(GrammarError::BadMetricName {
            name: name.to_string(),
        });
    }
    if let Some(dimension) = lookup_builtin(name) {
        return Ok(Some(dimension));
    }
    let builtin_names = METRICS
        .iter()
        .map(|m| m.name)
        .filter(|n| n.len() >= MIN_NEAR_MISS_LEN);
    let mut suggestions = closest_all(name, builtin_names, 2);
    if suggestions.is_empty() {
        suggestions = same_words(name);
    }
    let reserved = RESERVED_NAMESPACES.iter().any(|p| name.starts_with(p));
    if reserved || !suggestions.is_empty() {
        return Err(GrammarError::UnknownBuiltin {
            name: name.to_string(),
            suggestions,
        });
    }
    Ok(None)
}

/// Built-in names made of the same words in another order or with other
/// separators: `p99_latency` and `peak_rss` are `latency.p99` and
/// `rss.peak` written the way other tools write them, not metrics of the
/// scenario's own.
fn same_words(name: &str) -> Vec<&'static str> {
    let words = |n: &str| {
        let mut w: Vec<String> = n.split(['_', '.']).map(str::to_string).collect();
        w.sort_unstable();
        w
    };
    let mine = words(name);
    if mine.len() < 2 {
        return Vec::new();
    }
    METRICS
        .iter()
        .map(|m| m.name)
        .filter(|builtin| words(builtin) == mine)
        .collect()
}

/// The candidate closest to `word` by edit distance, if within `max`.
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Option<&'a str> {
    closest_all(word, candidates, max).into_iter().next()
}

/// Every candidate at the smallest edit distance from `word`, if within
/// `max`, in the candidates' order (`latency.p98` is as close to `p90` as
/// to `p95` and `p99`: all three are worth naming).
pub fn closest_all<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= max)
        .collect();
    let best = scored.iter().map(|(d, _)| *d).min();
    scored
        .into_iter()
        .filter(|(d, _)| Some(*d) == best)
        .map(|(_, c)| c)
        .collect()
}

/// Levenshtein distance between two strings, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_known() {
        assert_eq!(check_metric_name("latency.p99"), Ok(Some(Dimension::Time)));
        assert_eq!(
            check_metric_name("target.rss.peak"),
            Ok(Some(Dimension::Size))
        );
    }

    #[test]
    fn per_op_metrics_are_known() {
        assert_eq!(
            check_metric_name("op.tools_list.latency.p99"),
            Ok(Some(Dimension::Time))
        );
        assert_eq!(
            check_metric_name("op.call.expected_errors"),
            Ok(Some(Dimension::Count))
        );
        assert!(check_metric_name("op.call.rss.peak").is_err());
        assert!(check_metric_name("op.latency").is_err());
    }

    #[test]
    fn chaos_metrics_and_periods_are_known() {
        assert_eq!(
            check_metric_name("chaos.survival_rate"),
            Ok(Some(Dimension::Percent))
        );
        assert_eq!(
            check_metric_name("recovery.time.max"),
            Ok(Some(Dimension::Time))
        );
        assert_eq!(
            check_metric_name("chaos.after.latency.p99"),
            Ok(Some(Dimension::Time))
        );
        assert_eq!(
            check_metric_name("chaos.before.throughput"),
            Ok(Some(Dimension::Rate))
        );
        assert!(check_metric_name("chaos.meanwhile.latency.p99").is_err());
        assert!(check_metric_name("chaos.after.rss.peak").is_err());
        assert!(check_metric_name("recovery.time.p42").is_err());
    }

    #[test]
    fn custom_names_pass() {
        assert_eq!(check_metric_name("sessions_open"), Ok(None));
        assert_eq!(check_metric_name("spawn.rate"), Ok(None));
        assert_eq!(check_metric_name("rate"), Ok(None));
    }

    #[test]
    fn typos_of_builtins_are_caught_with_a_suggestion() {
        assert_eq!(
            check_metric_name("sucess_rate"),
            Err(GrammarError::UnknownBuiltin {
                name: "sucess_rate".into(),
                suggestions: vec!["success_rate"],
            })
        );
        assert_eq!(
            check_metric_name("latency.p98").unwrap_err().to_string(),
            "unknown metric `latency.p98`; did you mean `latency.p90`, `latency.p95` or `latency.p99`?"
        );
        assert!(matches!(
            check_metric_name("rss.whatever_else"),
            Err(GrammarError::UnknownBuiltin { suggestions, .. }) if suggestions.is_empty()
        ));
    }

    #[test]
    fn builtin_words_in_another_order_are_caught() {
        assert_eq!(
            check_metric_name("p99_latency").unwrap_err().to_string(),
            "unknown metric `p99_latency`; did you mean `latency.p99`?"
        );
        assert!(matches!(
            check_metric_name("peak_rss"),
            Err(GrammarError::UnknownBuiltin { suggestions, .. }) if suggestions == ["rss.peak"]
        ));
        // Words of a built-in among others of the scenario's are its own.
        assert_eq!(check_metric_name("p99_latency_of_login"), Ok(None));
        assert_eq!(check_metric_name("limit.throughput.stdio"), Ok(None));
    }

    #[test]
    fn malformed_names_are_rejected() {
        for bad in ["", "Latency", "a..b", "a.", "9lives", "a-b"] {
            assert!(check_metric_name(bad).is_err(), "{bad}");
        }
    }
}
