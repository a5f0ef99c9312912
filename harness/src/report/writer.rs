//! Where a scenario's files go, and the atomic write of `<name>.json`: a
//! temporary file in the same directory, then a rename, so a reader never
//! sees half a report.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::report::Report;

/// The files of one scenario in the report directory.
#[derive(Debug, Clone)]
pub(crate) struct ReportPaths {
    /// `<name>.json`, the report.
    pub(crate) report: PathBuf,
    /// `<name>.jsonl`, the stream written while running.
    pub(crate) stream: PathBuf,
    /// `<name>.log`, the child's stdout and stderr.
    pub(crate) log: PathBuf,
}

impl ReportPaths {
    pub(crate) fn new(dir: &Path, stem: &str) -> ReportPaths {
        ReportPaths {
            report: dir.join(format!("{stem}.json")),
            stream: dir.join(format!("{stem}.jsonl")),
            log: dir.join(format!("{stem}.log")),
        }
    }

    /// Removes files of an earlier run, so nothing stale is read back.
    pub(crate) fn clear(&self) -> std::io::Result<()> {
        for path in [&self.report, &self.stream, &self.log] {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Writes `report` to `path` atomically (temp file + rename).
pub(crate) fn write_report(path: &Path, report: &Report) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile_in(dir, path)?;
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    temp.1.write_all(&json)?;
    temp.1.write_all(b"\n")?;
    temp.1.sync_all()?;
    drop(temp.1);
    std::fs::rename(&temp.0, path)
}

fn tempfile_in(dir: &Path, target: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = std::fs::File::create(&temp)?;
    Ok((temp, file))
}
