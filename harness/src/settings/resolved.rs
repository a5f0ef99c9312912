//! The settings one scenario runs with, after merging its declaration with
//! the environment. Parent and child resolve identically, so the parent
//! knows the child's deadline and memory limit without asking it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::load::{Escalation, LoadSettings, Segment, Stage, Stop, next_level};
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

/// Everything one scenario run needs to know, after scaling. The parent
/// resolves it once ([`resolve`]) and hands it to the child whole, as JSON in
/// [`RESOLVED_ENV`]; the child never reads `BRUNT_*` itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// What the load runs.
    pub(crate) load: LoadSettings,
    /// Resource sampling interval (not scaled: it is a resolution, not load).
    pub sample: Duration,
    /// Hard deadline of the child process.
    pub timeout: Duration,
    /// Resident-memory limit of the child, in bytes.
    pub memory_limit: Option<u64>,
    /// `BRUNT_SCALE`.
    pub scale: f64,
    /// Where reports go.
    pub report_dir: PathBuf,
    /// Whether the scenario runs in the test process.
    pub inline: bool,
    /// `BRUNT_REPLAY`: a chaos schedule file to run instead of drawing one.
    pub replay: Option<PathBuf>,
    /// `BRUNT_CHECK_DETERMINISM`: draw each chaos schedule twice and compare.
    pub check_determinism: bool,
}

/// The variable the parent hands a child its [`Resolved`] settings in.
pub(crate) const RESOLVED_ENV: &str = "__BRUNT_RESOLVED";

/// Why a child could not take the settings its parent handed it.
#[derive(Debug, thiserror::Error)]
#[error("the settings handed to this child ({RESOLVED_ENV}) {0}")]
pub struct HandedError(String);

fn scale_duration(d: Duration, scale: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * scale).unwrap_or(Duration::MAX)
}

/// Merges a declaration with the environment. `fallback_seed` is used when
/// neither declares a seed (the parent draws one; the child receives it with
/// the rest, so both agree and the report can be replayed).
pub fn resolve(declared: &Declared, env: &EnvSettings, fallback_seed: u64) -> Resolved {
    let scale = env.scale.unwrap_or(1.0);
    let budget = match (declared.duration, declared.iterations) {
        (Some(d), _) => Some(Stop::After(
            scale_duration(d, scale).max(declared.min_duration.unwrap_or_default().min(d)),
        )),
        (None, Some(n)) => Some(Stop::Count(((n as f64) * scale).ceil().max(1.0) as u64)),
        (None, None) => None,
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
            (Some(Stop::After(d)), None) => 2 * (d + warmup) + DEADLINE_MARGIN,
            _ => DEFAULT_TIMEOUT.max(scale_duration(DEFAULT_TIMEOUT, scale)),
        },
    };
    Resolved {
        load: LoadSettings {
            budget,
            concurrency: declared.concurrency.unwrap_or(1),
            declared_concurrency: declared.concurrency,
            rate: declared.rate,
            max_in_flight: declared.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            connections: declared.connections,
            warmup,
            op_timeout: declared.op_timeout,
            seed: env.seed.or(declared.seed).unwrap_or(fallback_seed),
            escalate,
            stages,
            think: declared.think,
            cancellable: declared.criteria.iter().any(|c| c.abort),
            mix: declared.mix,
            flow: declared.flow,
            segment: env.segment.map_or(Segment::WHOLE, |s| Segment {
                index: s.index - 1,
                count: s.count,
            }),
        },
        sample: declared.sample.unwrap_or(DEFAULT_SAMPLE),
        timeout,
        memory_limit: env.memory_limit.or(declared.memory_limit),
        scale,
        report_dir: env.report_dir.clone().unwrap_or_else(default_report_dir),
        inline: env.inline.unwrap_or(false),
        replay: env.replay.clone(),
        check_determinism: env.check_determinism.unwrap_or(false),
    }
}

impl Resolved {
    /// The seed in force.
    pub fn seed(&self) -> u64 {
        self.load.seed
    }

    /// The measured duration in force, after scaling (if declared).
    pub fn duration(&self) -> Option<Duration> {
        match self.load.budget {
            Some(Stop::After(d)) => Some(d),
            _ => None,
        }
    }

    /// The measured op count in force, after scaling (if declared).
    pub fn iterations(&self) -> Option<u64> {
        match self.load.budget {
            Some(Stop::Count(n)) => Some(n),
            _ => None,
        }
    }

    /// The settings as the child receives them ([`RESOLVED_ENV`]).
    pub(crate) fn to_handed(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The settings a parent handed this child, linked to the declaration
    /// the child runs: what is code there (mixes, flows, think times, an
    /// escalation's conditions) never travels, since the child's binary is
    /// the parent's.
    pub(crate) fn from_handed(text: &str, declared: &Declared) -> Result<Resolved, HandedError> {
        let mut settings: Resolved =
            serde_json::from_str(text).map_err(|e| HandedError(format!("do not parse: {e}")))?;
        let load = &mut settings.load;
        load.think = declared.think;
        load.mix = declared.mix;
        load.flow = declared.flow;
        match (&mut load.escalate, declared.escalate) {
            (Some(escalate), Some(declared)) => escalate.until = declared.until,
            (None, None) => {}
            _ => {
                return Err(HandedError(
                    "disagree with this binary's declaration about escalation".into(),
                ));
            }
        }
        Ok(settings)
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
        assert_eq!(r.duration(), Some(Duration::from_secs(1)));
        assert_eq!(r.load.warmup, Duration::from_millis(100));
        assert_eq!(r.load.concurrency, 8);
        assert_eq!(r.sample, DEFAULT_SAMPLE);
        let iterations = Declared {
            duration: None,
            iterations: Some(1000),
            ..DECLARED
        };
        assert_eq!(resolve(&iterations, &env, 0).iterations(), Some(100));
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
            resolve(&declared, &env, 0).duration()
        };
        assert_eq!(at(0.1), Some(Duration::from_secs(4)));
        assert_eq!(at(0.5), Some(Duration::from_secs(5)));
        assert_eq!(at(2.0), Some(Duration::from_secs(20)));
    }

    #[test]
    fn environment_seed_wins_over_declared() {
        let env = EnvSettings {
            seed: Some(7),
            ..EnvSettings::default()
        };
        assert_eq!(resolve(&DECLARED, &env, 0).seed(), 7);
        assert_eq!(resolve(&DECLARED, &EnvSettings::default(), 0).seed(), 42);
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
    fn a_child_receives_the_parents_settings_whole() {
        use crate::criteria::{CmpOp, Criterion};
        static UNTIL: [Criterion; 1] = [Criterion {
            expr: "latency.p99 <= 50ms",
            metric: "latency.p99",
            op: CmpOp::Le,
            target: 50.0,
            unit: Some(crate::criteria::Unit::Milliseconds),
            window: None,
            abort: false,
            versus: None,
        }];
        let declared = Declared {
            escalate: Some(Escalation {
                start: 2.0,
                factor: 2.0,
                max: 16.0,
                step: Duration::from_secs(4),
                until: &UNTIL,
                open: false,
            }),
            mix: &[("get", 7), ("set", 3)],
            flow: &["login", "browse"],
            think: Some(brunt_grammar::ThinkTime::Fixed(Duration::from_millis(5))),
            ..DECLARED
        };
        let env = EnvSettings {
            scale: Some(0.25),
            memory_limit: Some(1 << 30),
            replay: Some(PathBuf::from("/tmp/a.minimal.json")),
            ..EnvSettings::default()
        };
        let parent = resolve(&declared, &env, 99);
        let handed = parent.to_handed().unwrap();
        let child = Resolved::from_handed(&handed, &declared).unwrap();
        assert_eq!(child, parent);
        assert_eq!(child.load.escalate.unwrap().until, &UNTIL[..]);
        assert_eq!(child.load.escalate.unwrap().step, Duration::from_secs(1));

        let err = Resolved::from_handed("{\"load\":", &declared).unwrap_err();
        assert!(err.to_string().contains(RESOLVED_ENV), "{err}");
        let err = Resolved::from_handed(&handed, &DECLARED).unwrap_err();
        assert!(err.to_string().contains("escalation"), "{err}");
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
