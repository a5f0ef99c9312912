//! [`Journal`]: appends records as lines to `<name>.jsonl`, or keeps them in
//! memory when no file can be written, and reads them all back for the fold.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;

use super::Record;

/// The run's journal. Shared by the scenario thread, the sampler thread and
/// the driver threads; each record is one `write` of a whole line, so a
/// child killed mid-write loses at most that line.
#[derive(Debug)]
pub(crate) struct Journal {
    lines: Mutex<Lines>,
}

/// Where the lines go: the file while it takes them, memory after (or
/// throughout, when there is no file).
#[derive(Debug, Default)]
struct Lines {
    file: Option<File>,
    /// Whether the file stopped taking writes: later lines go to `memory`.
    file_failed: bool,
    memory: Vec<u8>,
}

impl Journal {
    /// Creates the journal file, which must not exist: the runner cleared
    /// the run's files under its claim on them (`ReportPaths::claim`), so a
    /// file there now is another writer's, never to be appended to or read.
    pub(crate) fn create(path: &Path) -> std::io::Result<Journal> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(path)?;
        Ok(Journal {
            lines: Mutex::new(Lines {
                file: Some(file),
                ..Lines::default()
            }),
        })
    }

    /// A journal kept in memory only: the child's own report still folds
    /// every record, but a parent cannot recover a run that dies.
    pub(crate) fn in_memory() -> Journal {
        Journal {
            lines: Mutex::new(Lines::default()),
        }
    }

    /// Appends one record. A failed write moves the journal to memory
    /// rather than failing the scenario: the child's report still has it.
    pub(crate) fn append(&self, record: &Record) {
        let Ok(mut line) = serde_json::to_vec(record) else {
            return;
        };
        line.push(b'\n');
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let lines = &mut *lines;
        if let Some(file) = lines.file.as_mut().filter(|_| !lines.file_failed) {
            if file.write_all(&line).is_ok() {
                return;
            }
            lines.file_failed = true;
        }
        lines.memory.extend_from_slice(&line);
    }

    /// Every record appended so far, in order: the file's read through the
    /// handle they were written with (never by path: the name could be
    /// another's by now), then those kept in memory.
    pub(crate) fn records(&self) -> Vec<Record> {
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let mut records = match lines.file.as_ref() {
            Some(file) => parse_lines(BufReader::new(ReadFrom { file, at: 0 })),
            None => Vec::new(),
        };
        records.extend(parse_lines(lines.memory.as_slice()));
        records
    }
}

/// Reads a journal file back. A line that does not parse (the last one, cut
/// short by a crash) is skipped.
pub(crate) fn read_journal(path: &Path) -> std::io::Result<Vec<Record>> {
    Ok(parse_lines(BufReader::new(File::open(path)?)))
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

fn parse_lines(reader: impl BufRead) -> Vec<Record> {
    let mut records = Vec::new();
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if let Ok(record) = serde_json::from_str::<Record>(&line) {
            records.push(record);
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let journal = Journal::create(&path).unwrap();
        journal.append(&Record::Progress {
            t_ms: 1.0,
            ops: 10,
            errors: 1,
        });
        journal.append(&Record::WarmupEnd { t_ms: 2.0 });
        drop(journal);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(br#"{"type":"progress","t_ms":3.0,"op"#)
            .unwrap();
        let records = read_journal(&path).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0],
            Record::Progress {
                t_ms: 1.0,
                ops: 10,
                errors: 1
            }
        );
    }

    #[test]
    fn a_journal_without_a_file_reads_back_what_was_appended() {
        let journal = Journal::in_memory();
        journal.append(&Record::WarmupEnd { t_ms: 2.0 });
        journal.append(&Record::Watch { pid: 7, t_ms: 3.0 });
        assert_eq!(
            journal.records(),
            [
                Record::WarmupEnd { t_ms: 2.0 },
                Record::Watch { pid: 7, t_ms: 3.0 }
            ]
        );
    }
}
