//! Reading the files Brunt is handed: reports, baselines, `stress-report`
//! outputs, chaos schedules for replay. Each comes from a path a
//! user or a CI job named, or from a directory anyone could write to, so
//! none is trusted to be what its name says: a FIFO named `*.json` blocks a
//! plain read for ever (and a blocked `open` shrugs off SIGTERM), a symlink
//! to `/dev/zero` reads without end, and a multi-gigabyte file is read
//! whole before any parser sees it. Every read goes through here: regular
//! files only, opened without blocking, refused past a size cap of their
//! kind before a byte is read.

use std::io::Read;
use std::path::{Path, PathBuf};

/// What a file is read as; each kind has its own size cap, far above what
/// Brunt writes for a day-long run and far below what hurts a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A scenario's `<name>.json` (a 24 h soak's per-second series and
    /// histograms are tens of MiB).
    Report,
    /// A saved suite (`baseline.json`, a shard's `stress-report.json`):
    /// every report of a suite.
    Suite,
    /// A chaos schedule (`BRUNT_REPLAY`, `<name>.minimal.json`).
    Schedule,
}

impl InputKind {
    /// The largest file of this kind read, in bytes.
    pub fn cap(self) -> u64 {
        match self {
            InputKind::Report => 256 << 20,
            InputKind::Suite => 1 << 30,
            InputKind::Schedule => 16 << 20,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            InputKind::Report => "a report",
            InputKind::Suite => "a suite",
            InputKind::Schedule => "a chaos schedule",
        }
    }
}

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not a regular file (a FIFO, a device, a directory, a socket).
    #[error("{path} is {what}, not a regular file; Brunt reads only regular files")]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// Larger than files of its kind may be.
    #[error("{path} is {size} bytes, over the {cap}-byte cap for {noun}")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size, in bytes.
        size: u64,
        /// The cap of its kind, in bytes.
        cap: u64,
        /// Its kind.
        noun: &'static str,
    },
    /// A symlink in a directory that points out of it.
    #[error("{path} links to {target}, outside {dir}; files read from a directory stay in it")]
    OutsideDir {
        /// The link.
        path: PathBuf,
        /// Where it points.
        target: PathBuf,
        /// The directory read.
        dir: PathBuf,
    },
    /// The system refused (missing, no permission…).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
}

/// Reads `path` whole as `kind`: a regular file (symlinks followed), no
/// larger than the kind's cap.
pub fn read_file(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO opens at once instead of waiting for a writer; what it is
        // is judged below, before any read.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotAFile {
            path: path.to_path_buf(),
            what: file_type_name(&meta.file_type()),
        });
    }
    let cap = kind.cap();
    let too_large = |size| InputError::TooLarge {
        path: path.to_path_buf(),
        size,
        cap,
        noun: kind.noun(),
    };
    if meta.len() > cap {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file growing while read is cut at the cap, and refused.
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads `path` as UTF-8 text (see [`read_file`]).
pub fn read_text(path: &Path, kind: InputKind) -> Result<String, InputError> {
    let bytes = read_file(path, kind)?;
    String::from_utf8(bytes).map_err(|e| InputError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

/// Reads `path`, an entry found in `dir`, as `kind`: as [`read_file`], and a
/// symlink must stay inside `dir`.
pub fn read_in_dir(dir: &Path, path: &Path, kind: InputKind) -> Result<Vec<u8>, InputError> {
    let is_link = std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if is_link {
        let canonical = |p: &Path| {
            p.canonicalize().map_err(|source| InputError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let (target, home) = (canonical(path)?, canonical(dir)?);
        if !target.starts_with(&home) {
            return Err(InputError::OutsideDir {
                path: path.to_path_buf(),
                target,
                dir: dir.to_path_buf(),
            });
        }
    }
    read_file(path, kind)
}

fn file_type_name(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_at_once_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_file(&fifo, InputKind::Report).unwrap_err();
        assert!(
            e.to_string().contains("is a FIFO, not a regular file"),
            "{e}"
        );
    }

    #[test]
    fn a_link_to_a_device_or_out_of_the_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_file(&zero, InputKind::Schedule).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("a.json");
        std::fs::write(&secret, "{}").unwrap();
        let link = dir.path().join("a.json");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let e = read_in_dir(dir.path(), &link, InputKind::Report).unwrap_err();
        assert!(e.to_string().contains("outside"), "{e}");
        // Inside the directory, a link is fine.
        let inside = dir.path().join("b.json");
        std::fs::write(dir.path().join("real.json"), "{}").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.json"), &inside).unwrap();
        assert_eq!(
            read_in_dir(dir.path(), &inside, InputKind::Report).unwrap(),
            b"{}"
        );
    }

    #[test]
    fn a_file_over_its_kinds_cap_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("s.json");
        let file = std::fs::File::create(&big).unwrap();
        // Sparse: the size is claimed, not written.
        file.set_len(InputKind::Schedule.cap() + 1).unwrap();
        let e = read_file(&big, InputKind::Schedule).unwrap_err();
        assert!(
            e.to_string()
                .contains("over the 16777216-byte cap for a chaos schedule"),
            "{e}"
        );
    }
}
