//! The child side: run one scenario's body on one tokio runtime with the
//! sampler going, then assemble and write its report. Also used in-process
//! when `BRUNT_INLINE=1`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::files::{ReportPaths, write_report};
use super::run_info::{run_info, scenario_info};
use super::{CHILD_ENV, panic_message};
use crate::analysis::{assemble, fold};
use crate::criteria::AbortCriteria;
use crate::journal::{Journal, Record};
use crate::load::Cancel;
use crate::measure::{LiveCheck, ProgressBoard, ResourceSampler, SamplerConfig, WatchList};
use crate::registry::{Body, ScenarioEntry, find_scenario};
use crate::settings::{RESOLVED_ENV, Resolved};
use crate::stress::{Stress, StressContext};
use brunt_report::{Finding, Outcome, Report, Severity};

/// How long tasks a scenario left running get to finish after its body.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(2);

/// Entry point of a child process: runs the named scenario and exits.
pub(crate) fn run_child(trial_name: &str) -> ! {
    // Before any other thread: what the scenario starts must end with the
    // run even if the runner is killed outright.
    let parent = std::env::var(super::PARENT_ENV)
        .ok()
        .and_then(|p| p.parse().ok());
    let containment = super::containment::arm_in_child(parent);
    // Processes the scenario starts must not take themselves for Brunt's.
    // SAFETY: no other thread runs yet; nothing reads the environment
    // concurrently.
    let waited = std::env::var(super::WAITED_ENV).ok();
    let handed = std::env::var(RESOLVED_ENV).unwrap_or_default();
    unsafe {
        std::env::remove_var(CHILD_ENV);
        std::env::remove_var(super::PARENT_ENV);
        std::env::remove_var(super::WAITED_ENV);
        std::env::remove_var(RESOLVED_ENV);
    }
    let Some(entry) = find_scenario(trial_name) else {
        eprintln!("brunt child: no scenario named `{trial_name}` in this binary");
        std::process::exit(3);
    };
    // Resolved once, by the parent: the child reads no `BRUNT_*` itself.
    let settings = match Resolved::from_handed(&handed, &entry.declared) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("brunt child: {e}");
            std::process::exit(2);
        }
    };
    let paths = ReportPaths::new(&settings.report_dir, &entry.file_stem());
    let mut early = Vec::new();
    if let super::containment::ChildContainment::TreeOnly(reason) = containment {
        eprintln!(
            "brunt child: warning: {reason}; a process this scenario starts that leaves its process tree may outlive a runner killed outright"
        );
        early.push(Finding {
            severity: Severity::Warning,
            kind: "no_containment".into(),
            title: "processes may outlive a killed runner".into(),
            detail: format!(
                "{reason}: processes this scenario starts are killed when the run ends or is interrupted, and its process tree when the runner is killed outright (SIGKILL), but a process that left the tree (re-parented outside it) may outlive a killed runner"
            ),
        });
    }
    match execute(entry, settings, &paths, waited, early) {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            eprintln!(
                "brunt child: cannot write report {}: {e}",
                paths.report.display()
            );
            std::process::exit(4);
        }
    }
}

/// The sampler's live check: the scenario's `abort(...)` criteria, which
/// stop every load model through `cancel` when one can no longer hold.
fn abort_check(entry: &ScenarioEntry, cancel: &Cancel) -> Option<LiveCheck> {
    let criteria = AbortCriteria::new(entry.declared.criteria);
    if criteria.is_empty() {
        return None;
    }
    let cancel = cancel.clone();
    Some(Box::new(move |live, t_ms| {
        if cancel.is_tripped() {
            return None;
        }
        let reason = criteria.check(live, t_ms)?;
        cancel.trip().then_some(reason)
    }))
}

/// Runs one scenario in this process and writes its report. `waited` says
/// how long the trial waited for the machine first, if it did (a timeline
/// event).
pub(crate) fn execute(
    entry: &'static ScenarioEntry,
    settings: Resolved,
    paths: &ReportPaths,
    waited: Option<String>,
    early: Vec<Finding>,
) -> std::io::Result<Report> {
    std::fs::create_dir_all(&settings.report_dir)?;
    let origin = Instant::now();
    let mut findings = early;
    let journal = Arc::new(Journal::create(&paths.stream).unwrap_or_else(|e| {
        findings.push(Finding {
            severity: Severity::Warning,
            kind: "no_stream".into(),
            title: "no stream".into(),
            detail: format!(
                "cannot create {}: {e}; a crash would lose this run's measurements",
                paths.stream.display()
            ),
        });
        Journal::in_memory()
    }));
    let scenario = scenario_info(entry);
    let run = run_info(&settings);
    journal.append(&Record::Start {
        scenario: Box::new(scenario.clone()),
        run: Box::new(run.clone()),
    });
    for finding in findings {
        journal.append(&Record::Finding(finding));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("brunt-runtime")
        .build()?;
    let progress = Arc::new(ProgressBoard::default());
    let watched = Arc::new(WatchList::default());
    let cancel = Cancel::default();
    let sampler = ResourceSampler::start(SamplerConfig {
        interval: settings.sample,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        origin,
        watched: Arc::clone(&watched),
        stream: Arc::clone(&journal),
        progress: Arc::clone(&progress),
        live_check: abort_check(entry, &cancel),
    });
    let sampler = match sampler {
        Ok(s) => Some(s),
        Err(e) => {
            journal.append(&Record::Finding(Finding {
                severity: Severity::Warning,
                kind: "no_samples".into(),
                title: "no resource samples".into(),
                detail: format!("the resource sampler could not start: {e}"),
            }));
            None
        }
    };
    let sample_ms = settings.sample.as_secs_f64() * 1e3;
    let mut stress = Stress::new(StressContext {
        trial: entry.trial_name(),
        settings,
        origin,
        runtime: runtime.handle().clone(),
        journal: Arc::clone(&journal),
        progress,
        watched,
        cancel: cancel.clone(),
    });
    if let Some(waited) = waited {
        stress.event("machine_wait", waited);
    }
    stress.event(
        "scenario_start",
        format!("scenario `{}` starts", entry.trial_name()),
    );
    super::panic_site::install();
    let _ = super::panic_site::take();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| match entry.body {
        Body::Async(body) => runtime.block_on(body(&mut stress)),
        Body::Sync(body) => {
            let _guard = runtime.enter();
            body(&mut stress)
        }
    }));
    let ended = match result {
        Ok(Ok(())) => None,
        Ok(Err(error)) => {
            let reason = format!("the scenario returned an error: {error:#}");
            stress.event("error", reason.clone());
            Some((Outcome::Error, reason))
        }
        Err(payload) => {
            let reason = match super::panic_site::take() {
                Some(site) => format!(
                    "the scenario panicked at {site}: {}",
                    panic_message(payload.as_ref())
                ),
                None => format!("the scenario panicked: {}", panic_message(payload.as_ref())),
            };
            stress.event("panic", reason.clone());
            Some((Outcome::Error, reason))
        }
    };
    stress.event("scenario_end", "body returned");
    let wall_ms = origin.elapsed().as_secs_f64() * 1e3;
    let sampled = sampler.map(ResourceSampler::stop).unwrap_or_default();
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    drop(stress);
    journal.append(&Record::End {
        t_ms: origin.elapsed().as_secs_f64() * 1e3,
        wall_ms,
        sampler_cpu_percent: sampled.own_cpu_percent,
    });
    let record = fold(journal.records(), scenario, run);
    let report = assemble(record, entry, sample_ms, ended);
    write_report(&paths.report, &report)?;
    Ok(report)
}
