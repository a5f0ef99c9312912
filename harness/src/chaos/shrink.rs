//! Shrinking a failing chaos schedule: delta debugging (Zeller and
//! Hildebrandt's ddmin) over the faults that ran, each candidate replayed
//! in a fresh child process by the runner, within a budget of runs and
//! time. The result is 1-minimal when ddmin finishes: leaving out any one
//! remaining fault makes the failure go away.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{SCHEDULE_SCHEMA, ScheduleFile, ScheduledFault};
use brunt_report::{Finding, Outcome, Report, Severity, ShrinkSummary};

/// Most candidate runs shrinking takes by default (`BRUNT_SHRINK_RUNS`).
pub(crate) const DEFAULT_SHRINK_RUNS: u32 = 64;
/// Most wall time shrinking takes by default (`BRUNT_SHRINK_TIME`).
pub(crate) const DEFAULT_SHRINK_TIME: Duration = Duration::from_secs(600);

/// Reduces `items` to a smaller list on which `fails` still returns
/// `Some(true)`, keeping the items' order. `fails` returns `None` once the
/// budget is spent; the smallest failing list found so far is returned with
/// `false` (not finished). `items` itself is assumed to fail.
pub(crate) fn ddmin<T: Clone + Eq + std::hash::Hash>(
    items: Vec<T>,
    mut test: impl FnMut(&[T]) -> Option<bool>,
) -> (Vec<T>, bool) {
    // ddmin asks about the same subset again after it changes granularity:
    // each distinct candidate runs once (about half the runs).
    let mut known: std::collections::HashMap<Vec<T>, bool> = std::collections::HashMap::new();
    let mut fails = |candidate: &[T]| -> Option<bool> {
        if let Some(answer) = known.get(candidate) {
            return Some(*answer);
        }
        let answer = test(candidate)?;
        known.insert(candidate.to_vec(), answer);
        Some(answer)
    };
    let mut current = items;
    let mut n = 2usize;
    while current.len() >= 2 {
        let chunks = split(&current, n);
        let mut reduced = false;
        // Try each chunk alone, then each complement.
        for chunk in &chunks {
            match fails(chunk) {
                None => return (current, false),
                Some(true) => {
                    current = chunk.clone();
                    n = 2;
                    reduced = true;
                    break;
                }
                Some(false) => {}
            }
        }
        if !reduced && n > 2 {
            for skip in 0..chunks.len() {
                let complement: Vec<T> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .flat_map(|(_, c)| c.iter().cloned())
                    .collect();
                match fails(&complement) {
                    None => return (current, false),
                    Some(true) => {
                        current = complement;
                        n = (n - 1).max(2);
                        reduced = true;
                        break;
                    }
                    Some(false) => {}
                }
            }
        }
        if !reduced {
            if n >= current.len() {
                break;
            }
            n = (2 * n).min(current.len());
        }
    }
    (current, true)
}

/// `items` in `n` contiguous chunks of near-equal length.
fn split<T: Clone>(items: &[T], n: usize) -> Vec<Vec<T>> {
    let n = n.min(items.len()).max(1);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for k in 0..n {
        let end = start + (items.len() - start) / (n - k);
        out.push(items[start..end].to_vec());
        start = end;
    }
    out
}

/// What shrinking a failed chaos run is bound by, and where it writes.
pub(crate) struct ShrinkPlan<'a> {
    /// The scenario's trial name.
    pub(crate) trial: String,
    /// The seed and scale every candidate runs under (the failed run's).
    pub(crate) seed: u64,
    pub(crate) scale: f64,
    /// The run's report directory: candidates run in `<stem>.shrink/` in
    /// it, the minimal schedule goes to `<stem>.minimal.json`.
    pub(crate) report_dir: &'a Path,
    pub(crate) stem: &'a str,
    /// Most candidate runs (`BRUNT_SHRINK_RUNS`) and wall time
    /// (`BRUNT_SHRINK_TIME`).
    pub(crate) budget_runs: u32,
    pub(crate) budget_time: Duration,
}

/// Shrinks the schedule of a run that failed under chaos (unless it was
/// itself a replay): the whole schedule is replayed first, then ddmin's
/// candidates, each through `replay(schedule_file, report_dir)` — a fresh
/// run of the scenario under that schedule, reporting into that directory
/// (`None` when it could not run or the runner was interrupted). The
/// minimal schedule goes to `<stem>.minimal.json`, and into `report` with
/// the command that replays it and a finding. Returns what shrinking came
/// to, or `None` when there was nothing to shrink (`report` unchanged).
pub(crate) fn shrink_failure(
    report: &mut Report,
    plan: &ShrinkPlan<'_>,
    mut replay: impl FnMut(&Path, &Path) -> Option<Report>,
) -> Option<ShrinkSummary> {
    let chaos = report.chaos.as_ref()?;
    if chaos.replayed_from.is_some() || chaos.log.is_empty() || plan.budget_runs == 0 {
        return None;
    }
    let dir = plan.report_dir.join(format!("{}.shrink", plan.stem));
    std::fs::create_dir_all(&dir).ok()?;
    let candidate_file = dir.join("candidate.json");
    let schedule: Vec<ScheduledFault> = chaos
        .log
        .iter()
        .map(|e| ScheduledFault {
            index: e.index,
            fault: e.fault.clone(),
        })
        .collect();
    let file_of = |faults: &[ScheduledFault]| ScheduleFile {
        schema: SCHEDULE_SCHEMA.to_string(),
        scenario: plan.trial.clone(),
        seed: plan.seed,
        scale: plan.scale,
        faults: faults.to_vec(),
    };
    let started = Instant::now();
    let mut runs = 0u32;
    let mut last_failing_log = None;
    eprintln!(
        "brunt: `{}` failed under chaos; shrinking its {} faults (at most {} runs, {:?})",
        plan.trial,
        schedule.len(),
        plan.budget_runs,
        plan.budget_time
    );
    let mut candidate = |faults: &[ScheduledFault]| -> Option<bool> {
        if runs >= plan.budget_runs || started.elapsed() >= plan.budget_time {
            return None;
        }
        runs += 1;
        file_of(faults).save(&candidate_file).ok()?;
        let result = replay(&candidate_file, &dir)?;
        let failed = result.outcome != Outcome::Passed;
        if failed {
            last_failing_log = result.chaos.map(|c| c.log);
        }
        Some(failed)
    };
    // The whole schedule first: a failure that does not come back on
    // replay depends on more than the schedule, and shrinking would chase
    // noise.
    let reproduced = candidate(&schedule) == Some(true);
    let (minimal, complete) = if reproduced {
        ddmin(schedule.clone(), &mut candidate)
    } else {
        (schedule.clone(), false)
    };
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    let minimal_file = plan.report_dir.join(format!("{}.minimal.json", plan.stem));
    let _ = std::fs::remove_dir_all(&dir);
    if reproduced && file_of(&minimal).save(&minimal_file).is_ok() {
        let command = replay_command(&minimal_file, &plan.trial);
        report
            .findings
            .push(shrunk_finding(&minimal, schedule.len(), complete, &command));
        if let Some(reason) = report.reason.as_mut() {
            reason.push_str(&format!("\nreplay the minimal failing schedule: {command}"));
        }
        let chaos = report.chaos.as_mut()?;
        chaos.minimal = last_failing_log;
        chaos.replay = Some(command);
    } else if !reproduced {
        report.findings.push(Finding {
            severity: Severity::Warning,
            kind: "chaos_not_reproduced".into(),
            title: "chaos failure did not reproduce".into(),
            detail: format!(
                "replaying all {} faults under the same seed passed: the failure depends on more than the schedule (timing, load); nothing was shrunk",
                schedule.len()
            ),
        });
    }
    let summary = ShrinkSummary {
        original: schedule.len(),
        reproduced,
        minimal: minimal.len(),
        runs,
        elapsed_ms,
        complete,
        file: minimal_file.display().to_string(),
    };
    report.chaos.as_mut()?.shrink = Some(summary.clone());
    Some(summary)
}

/// The finding of a shrunk failure: which faults remain, whether ddmin
/// finished, and the command that replays them.
fn shrunk_finding(
    minimal: &[ScheduledFault],
    original: usize,
    complete: bool,
    command: &str,
) -> Finding {
    Finding {
        severity: Severity::Critical,
        kind: "chaos_shrunk".to_string(),
        title: format!(
            "chaos failure shrunk to {} of {original} faults",
            minimal.len()
        ),
        detail: format!(
            "{}: {}; replay it with: {command}",
            if complete {
                "no single fault of it can be left out"
            } else {
                "the shrinking budget ran out first, so it may not be minimal"
            },
            minimal
                .iter()
                .map(|f| format!("#{} {}", f.index, f.fault))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The one command that replays schedule `file` of scenario `trial` with
/// the test binary running now: `cargo test --test <target>` for a test
/// target (as `cargo test` builds them, under `deps/`), else the binary
/// itself.
pub(crate) fn replay_command(file: &Path, trial: &str) -> String {
    let file = shell_word(&file.display().to_string());
    let exe = std::env::current_exe().ok();
    let test_target = exe.as_ref().and_then(|exe| {
        let dir = exe.parent()?;
        if dir.file_name()? != "deps" {
            return None;
        }
        let stem = exe.file_stem()?.to_str()?;
        let (target, hash) = stem.rsplit_once('-')?;
        if hash.len() != 16 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let profile = dir.parent()?.file_name()?.to_str()?;
        Some((target.to_string(), profile.to_string()))
    });
    match (test_target, exe) {
        (Some((target, profile)), _) => {
            let profile = match profile.as_str() {
                "debug" => String::new(),
                "release" => " --release".to_string(),
                other => format!(" --profile {other}"),
            };
            format!(
                "BRUNT_REPLAY={file} cargo test{profile} --test {target} -- --ignored --exact {trial}"
            )
        }
        (None, Some(exe)) => format!(
            "BRUNT_REPLAY={file} {} --ignored --exact {trial}",
            shell_word(&exe.display().to_string())
        ),
        (None, None) => {
            format!("BRUNT_REPLAY={file} cargo test --test stress -- --ignored --exact {trial}")
        }
    }
}

/// `word` quoted for a POSIX shell when it needs to be.
fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    if plain && !word.is_empty() {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The planted bug: `a` followed later by `b`.
    fn a_then_b(items: &[&str]) -> bool {
        items
            .iter()
            .position(|x| *x == "a")
            .is_some_and(|i| items[i..].contains(&"b"))
    }

    #[test]
    fn finds_the_two_faults_in_order_among_fifty() {
        let mut items = vec!["x"; 60];
        items[13] = "a";
        items[41] = "b";
        items[50] = "a"; // an `a` after the `b` does not trigger it
        let mut runs = 0;
        let (min, complete) = ddmin(items, |c| {
            runs += 1;
            Some(a_then_b(c))
        });
        assert_eq!(min, vec!["a", "b"]);
        assert!(complete);
        // Each distinct candidate runs once: well inside the default budget.
        assert!(runs <= 40, "{runs} runs");
    }

    #[test]
    fn a_spent_budget_returns_the_smallest_failure_so_far() {
        let mut items = vec!["x"; 64];
        items[3] = "a";
        items[60] = "b";
        let mut runs = 0;
        let (min, complete) = ddmin(items.clone(), |c| {
            runs += 1;
            (runs <= 3).then(|| a_then_b(c))
        });
        assert!(!complete);
        assert!(a_then_b(&min), "still fails");
        assert!(min.len() <= items.len());
    }

    #[test]
    fn chunks_cover_everything_in_order() {
        let items: Vec<u32> = (0..10).collect();
        let chunks = split(&items, 3);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks.concat(), items);
        assert_eq!(split(&items, 20).len(), 10);
    }

    #[test]
    fn odd_paths_are_quoted() {
        assert_eq!(shell_word("/tmp/a.json"), "/tmp/a.json");
        assert_eq!(shell_word("/tmp/a b.json"), "'/tmp/a b.json'");
    }
}
