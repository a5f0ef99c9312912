//! The settings one scenario runs with, after merging its declaration with
//! the environment. Parent and child resolve identically, so the parent
//! knows the child's deadline and memory limit without asking it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::load::{Escalation, LoadSettings, Stage, Stop, next_level};
use crate::registry::Declared;
use crate::settings::EnvSettings;

/// Sampling interval when the attribute declares none.
pub const DEFAULT_SAMPLE: Duration = Duration::from_millis(100);
/// Open-model in-flight bound when the attribute declares none: generous,
/// yet a stalled system cannot make the generator hold unbounded futures.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 10_000;
/// Deadline margin added to a run's expected length for start-up and
/// teardown.
const DEADLINE_MARGIN: Duration = Duration::from_secs(30);
/// Deadline when the run's length cannot be derived (iterations, or no load).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How much measured load `Stress::drive` runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// No `duration` or `iterations` declared: `drive` is unavailable.
    Undeclared,
    /// Run for this long (after warm-up).
    Duration(Duration),
    /// Run exactly this many measured ops.
    Iterations(u64),
}

/// Everything one scenario run needs to know, after scaling.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The measured load's extent, scaled.
    pub budget: Budget,
    /// Closed-model workers.
    pub concurrency: u32,
    /// Open-model arrivals per second (never scaled).
    pub rate: Option<f64>,
    /// Open model: most ops in flight at once.
    pub max_in_flight: u32,
    /// Open model: most worker states held at once, if declared.
    pub connections: Option<u32>,
    /// Warm-up, scaled.
    pub warmup: Duration,
    /// Resource sampling interval (not scaled: it is a resolution, not load).
    pub sample: Duration,
    /// Hard deadline of the child process.
    pub timeout: Duration,
    /// Longest an op may take (not scaled).
    pub op_timeout: Option<Duration>,
    /// The seed in force.
    pub seed: u64,
    /// Resident-memory limit of the child, in bytes.
    pub memory_limit: Option<u64>,
    /// `BRUNT_SCALE`.
    pub scale: f64,
    /// Where reports go.
    pub report_dir: PathBuf,
    /// Whether the scenario runs in the test process.
    pub inline: bool,
    /// Escalation, its step scaled.
    pub escalate: Option<Escalation>,
    /// Stages, their durations scaled.
    pub stages: Vec<Stage>,
    /// `BRUNT_REPLAY`: a chaos schedule file to run instead of drawing one.
    pub replay: Option<PathBuf>,
    /// `BRUNT_CHECK_DETERMINISM`: draw each chaos schedule twice and compare.
    pub check_determinism: bool,
    /// The closed-model workers as declared (stages ramp from them).
    pub declared_concurrency: Option<u32>,
    /// A closed-model worker's pause between ops.
    pub think: Option<brunt_grammar::ThinkTime>,
    /// Whether an `abort(...)` criterion may stop the load early.
    pub cancellable: bool,
    /// Weighted ops `(name, weight)` for `drive_mix`, as declared.
    pub mix: &'static [(&'static str, u32)],
    /// Ops each worker runs in order, for `drive_mix`, as declared.
    pub flow: &'static [&'static str],
}

fn scale_duration(d: Duration, scale: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * scale).unwrap_or(Duration::MAX)
}

/// Merges a declaration with the environment. `fallback_seed` is used when
/// neither declares a seed (the parent draws one and hands it to the child
/// through `BRUNT_SEED`, so both agree and the report can be replayed).
pub fn resolve(declared: &Declared, env: &EnvSettings, fallback_seed: u64) -> Resolved {
    let scale = env.scale.unwrap_or(1.0);
    let budget = match (declared.duration, declared.iterations) {
        (Some(d), _) => Budget::Duration(
            scale_duration(d, scale).max(declared.min_duration.unwrap_or_default().min(d)),
        ),
        (None, Some(n)) => Budget::Iterations(((n as f64) * scale).ceil().max(1.0) as u64),
        (None, None) => Budget::Undeclared,
    };
    let warmup = declared
        .warmup
        .map_or(Duration::ZERO, |w| scale_duration(w, scale));
    let escalate = declared.escalate.map(|e| Escalation {
        step: scale_duration(e.step, scale),
        ..e
    });
    let stages: Vec<Stage> = declared
        .stages
        .iter()
        .map(|s| Stage {
            duration: scale_duration(s.duration, scale),
            target: s.target,
        })
        .collect();
    let staged: Duration = stages.iter().map(|s| s.duration).sum();
    let timeout = match declared.timeout {
        Some(t) => t.max(scale_duration(t, scale)),
        None => match (budget, escalate) {
            _ if !stages.is_empty() => 2 * (warmup + staged) + DEADLINE_MARGIN,
            (_, Some(e)) => 2 * (warmup + e.step * escalation_steps(&e)) + DEADLINE_MARGIN,
            (Budget::Duration(d), None) => 2 * (d + warmup) + DEADLINE_MARGIN,
            _ => DEFAULT_TIMEOUT.max(scale_duration(DEFAULT_TIMEOUT, scale)),
        },
    };
    Resolved {
        budget,
        concurrency: declared.concurrency.unwrap_or(1),
        rate: declared.rate,
        max_in_flight: declared.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
        connections: declared.connections,
        warmup,
        sample: declared.sample.unwrap_or(DEFAULT_SAMPLE),
        timeout,
        op_timeout: declared.op_timeout,
        seed: env.seed.or(declared.seed).unwrap_or(fallback_seed),
        memory_limit: env.memory_limit.or(declared.memory_limit),
        scale,
        report_dir: env.report_dir.clone().unwrap_or_else(default_report_dir),
        inline: env.inline.unwrap_or(false),
        escalate,
        stages,
        replay: env.replay.clone(),
        check_determinism: env.check_determinism.unwrap_or(false),
        declared_concurrency: declared.concurrency,
        think: declared.think,
        cancellable: declared.criteria.iter().any(|c| c.abort),
        mix: declared.mix,
        flow: declared.flow,
    }
}

impl From<&Resolved> for LoadSettings {
    fn from(r: &Resolved) -> LoadSettings {
        LoadSettings {
            budget: match r.budget {
                Budget::Undeclared => None,
                Budget::Duration(d) => Some(Stop::After(d)),
                Budget::Iterations(n) => Some(Stop::Count(n)),
            },
            concurrency: r.concurrency,
            declared_concurrency: r.declared_concurrency,
            rate: r.rate,
            max_in_flight: r.max_in_flight,
            connections: r.connections,
            warmup: r.warmup,
            op_timeout: r.op_timeout,
            seed: r.seed,
            escalate: r.escalate,
            stages: r.stages.clone(),
            think: r.think,
            cancellable: r.cancellable,
            mix: r.mix,
            flow: r.flow,
        }
    }
}

/// The most steps an escalation can take.
fn escalation_steps(e: &Escalation) -> u32 {
    let mut steps = 1;
    let mut level = e.start;
    while let Some(next) = next_level(level, e) {
        level = next;
        steps += 1;
    }
    steps
}

/// `<target dir>/stress-reports`: `CARGO_TARGET_DIR` if set, else the target
/// directory the running test binary was built into.
pub fn default_report_dir() -> PathBuf {
    default_target_dir().join("stress-reports")
}

/// The target directory: `CARGO_TARGET_DIR` if set, else the one the running
/// test binary was built into.
pub fn default_target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("."));
    target_dir_of(&exe)
}

/// The target directory of a binary at `target/<profile>/deps/<bin>` or
/// `target/<profile>/<bin>`.
fn target_dir_of(exe: &Path) -> PathBuf {
    let mut dir = exe.parent().unwrap_or(Path::new("."));
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().unwrap_or(dir);
    }
    dir.parent().unwrap_or(dir).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::tests_support::DECLARED;

    #[test]
    fn scale_multiplies_durations_and_iterations_only() {
        let env = EnvSettings {
            scale: Some(0.1),
            ..EnvSettings::default()
        };
        let r = resolve(&DECLARED, &env, 0);
        assert_eq!(r.budget, Budget::Duration(Duration::from_secs(1)));
        assert_eq!(r.warmup, Duration::from_millis(100));
        assert_eq!(r.concurrency, 8);
        assert_eq!(r.sample, DEFAULT_SAMPLE);
        let iterations = Declared {
            duration: None,
            iterations: Some(1000),
            ..DECLARED
        };
        assert_eq!(
            resolve(&iterations, &env, 0).budget,
            Budget::Iterations(100)
        );
    }

    #[test]
    fn min_duration_floors_a_scaled_duration_and_never_raises_it() {
        let declared = Declared {
            min_duration: Some(Duration::from_secs(4)),
            ..DECLARED
        };
        let at = |scale| {
            let env = EnvSettings {
                scale: Some(scale),
                ..EnvSettings::default()
            };
            resolve(&declared, &env, 0).budget
        };
        assert_eq!(at(0.1), Budget::Duration(Duration::from_secs(4)));
        assert_eq!(at(0.5), Budget::Duration(Duration::from_secs(5)));
        assert_eq!(at(2.0), Budget::Duration(Duration::from_secs(20)));
    }

    #[test]
    fn environment_seed_wins_over_declared() {
        let env = EnvSettings {
            seed: Some(7),
            ..EnvSettings::default()
        };
        assert_eq!(resolve(&DECLARED, &env, 0).seed, 7);
        assert_eq!(resolve(&DECLARED, &EnvSettings::default(), 0).seed, 42);
    }

    #[test]
    fn explicit_timeout_grows_with_scale_but_never_shrinks() {
        let declared = Declared {
            timeout: Some(Duration::from_secs(60)),
            ..DECLARED
        };
        let up = EnvSettings {
            scale: Some(2.0),
            ..EnvSettings::default()
        };
        let down = EnvSettings {
            scale: Some(0.1),
            ..EnvSettings::default()
        };
        assert_eq!(resolve(&declared, &up, 0).timeout, Duration::from_secs(120));
        assert_eq!(
            resolve(&declared, &down, 0).timeout,
            Duration::from_secs(60)
        );
    }

    #[test]
    fn target_dir_is_found_from_test_binary() {
        assert_eq!(
            target_dir_of(Path::new("/w/target/debug/deps/stress-abc")),
            PathBuf::from("/w/target")
        );
        assert_eq!(
            target_dir_of(Path::new("/w/target/debug/brunt-outcomes")),
            PathBuf::from("/w/target")
        );
    }
}
