//! What the report says about a run before it runs: the declared scenario,
//! the settings in force, the machine — the `start` record of its journal.

use std::time::SystemTime;

use crate::measure::machine_memory;
use crate::registry::{Declared, ScenarioEntry};
use crate::settings::Resolved;
use brunt_report::{Host, RunInfo, ScenarioInfo, Settings};

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl From<&Declared> for Settings {
    /// What the attribute declared, before scaling and the environment.
    fn from(d: &Declared) -> Settings {
        Settings {
            duration_ms: d.duration.map(ms),
            min_duration_ms: d.min_duration.map(ms),
            iterations: d.iterations,
            concurrency: d.concurrency,
            rate_per_s: d.rate,
            max_in_flight: d.max_in_flight,
            connections: d.connections,
            warmup_ms: d.warmup.map(ms),
            sample_ms: d.sample.map(ms),
            timeout_ms: d.timeout.map(ms),
            op_timeout_ms: d.op_timeout.map(ms),
            seed: d.seed,
            memory_limit_bytes: d.memory_limit,
        }
    }
}

impl From<&Resolved> for Settings {
    /// What was in force: the open model's bounds only when it ran.
    fn from(r: &Resolved) -> Settings {
        let load = &r.load;
        Settings {
            duration_ms: r.duration().map(ms),
            min_duration_ms: None,
            iterations: r.iterations(),
            concurrency: Some(load.concurrency),
            rate_per_s: load.rate,
            max_in_flight: load.rate.map(|_| load.max_in_flight),
            connections: load.rate.and(load.connections),
            warmup_ms: Some(ms(load.warmup)),
            sample_ms: Some(ms(r.sample)),
            timeout_ms: Some(ms(r.timeout)),
            op_timeout_ms: load.op_timeout.map(ms),
            seed: Some(load.seed),
            memory_limit_bytes: r.memory_limit,
        }
    }
}

/// The declared scenario, for the report.
pub(crate) fn scenario_info(entry: &ScenarioEntry) -> ScenarioInfo {
    ScenarioInfo {
        name: entry.trial_name(),
        module: entry.module_path.to_string(),
        file: entry.file.to_string(),
        line: entry.line,
        tags: entry.declared.tags.iter().map(|t| t.to_string()).collect(),
        declared: Settings::from(&entry.declared),
    }
}

/// The machine: OS, logical CPUs, physical memory.
fn host() -> Host {
    let os = sysinfo::System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into());
    let total_memory_bytes = machine_memory().map_or(0, |(total, _)| total);
    Host {
        os,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        total_memory_bytes,
    }
}

/// The run's circumstances at its start.
pub(crate) fn run_info(settings: &Resolved) -> RunInfo {
    RunInfo {
        started_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        wall_ms: 0.0,
        scale: settings.scale,
        seed: settings.seed(),
        inline: settings.inline,
        effective: Settings::from(settings),
        host: host(),
        brunt_version: env!("CARGO_PKG_VERSION").to_string(),
        build: None,
        segment: {
            let segment = settings.load.segment;
            (!segment.is_whole()).then_some(brunt_report::SegmentInfo {
                index: segment.index + 1,
                count: segment.count,
            })
        },
    }
}
