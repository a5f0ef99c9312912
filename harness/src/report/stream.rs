//! The run's stream, `<name>.jsonl`: one JSON record per line, appended and
//! flushed as the child measures, so that if the child dies the parent can
//! still write a report with everything measured up to the last interval.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::report::{Event, Finding, MetricValue, RunInfo, SamplePoint, ScenarioInfo, Step};

/// One line of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum StreamRecord {
    /// First line: what runs and how.
    Start {
        scenario: Box<ScenarioInfo>,
        run: Box<RunInfo>,
    },
    /// A resource sample of one process.
    Sample {
        process: String,
        pid: u32,
        point: SamplePoint,
    },
    /// Ops and errors counted so far (measured ops only).
    Progress { t_ms: f64, ops: u64, errors: u64 },
    /// A timeline event.
    Event(Event),
    /// A phase began (ending the previous one).
    Phase { name: String, t_ms: f64 },
    /// Warm-up ended; leak baselines start here.
    WarmupEnd { t_ms: f64 },
    /// A finding.
    Finding(Finding),
    /// A custom metric.
    Metric { name: String, value: MetricValue },
    /// An escalation step finished.
    Step(Step),
    /// `Stress::watch_pid`: a process sampled as `target` from now on (the
    /// parent's memory guard watches it too).
    Watch { pid: u32, t_ms: f64 },
    /// One driver thread's measured ops of one second, for the per-second
    /// series (written as they are cut, so the recorder's memory stays flat).
    LoadSlice(crate::measure::Slice),
    /// The merged measurements of one `drive` (or escalation step) when it
    /// ended, so a run that dies later keeps its latency histograms.
    DriveTotals(Box<crate::measure::SavedTotals>),
    /// A chaos run began: its schedule's fingerprint and settings (the log
    /// is empty; steps follow).
    ChaosStart(Box<crate::report::ChaosSection>),
    /// One fault of the chaos run ran and the health check after it ended.
    ChaosStep {
        entry: crate::report::ChaosLogEntry,
        timing: crate::report::FaultTiming,
    },
    /// The chaos run ended (with the settled health check, if it ran).
    ChaosEnd {
        t_ms: f64,
        #[serde(default)]
        settled: Option<crate::report::SettledCheck>,
    },
    /// A chaos fault is about to stop process `pid` (`SIGSTOP`): until a
    /// `continued` follows, the runner continues it when the scenario ends,
    /// however it ends.
    Stopped { pid: u32, t_ms: f64 },
    /// Process `pid` was continued (`SIGCONT`).
    Continued { pid: u32, t_ms: f64 },
    /// A point of a scenario's own series (`Stress::record_point`).
    Point {
        series: String,
        #[serde(with = "crate::report::model::unit_symbol")]
        unit: crate::criteria::Unit,
        point: crate::report::CustomPoint,
    },
}

/// Appends records to the stream file. Shared by the scenario thread, the
/// sampler thread and the driver threads; each record is one `write` of a
/// whole line.
#[derive(Debug)]
pub(crate) struct StreamWriter {
    file: Mutex<Option<File>>,
}

impl StreamWriter {
    /// Creates the stream file, which must not exist: the runner cleared
    /// the run's files under its claim on them (`ReportPaths::claim`), so a
    /// file there now is another writer's, never to be appended to or read.
    pub(crate) fn create(path: &Path) -> std::io::Result<StreamWriter> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(path)?;
        Ok(StreamWriter {
            file: Mutex::new(Some(file)),
        })
    }

    /// Every record written so far, read through the handle they were
    /// written with (never by path: the name could be another's by now).
    /// Empty when the stream is disabled.
    pub(crate) fn read_back(&self) -> std::io::Result<Vec<StreamRecord>> {
        let guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let Some(file) = guard.as_ref() else {
            return Ok(Vec::new());
        };
        parse_lines(BufReader::new(ReadFrom { file, at: 0 }))
    }

    /// Whether records are written anywhere.
    pub(crate) fn is_enabled(&self) -> bool {
        self.file.lock().map(|f| f.is_some()).unwrap_or(false)
    }

    /// A writer that drops every record (for runs that keep no stream).
    pub(crate) fn disabled() -> StreamWriter {
        StreamWriter {
            file: Mutex::new(None),
        }
    }

    /// Appends one record. A failed write disables the stream rather than
    /// failing the scenario: the final report does not depend on it.
    pub(crate) fn append(&self, record: &StreamRecord) {
        let Ok(mut line) = serde_json::to_vec(record) else {
            return;
        };
        line.push(b'\n');
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = guard.as_mut()
            && file.write_all(&line).is_err()
        {
            *guard = None;
        }
    }
}

/// Reads a stream back. A line that does not parse (the last one, cut short
/// by a crash) is skipped.
pub(crate) fn read_stream(path: &Path) -> std::io::Result<Vec<StreamRecord>> {
    parse_lines(BufReader::new(File::open(path)?))
}

/// A file read from an offset without moving the handle's own (`pread`),
/// so that appends through the same handle go on undisturbed.
struct ReadFrom<'a> {
    file: &'a File,
    at: u64,
}

impl std::io::Read for ReadFrom<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(self.file, buf, self.at)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(self.file, buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

fn parse_lines(reader: impl BufRead) -> std::io::Result<Vec<StreamRecord>> {
    let mut records = Vec::new();
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if let Ok(record) = serde_json::from_str::<StreamRecord>(&line) {
            records.push(record);
        }
    }
    Ok(records)
}

/// Reads the complete lines appended to a stream since the last read, while
/// the child is still writing it.
pub(crate) struct StreamTail {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    partial: String,
}

impl StreamTail {
    /// A tail of the stream at `path` (which need not exist yet).
    pub(crate) fn new(path: &Path) -> StreamTail {
        StreamTail {
            path: path.to_path_buf(),
            reader: None,
            partial: String::new(),
        }
    }

    /// The records completed since the last call.
    pub(crate) fn read_new(&mut self) -> Vec<StreamRecord> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let writer = StreamWriter::create(&path).unwrap();
        writer.append(&StreamRecord::Progress {
            t_ms: 1.0,
            ops: 10,
            errors: 1,
        });
        writer.append(&StreamRecord::WarmupEnd { t_ms: 2.0 });
        drop(writer);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(br#"{"type":"progress","t_ms":3.0,"op"#)
            .unwrap();
        let records = read_stream(&path).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0],
            StreamRecord::Progress {
                t_ms: 1.0,
                ops: 10,
                errors: 1
            }
        );
    }
}
