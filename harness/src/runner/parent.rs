//! The parent side of one trial: start the child, watch its deadline and
//! memory, and turn whatever happened into a report and a verdict.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::Failed;

use super::CHILD_ENV;
use super::child::execute;
use super::containment::Containment;
use super::files::{ReportPaths, write_report};
use super::guard::{Breach, MemoryGuard};
use super::processes;
use super::progress::LiveProgress;
use super::run_info::{run_info, scenario_info};
use super::snapshot::{SnapshotCheck, check_snapshot};
use super::terminal::render_verdict;
use crate::analysis::{assemble, fold};
use crate::chaos::shrink;
use crate::criteria::Dimension;
use crate::journal::{JournalTail, Record, read_journal};
use crate::measure::machine_memory;
use crate::registry::ScenarioEntry;
use crate::settings::{EnvSettings, RESOLVED_ENV, Resolved, resolve};
use brunt_report::{Event, Outcome, Report, format_value};

/// How often the parent checks the child's exit, deadline and memory.
const WATCH_INTERVAL: Duration = Duration::from_millis(5);
/// Lines of the child's log shown with a failure.
const LOG_TAIL_LINES: usize = 40;

/// What the command line asks of every trial.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrialOptions {
    /// `--nocapture`: the child's output goes to the terminal, not a log.
    pub(crate) nocapture: bool,
    /// `--format terse` / `-q`: print verdicts of failures only.
    pub(crate) quiet: bool,
    /// Draw live progress (a terminal on stderr, outside CI).
    pub(crate) progress: bool,
}

/// Why the parent ended the child, when it did.
enum Intervention {
    Deadline(Duration),
    Memory(Breach),
    /// The runner got SIGINT or SIGTERM.
    Interrupted(i32),
}

/// Runs one scenario, isolated unless `BRUNT_INLINE=1`, and judges it.
pub(crate) fn run_trial(
    entry: &'static ScenarioEntry,
    env: &EnvSettings,
    options: TrialOptions,
) -> Result<(), Failed> {
    if let Some(signal) = processes::interrupted() {
        std::process::exit(128 + signal);
    }
    // A replay runs under the seed and scale of the run it came from.
    let replay = match &env.replay {
        Some(path) => Some(
            crate::chaos::replay_schedule(path, &entry.trial_name())
                .map_err(|e| Failed::from(e.to_string()))?,
        ),
        None => None,
    };
    let mut env = env.clone();
    if let Some(file) = &replay {
        env.seed = Some(file.seed);
        env.scale = Some(file.scale);
    }
    let env = &env;
    // Held until the trial returns, verdict included.
    let (_turn, waited) = take_machine(entry, env)?;
    let seed: u64 = rand::random();
    let mut settings = resolve(&entry.declared, env, seed);
    settings
        .memory_limit
        .get_or_insert_with(default_memory_limit);
    let paths = ReportPaths::new(&settings.report_dir, &entry.file_stem());
    std::fs::create_dir_all(&settings.report_dir).map_err(|e| {
        Failed::from(format!(
            "cannot prepare report directory {}: {e}",
            settings.report_dir.display()
        ))
    })?;
    // Held until the trial returns: the files are this run's alone.
    let _claim = paths
        .claim(&entry.trial_name())
        .map_err(|e| Failed::from(e.to_string()))?;
    clear(&paths, &settings)?;
    let mut report = if settings.inline {
        execute(entry, settings.clone(), &paths, waited.clone(), Vec::new())
            .map_err(|e| Failed::from(format!("cannot write report: {e}")))?
    } else {
        isolate(entry, &settings, &paths, options, waited.as_deref())?
    };
    // Reruns of a failed scenario (`BRUNT_RETRIES`): one that passes on a
    // rerun passes the run, marked flaky, with every run's figures kept.
    let retries = if settings.inline {
        0
    } else {
        env.retries.unwrap_or(0) as usize
    };
    let mut attempts = Vec::new();
    while report.outcome != Outcome::Passed
        && attempts.len() < retries
        && processes::interrupted().is_none()
    {
        attempts.push(brunt_report::Attempt::of(&report));
        eprintln!(
            "brunt: `{}` {}; rerun {} of {retries} (BRUNT_RETRIES)",
            entry.trial_name(),
            report.outcome.as_str(),
            attempts.len()
        );
        clear(&paths, &settings)?;
        report = isolate(entry, &settings, &paths, options, waited.as_deref())?;
    }
    if !attempts.is_empty() {
        report.flaky = report.outcome == Outcome::Passed;
        report.attempts = attempts;
        write_report(&paths.report, &report)
            .map_err(|e| Failed::from(format!("cannot write report: {e}")))?;
    }
    if report.outcome != Outcome::Passed && !settings.inline {
        shrink_failure(entry, &settings, env, &paths, &mut report);
    }
    let verdict = render_verdict(&report, &paths.report, entry.declared.escalate.as_ref());
    if let Some(signal) = processes::interrupted() {
        eprint!("\n{verdict}");
        eprintln!("brunt: interrupted; the remaining scenarios do not run");
        std::process::exit(128 + signal);
    }
    let passed = report.outcome == Outcome::Passed;
    if !options.quiet || !passed {
        eprint!("\n{verdict}");
    }
    // A run that did not end on its own (an error, a crash, a timeout) has no
    // complete structure to compare: it fails for that, not for its snapshot.
    let snapshots = match report.outcome {
        Outcome::Passed | Outcome::Failed => {
            SnapshotCheck::locate(env, Path::new(entry.manifest_dir))
        }
        _ => SnapshotCheck::Off,
    };
    let snapshot = check_snapshot(&snapshots, &entry.file_stem(), &report);
    if passed {
        return snapshot.map_err(Failed::from);
    }
    let message = failure_message(&report, &paths, settings.inline, options, snapshot.err());
    Err(Failed::from(message))
}

/// Takes the machine: it is this scenario's alone while it runs, whichever
/// process started it (`BRUNT_LOCK`). Returns the turn, held until the
/// trial returns, and how long the trial waited for it, if it did.
fn take_machine(
    entry: &ScenarioEntry,
    env: &EnvSettings,
) -> Result<(Option<super::turn::Turn>, Option<String>), Failed> {
    let turn = match super::turn::lock_path(env) {
        Some(path) => Some(
            super::turn::take_turn(&path, &entry.trial_name(), |line| eprintln!("{line}"))
                .map_err(|e| {
                    Failed::from(format!(
                        "cannot take the machine lock {}: {e} (BRUNT_LOCK=off runs without it)",
                        path.display()
                    ))
                })?,
        ),
        None => None,
    };
    let waited = turn.as_ref().filter(|t| !t.waited.is_zero()).map(|t| {
        let text = format!(
            "waited {} for the machine while {} ran",
            format_value(t.waited.as_nanos() as f64, Dimension::Time),
            t.waited_for.as_deref().unwrap_or("another scenario")
        );
        eprintln!("brunt: `{}` {text}", entry.trial_name());
        text
    });
    Ok((turn, waited))
}

/// Clears the run's files before a run.
fn clear(paths: &ReportPaths, settings: &Resolved) -> Result<(), Failed> {
    paths.clear().map_err(|e| {
        Failed::from(format!(
            "cannot prepare report directory {}: {e}",
            settings.report_dir.display()
        ))
    })
}

/// Why a trial failed: its outcome and reason, the tail of the child's log
/// when the child did not end on its own, and a snapshot mismatch.
fn failure_message(
    report: &Report,
    paths: &ReportPaths,
    inline: bool,
    options: TrialOptions,
    snapshot: Option<String>,
) -> String {
    let mut message = format!(
        "scenario `{}` {}",
        report.scenario.name,
        report.outcome.as_str()
    );
    if let Some(reason) = &report.reason {
        message.push_str(&format!(": {reason}"));
    }
    if !options.nocapture
        && !inline
        && matches!(
            report.outcome,
            Outcome::Error | Outcome::Crashed | Outcome::TimedOut
        )
        && let Some(tail) = log_tail(&paths.log)
    {
        message.push_str(&format!(
            "\n--- last lines of {} ---\n{tail}",
            paths.log.display()
        ));
    }
    if let Some(snapshot) = snapshot {
        message.push_str(&format!("\n{snapshot}"));
    }
    message
}

/// When a run with chaos failed, shrinks its schedule (see
/// [`shrink::shrink_failure`]): every candidate replayed in a fresh child
/// under the same seed and scale, its report in a directory of its own.
fn shrink_failure(
    entry: &'static ScenarioEntry,
    settings: &Resolved,
    env: &EnvSettings,
    paths: &ReportPaths,
    report: &mut Report,
) {
    let stem = entry.file_stem();
    let plan = shrink::ShrinkPlan {
        trial: entry.trial_name(),
        seed: settings.seed(),
        scale: settings.scale,
        report_dir: &settings.report_dir,
        stem: &stem,
        budget_runs: env.shrink_runs.unwrap_or(shrink::DEFAULT_SHRINK_RUNS),
        budget_time: env.shrink_time.unwrap_or(shrink::DEFAULT_SHRINK_TIME),
    };
    let quiet = TrialOptions {
        nocapture: false,
        quiet: true,
        progress: false,
    };
    let replay = |schedule: &Path, dir: &Path| {
        if processes::interrupted().is_some() {
            return None;
        }
        let mut candidate = settings.clone();
        candidate.report_dir = dir.to_path_buf();
        candidate.replay = Some(schedule.to_path_buf());
        let candidate_paths = ReportPaths::new(dir, &stem);
        candidate_paths.clear().ok()?;
        isolate(entry, &candidate, &candidate_paths, quiet, None).ok()
    };
    if shrink::shrink_failure(report, &plan, replay).is_some()
        && let Err(e) = write_report(&paths.report, report)
    {
        eprintln!(
            "brunt: cannot rewrite {} after shrinking: {e}",
            paths.report.display()
        );
    }
}

/// Share of the memory available at a trial's start that a scenario may
/// use when it declares no `memory_limit`.
const DEFAULT_MEMORY_SHARE: f64 = 0.5;

/// The memory guard's default: half of what the machine has available now,
/// so a runaway scenario is stopped long before the kernel's OOM killer
/// would pick a victim.
fn default_memory_limit() -> u64 {
    let available = machine_memory().map_or(0, |(_, available)| available);
    if available == 0 {
        // Unknown: a limit of 4 GiB errs on the side of the machine.
        return 4 << 30;
    }
    (available as f64 * DEFAULT_MEMORY_SHARE) as u64
}

/// The part of the child's log that explains a failure: from the last
/// panic's own line (its location and message, then any backtrace) when
/// the log holds one, else its last lines.
fn log_tail(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return None;
    }
    let start = match lines.iter().rposition(|l| l.contains(" panicked at ")) {
        Some(panic) => panic,
        None => lines.len().saturating_sub(LOG_TAIL_LINES),
    };
    let end = (start + LOG_TAIL_LINES).min(lines.len());
    let mut tail = lines[start..end].join("\n");
    if end < lines.len() {
        tail.push_str(&format!("\n… {} more lines in the log", lines.len() - end));
    }
    Some(tail)
}

fn spawn_child(
    entry: &ScenarioEntry,
    settings: &Resolved,
    paths: &ReportPaths,
    options: TrialOptions,
    waited: Option<&str>,
    containment: &Containment,
) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let handed = settings.to_handed().map_err(std::io::Error::other)?;
    let mut command = Command::new(exe);
    command
        .env(CHILD_ENV, entry.trial_name())
        .env(RESOLVED_ENV, handed)
        .env(super::PARENT_ENV, std::process::id().to_string())
        .env(super::turn::TURN_HELD_ENV, "1")
        .stdin(Stdio::null());
    match waited {
        Some(text) => command.env(super::WAITED_ENV, text),
        None => command.env_remove(super::WAITED_ENV),
    };
    if !options.nocapture {
        let log = File::create(&paths.log)?;
        command.stdout(log.try_clone()?).stderr(log);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so the child and whatever it started can be
        // killed together.
        command.process_group(0);
    }
    containment.configure(&mut command);
    command.spawn()
}

/// How long a run is expected to last, for the progress bar: its warm-up and
/// measured load, when the declaration says.
fn expected_length(settings: &Resolved) -> Option<Duration> {
    let staged: Duration = settings.load.stages.iter().map(|s| s.duration).sum();
    let load = match settings.duration() {
        _ if !staged.is_zero() => Some(staged),
        duration => duration,
    };
    load.map(|d| d + settings.load.warmup)
}

/// Kills the still-running child and everything it started: its process
/// group, every descendant that left the group, and watched processes in its
/// group.
fn kill_scenario(child: &mut Child, targets: &[u32]) {
    let pid = child.id();
    // The tree first: once the child dies its children are re-parented.
    let tree = processes::descendants(pid);
    processes::kill_group(pid);
    let _ = child.kill();
    for descendant in tree {
        processes::kill(descendant);
    }
    // A watched process the scenario started but that left the tree (a
    // daemon) is still the scenario's if it shares its process group.
    #[cfg(target_os = "linux")]
    for &target in targets {
        if processes::process_group(target) == Some(pid) {
            processes::kill(target);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = targets;
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        2 => "SIGINT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "signal",
    }
}

fn exit_signal(status: &ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

fn isolate(
    entry: &'static ScenarioEntry,
    settings: &Resolved,
    paths: &ReportPaths,
    options: TrialOptions,
    waited: Option<&str>,
) -> Result<Report, Failed> {
    let started = Instant::now();
    let mut containment = Containment::prepare();
    let mut child = spawn_child(entry, settings, paths, options, waited, &containment)
        .map_err(|e| Failed::from(format!("cannot start the scenario's child process: {e}")))?;
    containment.spawned();
    let mut guard = settings
        .memory_limit
        .map(|limit| MemoryGuard::new(limit, child.id()));
    let mut tail = JournalTail::new(&paths.stream);
    let mut progress = (options.progress && !options.nocapture)
        .then(|| LiveProgress::start(&entry.trial_name(), expected_length(settings)));
    let mut intervention = None;
    let mut stopped = processes::StoppedByChaos::default();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        let records = tail.read_new();
        stopped.observe(&records);
        if let Some(guard) = guard.as_mut() {
            for record in &records {
                if let Record::Watch { pid, .. } = record {
                    guard.watch(*pid);
                }
            }
        }
        if let Some(progress) = progress.as_mut() {
            progress.observe(&records);
            progress.tick();
        }
        if let Some(signal) = processes::interrupted() {
            intervention = Some(Intervention::Interrupted(signal));
        } else if started.elapsed() > settings.timeout {
            intervention = Some(Intervention::Deadline(settings.timeout));
        } else if let Some(breach) = guard.as_mut().and_then(MemoryGuard::check) {
            intervention = Some(Intervention::Memory(breach));
        }
        if intervention.is_some() {
            let targets = guard.as_ref().map(MemoryGuard::targets).unwrap_or_default();
            containment.kill_all();
            kill_scenario(&mut child, &targets);
            break child.wait().ok();
        }
        std::thread::sleep(WATCH_INTERVAL);
    };
    if let Some(progress) = progress {
        progress.finish();
    }
    // Anything the scenario started and left behind goes too: what is left
    // of its process group, and (the runner being their subreaper) every
    // orphan re-parented here.
    processes::kill_group(child.id());
    containment.kill_all();
    processes::kill_leftovers();
    // Removes the cgroup, now empty.
    drop(containment);
    // A process outside the scenario that a fault stopped and the scenario,
    // cut short, never continued: the README promises SIGCONT.
    stopped.observe(&tail.read_new());
    stopped.continue_all();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;

    match ending(intervention.as_ref(), status, paths) {
        Ok(report) => Ok(report),
        Err((outcome, kind, reason)) => {
            recover(entry, settings, paths, outcome, kind, reason, elapsed_ms)
        }
    }
}

/// How the child ended: its own report when it wrote one, else what the
/// parent saw — the outcome, the timeline event's kind and the reason — for
/// the report recovered from its journal.
fn ending(
    intervention: Option<&Intervention>,
    status: Option<ExitStatus>,
    paths: &ReportPaths,
) -> Result<Report, (Outcome, &'static str, String)> {
    match (intervention, status.as_ref().and_then(exit_signal)) {
        (Some(Intervention::Deadline(limit)), _) => Err((
            Outcome::TimedOut,
            "timeout",
            format!(
                "passed its deadline of {}; the child was killed",
                format_value(limit.as_nanos() as f64, Dimension::Time)
            ),
        )),
        (Some(Intervention::Memory(breach)), _) => {
            Err((Outcome::Failed, "memory_guard", breach.reason()))
        }
        (Some(Intervention::Interrupted(signal)), _) => Err((
            Outcome::Error,
            "interrupted",
            format!(
                "the runner got signal {signal} ({}); the scenario and every process it started were stopped",
                signal_name(*signal)
            ),
        )),
        (None, Some(signal)) => Err((
            Outcome::Crashed,
            "signal",
            format!(
                "killed by signal {signal} ({}){}",
                signal_name(signal),
                if signal == 9 {
                    " from outside Brunt, possibly the kernel's out-of-memory killer"
                } else {
                    ""
                }
            ),
        )),
        (None, None) => match status.and_then(|s| s.code()) {
            Some(0) => match std::fs::read(&paths.report) {
                Ok(bytes) => match serde_json::from_slice::<Report>(&bytes) {
                    Ok(report) => Ok(report),
                    Err(e) => Err((
                        Outcome::Crashed,
                        "exit",
                        format!(
                            "the child's report {} is unreadable: {e}",
                            paths.report.display()
                        ),
                    )),
                },
                Err(_) => Err((
                    Outcome::Crashed,
                    "exit",
                    "the child exited without writing a report".to_string(),
                )),
            },
            Some(code) => Err((
                Outcome::Crashed,
                "exit",
                format!("the child exited with code {code} without writing a report"),
            )),
            None => Err((
                Outcome::Crashed,
                "exit",
                "the child's exit status could not be read".to_string(),
            )),
        },
    }
}

/// Writes the report of a child that did not write its own, from its stream.
fn recover(
    entry: &'static ScenarioEntry,
    settings: &Resolved,
    paths: &ReportPaths,
    outcome: Outcome,
    kind: &str,
    reason: String,
    elapsed_ms: f64,
) -> Result<Report, Failed> {
    let records = read_journal(&paths.stream).unwrap_or_default();
    let mut record = fold(records, scenario_info(entry), run_info(settings));
    // The parent's clock started a little before the child's: an upper bound.
    let t_ms = record.run.wall_ms.max(elapsed_ms);
    record.run.wall_ms = t_ms;
    record.events.push(Event {
        t_ms,
        kind: kind.to_string(),
        message: reason.clone(),
    });
    let sample_ms = settings.sample.as_secs_f64() * 1e3;
    let report = assemble(record, entry, sample_ms, Some((outcome, reason)));
    write_report(&paths.report, &report).map_err(|e| {
        Failed::from(format!(
            "cannot write report {}: {e}",
            paths.report.display()
        ))
    })?;
    Ok(report)
}
