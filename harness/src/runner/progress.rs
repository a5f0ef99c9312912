//! Live progress on a terminal while a scenario's child runs: the parent
//! tails the child's stream and shows elapsed time, ops/s, errors and
//! resident memory. Drawn on stderr only when it is a terminal and not in
//! CI; it never touches the report.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
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

/// Reads the complete lines appended to a stream since the last read.
struct StreamTail {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    partial: String,
}

impl StreamTail {
    fn new(path: &Path) -> StreamTail {
        StreamTail {
            path: path.to_path_buf(),
            reader: None,
            partial: String::new(),
        }
    }

    fn read_new(&mut self) -> Vec<StreamRecord> {
        if self.reader.is_none() {
            self.reader = File::open(&self.path).ok().map(BufReader::new);
        }
        let Some(reader) = self.reader.as_mut() else {
            return Vec::new();
        };
        let mut records = Vec::new();
        loop {
            match reader.read_line(&mut self.partial) {
                Ok(0) | Err(_) => break,
                Ok(_) if self.partial.ends_with('\n') => {
                    if let Ok(record) = serde_json::from_str(&self.partial) {
                        records.push(record);
                    }
                    self.partial.clear();
                }
                // A line still being written: keep it for the next read.
                Ok(_) => break,
            }
        }
        records
    }
}

/// The bar of one running scenario.
pub(crate) struct LiveProgress {
    bar: ProgressBar,
    tail: StreamTail,
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
    pub(crate) fn start(name: &str, stream: &Path, expected: Option<Duration>) -> LiveProgress {
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
            tail: StreamTail::new(stream),
            started: Instant::now(),
            refreshed: Instant::now() - REFRESH,
            ops: 0,
            errors: 0,
            rate: 0.0,
            rss: None,
            previous: (0.0, 0),
        }
    }

    /// Reads what the child streamed and redraws, at most every 250 ms.
    pub(crate) fn tick(&mut self) {
        if self.refreshed.elapsed() < REFRESH {
            return;
        }
        self.refreshed = Instant::now();
        for record in self.tail.read_new() {
            match record {
                StreamRecord::Progress { t_ms, ops, errors } => {
                    let (t0, ops0) = self.previous;
                    if t_ms > t0 {
                        self.rate = (ops.saturating_sub(ops0)) as f64 / ((t_ms - t0) / 1e3);
                    }
                    self.previous = (t_ms, ops);
                    self.ops = ops;
                    self.errors = errors;
                }
                StreamRecord::Sample { process, point, .. } if process == "self" => {
                    self.rss = Some(point.rss_bytes);
                }
                _ => {}
            }
        }
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
