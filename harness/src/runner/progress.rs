//! Live progress on a terminal while a scenario's child runs: the parent
//! tails the child's stream and shows elapsed time, ops/s, errors and
//! resident memory. Drawn on stderr only when it is a terminal and not in
//! CI; it never touches the report.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::criteria::Dimension;
use crate::report::{StreamRecord, format_value};

/// How often the bar is refreshed.
const REFRESH: Duration = Duration::from_millis(250);

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
    previous: (f64, u64),
}

impl LiveProgress {
    /// A bar for scenario `name`, expected to last about `expected`.
    pub(crate) fn start(name: &str, expected: Option<Duration>) -> LiveProgress {
        let bar = match expected {
            Some(d) => ProgressBar::with_draw_target(
                Some(d.as_millis() as u64),
                ProgressDrawTarget::stderr(),
            )
            .with_style(
                ProgressStyle::with_template("  {prefix} [{bar:30}] {elapsed}/{duration} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("  {prefix} {spinner} {elapsed} {msg}")
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
            previous: (0.0, 0),
        }
    }

    /// Takes in what the child streamed since the last call.
    pub(crate) fn observe(&mut self, records: &[StreamRecord]) {
        for record in records {
            match record {
                StreamRecord::Progress { t_ms, ops, errors } => {
                    let (t0, ops0) = self.previous;
                    if *t_ms > t0 {
                        self.rate = (ops.saturating_sub(ops0)) as f64 / ((t_ms - t0) / 1e3);
                    }
                    self.previous = (*t_ms, *ops);
                    self.ops = *ops;
                    self.errors = *errors;
                }
                StreamRecord::Sample { process, point, .. } if process == "self" => {
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
            format_value(self.rate, Dimension::Rate),
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
