//! [`JournalTail`]: the parent reads a running child's journal as it grows
//! (progress lines, processes to watch or continue).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::Record;

/// Reads the complete lines appended to a journal since the last read, while
/// the child is still writing it.
pub(crate) struct JournalTail {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    partial: String,
}

impl JournalTail {
    /// A tail of the journal at `path` (which need not exist yet).
    pub(crate) fn new(path: &Path) -> JournalTail {
        JournalTail {
            path: path.to_path_buf(),
            reader: None,
            partial: String::new(),
        }
    }

    /// The records completed since the last call.
    pub(crate) fn read_new(&mut self) -> Vec<Record> {
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
