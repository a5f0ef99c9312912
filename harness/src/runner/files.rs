//! Where a scenario's files go, and the atomic write of `<name>.json`: a
//! temporary file in the same directory, then a rename, so a reader never
//! sees half a report.

use std::io::Write;
use std::path::{Path, PathBuf};

use brunt_report::Report;

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

    /// Claims this scenario's files in the directory for one run: an
    /// exclusive `flock` on `<name>.lock`, held until the claim is dropped
    /// (the kernel drops it however the holder dies). A second run of the
    /// same scenario into the same directory is refused, naming the holder,
    /// rather than let two runs write and read back the same stream.
    pub(crate) fn claim(&self, scenario: &str) -> Result<ReportClaim, ClaimError> {
        use std::fs::TryLockError;
        use std::io::{Read, Seek};
        let lock = self.report.with_extension("lock");
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock);
        let mut file = opened.map_err(|error| ClaimError::Io {
            path: lock.clone(),
            error,
        })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(ClaimError::Held {
                    path: lock,
                    scenario: scenario.to_string(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(error)) => return Err(ClaimError::Io { path: lock, error }),
        }
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "pid {}", std::process::id()));
        written.map_err(|error| ClaimError::Io {
            path: lock.clone(),
            error,
        })?;
        Ok(ReportClaim { _file: file })
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

/// A run's hold on its scenario's files (see [`ReportPaths::claim`]).
#[derive(Debug)]
pub(crate) struct ReportClaim {
    _file: std::fs::File,
}

/// Why a run could not claim its scenario's files.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClaimError {
    #[error(
        "another run of `{scenario}` ({holder}) is writing its report into the same directory (it holds {path}); two runs of one scenario cannot share a report directory: give this one its own BRUNT_REPORT_DIR, or let the other finish"
    )]
    Held {
        path: PathBuf,
        scenario: String,
        holder: String,
    },
    #[error("cannot lock {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Writes `report` to `path` atomically (temp file + rename).
pub(crate) fn write_report(path: &Path, report: &Report) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let (temp, mut file) = tempfile_in(dir, path)?;
    let written = serde_json::to_vec_pretty(report)
        .map_err(std::io::Error::other)
        .and_then(|json| {
            file.write_all(&json)?;
            file.write_all(b"\n")?;
            file.sync_all()
        });
    drop(file);
    let result = written.and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        // Never leave half a report behind, under any name.
        let _ = std::fs::remove_file(&temp);
    }
    result
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a directory: the rename fails.
        let target = dir.path().join("scenario.json");
        std::fs::create_dir(&target).unwrap();
        let report: Report =
            serde_json::from_str(include_str!("../../tests/data/report.json")).unwrap();
        assert!(write_report(&target, &report).is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("scenario.json")]);
    }
}
