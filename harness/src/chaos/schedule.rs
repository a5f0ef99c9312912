//! Which fault runs at each index of a chaos run, drawn from the scenario
//! seed (the schedule file `BRUNT_REPLAY` reads is `brunt_report`'s
//! [`ScheduleFile`]).
//!
//! Each index is drawn from the seed and the index alone (as a weighted op
//! mix is), so fault 37 is the same fault whatever ran before it: a replay of
//! a sub-schedule keeps every remaining fault, and every fault's own
//! parameters (drawn from [`fault_seed`]), exactly as they were.

pub(crate) use brunt_report::{SCHEDULE_SCHEMA, ScheduleFile, ScheduleFileError, ScheduledFault};

use crate::load::split_mix;

/// Keeps the schedule's draws apart from the scenario's other uses of its
/// seed (`Stress::rng`, the op mix).
const SCHEDULE_DOMAIN: u64 = 0xC4A0_5C4E_D01E_0001;
/// Keeps each fault's generator apart from the schedule's draws.
const FAULT_DOMAIN: u64 = 0xC4A0_5FA0_17C7_0002;

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
