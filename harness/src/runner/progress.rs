//! Live progress on a terminal while a scenario's child runs: the parent
//! tails the child's stream and shows elapsed time, ops/s, errors and
//! resident memory. Drawn on stderr only when it is a terminal and not in
//! CI; it never touches the report.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::criteria::Dimension;
use crate::journal::Record;
use brunt_report::format_value;

/// How often the bar is refreshed.
const REFRESH: Duration = Duration::from_millis(250);
/// The span the shown rate is measured over: driver threads publish their
/// counts every 64 ops, so a rate over one sampling interval reads 0/s in
/// the intervals between two publications of a slow op.
const RATE_WINDOW_MS: f64 = 3000.0;

/// Whether live progress should be drawn: a terminal on stderr, outside CI.
pub(crate) fn progress_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// The bar of one running scenario.
pub(crate) struct LiveProgress {
    bar: ProgressBar,
    started: Instant,
    refreshed: Instant,
    ops: u64,
    errors: u64,
    rate: f64,
    rss: Option<u64>,
    /// Recent (t_ms, ops) counts, oldest first, over about `RATE_WINDOW_MS`.
    recent: std::collections::VecDeque<(f64, u64)>,
}

impl LiveProgress {
    /// A bar for scenario `name`, expected to last about `expected`.
    pub(crate) fn start(name: &str, expected: Option<Duration>) -> LiveProgress {
        // libtest has written `test NAME ... ` without a newline: the bar
        // gets a line of its own, or clearing it would leave fragments of
        // both behind.
        eprintln!();
        let bar = match expected {
            Some(d) => ProgressBar::with_draw_target(
                Some(d.as_millis() as u64),
                ProgressDrawTarget::stderr(),
            )
            .with_style(
                ProgressStyle::with_template(
                    "  {prefix} [{bar:30}] {elapsed}/{duration} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("  {prefix} {spinner} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_prefix(name.to_string());
        LiveProgress {
            bar,
            started: Instant::now(),
            refreshed: Instant::now() - REFRESH,
            ops: 0,
            errors: 0,
            rate: 0.0,
            rss: None,
            recent: std::collections::VecDeque::new(),
        }
    }

    /// Takes in what the child streamed since the last call.
    pub(crate) fn observe(&mut self, records: &[Record]) {
        for record in records {
            match record {
                Record::Progress { t_ms, ops, errors } => {
                    self.rate = window_rate(&mut self.recent, *t_ms, *ops);
                    self.ops = *ops;
                    self.errors = *errors;
                }
                Record::Sample { process, point, .. } if process == "self" => {
                    self.rss = Some(point.rss_bytes);
                }
                _ => {}
            }
        }
    }

    /// Redraws, at most every 250 ms.
    pub(crate) fn tick(&mut self) {
        if self.refreshed.elapsed() < REFRESH {
            return;
        }
        self.refreshed = Instant::now();
        self.bar
            .set_position(self.started.elapsed().as_millis() as u64);
        self.bar.set_message(format!(
            "{} ops, {}, {} errors{}",
            format_value(self.ops as f64, Dimension::Count),
            compact_rate(self.rate),
            format_value(self.errors as f64, Dimension::Count),
            self.rss.map_or(String::new(), |r| format!(
                ", rss {}",
                format_value(r as f64, Dimension::Size)
            ))
        ));
        self.bar.tick();
    }

    /// Removes the bar.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// A rate in three significant figures: `950/s`, `12.3k/s`, `1.05M/s`.
fn compact_rate(per_s: f64) -> String {
    let (value, suffix) = if per_s >= 1e6 {
        (per_s / 1e6, "M")
    } else if per_s >= 1e3 {
        (per_s / 1e3, "k")
    } else {
        (per_s, "")
    };
    let decimals = if value >= 100.0 || suffix.is_empty() {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$}{suffix} ops/s")
}

/// Ops per second over the last `RATE_WINDOW_MS` of progress counts, with
/// `(t_ms, ops)` added. The oldest count kept is the newest one at least a
/// window old, so the rate spans a whole window once the run is that long;
/// a count that went down (a new drive) restarts the window.
fn window_rate(recent: &mut std::collections::VecDeque<(f64, u64)>, t_ms: f64, ops: u64) -> f64 {
    if recent.back().is_some_and(|&(_, last)| ops < last) {
        recent.clear();
    }
    recent.push_back((t_ms, ops));
    while recent.len() > 2 && recent[1].0 <= t_ms - RATE_WINDOW_MS {
        recent.pop_front();
    }
    match recent.front() {
        Some(&(t0, ops0)) if t_ms > t0 => (ops - ops0) as f64 / ((t_ms - t0) / 1e3),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_in_three_figures() {
        assert_eq!(compact_rate(950.4), "950 ops/s");
        assert_eq!(compact_rate(12_345.0), "12.3k ops/s");
        assert_eq!(compact_rate(11_104_654.6), "11.1M ops/s");
    }

    #[test]
    fn the_rate_holds_between_publications_of_slow_ops() {
        let mut recent = std::collections::VecDeque::new();
        // 64 ops published every 640 ms (100 ops/s), sampled every 100 ms:
        // most samples see no new op.
        let mut rates = Vec::new();
        for tick in 0..60u64 {
            let t_ms = tick as f64 * 100.0;
            let ops = (tick * 100 / 640) * 64;
            rates.push(window_rate(&mut recent, t_ms, ops));
        }
        // Once a window has passed, the rate never reads 0 and stays near
        // the true 100/s.
        for rate in &rates[31..] {
            assert!((60.0..=140.0).contains(rate), "{rates:?}");
        }
    }
}
