//! What a report read from disk must hold before anything is computed from
//! it. Renderers and the comparison walk a report's series second by
//! second and decode its histograms; a file that claims a run of 300 years
//! or a histogram of 5 digits up to 2^63 would have them allocate what the
//! claim implies (gigabytes) before any error. So the claims are checked
//! here, once, as the file is read: every time inside the run, every
//! histogram within its cap and all of a report's within the report's.

use brunt_report::{Report, decode_histogram};

/// The longest run a report may describe, in ms (a year: soaks are days).
const MAX_RUN_MS: f64 = 366.0 * 86_400_000.0;
/// A time may pass the run's wall time by this much, in ms (a series'
/// last point is the start of the second it closes).
const TIME_SLACK_MS: f64 = 1_000.0;
/// The narrowest chart bin read, in ms.
const MIN_BIN_MS: f64 = 1.0;
/// The counts all of one report's histograms may need, in bytes.
pub(crate) const MAX_REPORT_COUNTS_BYTES: u64 = 64 << 20;

/// The longest scenario name read, in bytes (it becomes a file name, and
/// file names stop at 255).
const MAX_NAME_BYTES: usize = 200;

/// Whether `name` is a scenario's name: Rust identifiers joined by `::`
/// (`kernel::rapid_tool_list`), so it is data and never a path: no `/`,
/// no `.`, nothing absolute.
pub(crate) fn is_scenario_name(name: &str) -> bool {
    let identifier = |segment: &str| {
        let mut chars = segment.chars();
        chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
            && chars.all(|c| c == '_' || c.is_alphanumeric())
    };
    name.len() <= MAX_NAME_BYTES && name.split("::").all(identifier)
}

/// An error naming the field that breaks a bound, or `Ok`.
pub(crate) fn check_report(report: &Report) -> Result<(), String> {
    let name = &report.scenario.name;
    if !is_scenario_name(name) {
        return Err(format!(
            "field `scenario.name` is {name:?}: not a scenario name (Rust identifiers joined by `::`, at most {MAX_NAME_BYTES} bytes)"
        ));
    }
    let wall = report.run.wall_ms;
    if !(wall.is_finite() && (0.0..=MAX_RUN_MS).contains(&wall)) {
        return Err(format!(
            "field `run.wall_ms` is {wall}; expected 0 to {MAX_RUN_MS} (a year)"
        ));
    }
    let last = wall + TIME_SLACK_MS;
    let check = |field: String, t: f64| -> Result<(), String> {
        if t.is_finite() && (0.0..=last).contains(&t) {
            Ok(())
        } else {
            Err(format!(
                "field `{field}` is {t}; every time lies within the run (run.wall_ms {wall})"
            ))
        }
    };
    let samples = &report.samples;
    for (i, p) in samples.load.iter().enumerate() {
        check(format!("samples.load[{i}].t_ms"), p.t_ms)?;
    }
    for (j, s) in samples.series.iter().enumerate() {
        for (i, p) in s.points.iter().enumerate() {
            check(format!("samples.series[{j}].points[{i}].t_ms"), p.t_ms)?;
        }
    }
    for (j, s) in samples.custom.iter().enumerate() {
        for (i, p) in s.points.iter().enumerate() {
            check(format!("samples.custom[{j}].points[{i}].t_ms"), p.t_ms)?;
        }
    }
    if let Some(bins) = &samples.load_bins {
        if !(bins.width_ms.is_finite() && bins.width_ms >= MIN_BIN_MS) {
            return Err(format!(
                "field `samples.load_bins.width_ms` is {}; expected at least {MIN_BIN_MS}",
                bins.width_ms
            ));
        }
        for (i, b) in bins.points.iter().enumerate() {
            check(format!("samples.load_bins.points[{i}].t_ms"), b.t_ms)?;
        }
    }
    let mut counts = 0u64;
    for (name, text) in &samples.histograms {
        let h = decode_histogram(name, text)
            .map_err(|e| format!("field `samples.histograms.{name}`: {e}"))?;
        counts += h.distinct_values() as u64 * 8;
        if counts > MAX_REPORT_COUNTS_BYTES {
            return Err(format!(
                "field `samples.histograms`: its histograms need over {MAX_REPORT_COUNTS_BYTES} bytes of counts (at `{name}`), over the cap for a report"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_name_is_never_a_path() {
        for good in [
            "monkey",
            "kernel::rapid_tool_list",
            "_x::y2",
            "ünïcode::nom",
        ] {
            assert!(is_scenario_name(good), "{good}");
        }
        for bad in [
            "",
            "/tmp/x/PWNED",
            "../up",
            "a::../b",
            "a/b",
            "a::",
            "::a",
            "a:::b",
            "2x",
            "a.b",
            "a b",
            "a\0b",
            "..",
        ] {
            assert!(!is_scenario_name(bad), "{bad}");
        }
        assert!(!is_scenario_name(&"a".repeat(201)));
    }
}
