//! The chaos schedule file (`brunt.chaos-schedule/v1`): the faults a failed
//! chaos run shrank to, written as `<name>.minimal.json` and read back by
//! `BRUNT_REPLAY`. The runtime draws schedules; this is only their file.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The schema of a schedule file.
pub const SCHEDULE_SCHEMA: &str = "brunt.chaos-schedule/v1";

/// One fault of a schedule: its index in the drawn schedule and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScheduledFault {
    /// Position in the schedule drawn from the seed (kept through shrinking,
    /// so the fault draws the same parameters).
    pub index: u32,
    /// The fault's name, as given to `.fault(name, …)`.
    pub fault: String,
}

/// A schedule written to a file: what `BRUNT_REPLAY` reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleFile {
    /// Always [`SCHEDULE_SCHEMA`].
    pub schema: String,
    /// The scenario's trial name (`chaos::monkey`).
    pub scenario: String,
    /// The seed the schedule was drawn from (the replay runs under it).
    pub seed: u64,
    /// `BRUNT_SCALE` of the run it came from (the replay runs under it).
    pub scale: f64,
    /// The faults, in the order they ran.
    pub faults: Vec<ScheduledFault>,
}

/// Why a schedule file cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleFileError {
    /// The file cannot be read.
    #[error("cannot read chaos schedule {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The path is not a file Brunt reads (a FIFO, a device, too large).
    #[error("chaos schedule: {detail}")]
    Refused {
        /// What is wrong, naming the file.
        detail: String,
    },
    /// The file is not a schedule.
    #[error("{path} is not a chaos schedule ({SCHEDULE_SCHEMA}): {detail}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
}

impl ScheduleFile {
    /// Reads and checks a schedule file.
    pub fn load(path: &Path) -> Result<ScheduleFile, ScheduleFileError> {
        let shown = path.display().to_string();
        let text = crate::input::read_text(path, crate::input::InputKind::Schedule).map_err(
            |e| match e {
                crate::input::InputError::Io { source, .. } => ScheduleFileError::Read {
                    path: shown.clone(),
                    source,
                },
                refused => ScheduleFileError::Refused {
                    detail: refused.to_string(),
                },
            },
        )?;
        let file: ScheduleFile =
            serde_json::from_str(&text).map_err(|e| ScheduleFileError::Corrupt {
                path: shown.clone(),
                detail: e.to_string(),
            })?;
        if file.schema != SCHEDULE_SCHEMA {
            return Err(ScheduleFileError::Corrupt {
                path: shown,
                detail: format!("schema is `{}`", file.schema),
            });
        }
        // The bounds of BRUNT_SCALE, which the replay's scale stands for.
        let max = brunt_grammar::env::MAX_SCALE;
        if !(file.scale.is_finite() && file.scale > 0.0 && file.scale <= max) {
            return Err(ScheduleFileError::Corrupt {
                path: shown,
                detail: format!(
                    "field `scale` is {}; expected a positive number up to {max} (as BRUNT_SCALE)",
                    file.scale
                ),
            });
        }
        Ok(file)
    }

    /// Writes the file (temp + rename, as reports are).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(&tmp, path)
    }
}
