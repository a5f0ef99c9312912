//! Metric names: the built-in metrics of the contract with what each
//! measures, and the rules a custom metric's name must follow.

use crate::{Dimension, GrammarError};

/// Every built-in metric and what it measures.
///
/// `target.*` repeats the resource metrics for processes added with
/// `Stress::watch_pid`.
pub const BUILTIN_METRICS: &[(&str, Dimension)] = &[
    ("ops", Dimension::Count),
    ("errors", Dimension::Count),
    ("success_rate", Dimension::Percent),
    ("throughput", Dimension::Rate),
    ("duration", Dimension::Time),
    ("latency.min", Dimension::Time),
    ("latency.mean", Dimension::Time),
    ("latency.p50", Dimension::Time),
    ("latency.p90", Dimension::Time),
    ("latency.p95", Dimension::Time),
    ("latency.p99", Dimension::Time),
    ("latency.p999", Dimension::Time),
    ("latency.max", Dimension::Time),
    ("service_time.min", Dimension::Time),
    ("service_time.mean", Dimension::Time),
    ("service_time.p50", Dimension::Time),
    ("service_time.p90", Dimension::Time),
    ("service_time.p95", Dimension::Time),
    ("service_time.p99", Dimension::Time),
    ("service_time.p999", Dimension::Time),
    ("service_time.max", Dimension::Time),
    ("offered_rate", Dimension::Rate),
    ("breaking_point", Dimension::Count),
    ("max_sustainable_concurrency", Dimension::Count),
    ("max_sustainable_throughput", Dimension::Rate),
    ("breaking_rate", Dimension::Rate),
    ("max_sustainable_rate", Dimension::Rate),
    ("sampler.cpu", Dimension::Percent),
    ("generator.busy", Dimension::Percent),
    ("generator.cpu", Dimension::Percent),
    ("late", Dimension::Count),
    ("dropped", Dimension::Count),
    ("rss.start", Dimension::Size),
    ("rss.peak", Dimension::Size),
    ("rss.end", Dimension::Size),
    ("rss.growth", Dimension::Size),
    ("rss.slope", Dimension::SizeRate),
    ("cpu.mean", Dimension::Percent),
    ("cpu.peak", Dimension::Percent),
    ("heap.live", Dimension::Size),
    ("heap.peak", Dimension::Size),
    ("heap.allocated", Dimension::Size),
    ("heap.allocations", Dimension::Count),
    ("heap.growth", Dimension::Size),
    ("heap.slope", Dimension::SizeRate),
    ("threads.peak", Dimension::Count),
    ("threads.growth", Dimension::Count),
    ("fds.peak", Dimension::Count),
    ("fds.growth", Dimension::Count),
    ("target.rss.start", Dimension::Size),
    ("target.rss.peak", Dimension::Size),
    ("target.rss.end", Dimension::Size),
    ("target.rss.growth", Dimension::Size),
    ("target.rss.slope", Dimension::SizeRate),
    ("target.cpu.mean", Dimension::Percent),
    ("target.cpu.peak", Dimension::Percent),
    ("target.threads.peak", Dimension::Count),
    ("target.threads.growth", Dimension::Count),
    ("target.fds.peak", Dimension::Count),
    ("target.fds.growth", Dimension::Count),
];

/// Prefixes that belong to built-in metrics; a custom metric may not use them.
pub const RESERVED_NAMESPACES: &[&str] = &[
    "latency.",
    "service_time.",
    "generator.",
    "sampler.",
    "rss.",
    "cpu.",
    "heap.",
    "threads.",
    "fds.",
    "target.",
];

/// Built-in names shorter than this are not used for "did you mean": a
/// custom `rate` is not a typo of `late`.
const MIN_NEAR_MISS_LEN: usize = 5;

/// What a built-in metric measures, or `None` for any other name.
pub fn lookup_builtin(name: &str) -> Option<Dimension> {
    BUILTIN_METRICS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
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
    let builtin_names = BUILTIN_METRICS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.len() >= MIN_NEAR_MISS_LEN);
    let suggestions = closest_all(name, builtin_names, 2);
    let reserved = RESERVED_NAMESPACES.iter().any(|p| name.starts_with(p));
    if reserved || !suggestions.is_empty() {
        return Err(GrammarError::UnknownBuiltin {
            name: name.to_string(),
            suggestions,
        });
    }
    Ok(None)
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
    fn malformed_names_are_rejected() {
        for bad in ["", "Latency", "a..b", "a.", "9lives", "a-b"] {
            assert!(check_metric_name(bad).is_err(), "{bad}");
        }
    }
}
