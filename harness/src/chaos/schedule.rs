//! Which fault runs at each index of a chaos run, drawn from the scenario
//! seed, and the schedule files `BRUNT_REPLAY` reads.
//!
//! Each index is drawn from the seed and the index alone (as a weighted op
//! mix is), so fault 37 is the same fault whatever ran before it: a replay of
//! a sub-schedule keeps every remaining fault, and every fault's own
//! parameters (drawn from [`fault_seed`]), exactly as they were.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::load::split_mix;

/// Keeps the schedule's draws apart from the scenario's other uses of its
/// seed (`Stress::rng`, the op mix).
const SCHEDULE_DOMAIN: u64 = 0xC4A0_5C4E_D01E_0001;
/// Keeps each fault's generator apart from the schedule's draws.
const FAULT_DOMAIN: u64 = 0xC4A0_5FA0_17C7_0002;

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

/// Draws `ops` faults from `faults` (name, weight) by weight.
pub(crate) fn draw(seed: u64, faults: &[(&str, u32)], ops: u32) -> Vec<ScheduledFault> {
    let total: u64 = faults.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 {
        return Vec::new();
    }
    (0..ops)
        .map(|index| {
            let spread = split_mix(seed ^ SCHEDULE_DOMAIN ^ u64::from(index).rotate_left(17));
            // Multiply-shift: an unbiased enough draw in 0..total.
            let draw = ((u128::from(spread) * u128::from(total)) >> 64) as u64;
            let mut cumulative = 0;
            let (name, _) = faults
                .iter()
                .find(|(_, w)| {
                    cumulative += u64::from(*w);
                    cumulative > draw
                })
                .expect("a draw below the total weight falls in some fault");
            ScheduledFault {
                index,
                fault: (*name).to_string(),
            }
        })
        .collect()
}

/// The seed of fault `index`'s own generator (`FaultCtx::rng`).
pub(crate) fn fault_seed(seed: u64, index: u32) -> u64 {
    split_mix(seed ^ FAULT_DOMAIN ^ u64::from(index).rotate_left(32))
}

/// FNV-1a of a schedule's faults, as 16 hex digits: a run's schedule
/// fingerprint, comparable across processes and machines.
pub(crate) fn digest(schedule: &[ScheduledFault]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for f in schedule {
        for byte in f
            .index
            .to_le_bytes()
            .iter()
            .chain(f.fault.as_bytes())
            .chain(b"\n")
        {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
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
        let max = crate::settings::MAX_SCALE;
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

#[cfg(test)]
mod tests {
    use super::*;

    const FAULTS: &[(&str, u32)] = &[("kill", 30), ("ballast", 20), ("delay", 50)];

    #[test]
    fn the_same_seed_draws_the_same_schedule() {
        let a = draw(7, FAULTS, 500);
        assert_eq!(a, draw(7, FAULTS, 500));
        assert_eq!(digest(&a), digest(&draw(7, FAULTS, 500)));
        let b = draw(8, FAULTS, 500);
        assert_ne!(digest(&a), digest(&b), "another seed, another schedule");
        // A shorter run is a prefix: index i does not depend on the count.
        assert_eq!(draw(7, FAULTS, 100)[..], a[..100]);
    }

    #[test]
    fn faults_come_by_weight() {
        let schedule = draw(1, FAULTS, 100_000);
        let share = |name: &str| {
            schedule.iter().filter(|f| f.fault == name).count() as f64 / schedule.len() as f64
        };
        assert!((share("kill") - 0.30).abs() < 0.01, "{}", share("kill"));
        assert!(
            (share("ballast") - 0.20).abs() < 0.01,
            "{}",
            share("ballast")
        );
        assert!((share("delay") - 0.50).abs() < 0.01, "{}", share("delay"));
    }

    #[test]
    fn a_zero_weight_fault_never_runs() {
        let schedule = draw(3, &[("never", 0), ("always", 1)], 1_000);
        assert!(schedule.iter().all(|f| f.fault == "always"));
        assert!(draw(3, &[("never", 0)], 10).is_empty());
    }

    #[test]
    fn corrupt_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, "{not json").unwrap();
        let e = ScheduleFile::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("s.json") && e.contains("is not a chaos schedule"),
            "{e}"
        );
        let missing = ScheduleFile::load(&dir.path().join("nope.json"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("cannot read chaos schedule"),
            "{missing}"
        );
        let file = ScheduleFile {
            schema: SCHEDULE_SCHEMA.into(),
            scenario: "chaos::x".into(),
            seed: 5,
            scale: 0.5,
            faults: draw(5, FAULTS, 3),
        };
        file.save(&path).unwrap();
        assert_eq!(ScheduleFile::load(&path).unwrap(), file);
    }
}
