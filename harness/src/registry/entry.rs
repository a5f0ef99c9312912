//! What the attribute declares about one scenario, in a form that generated
//! code can build in a `static`: plain fields, `'static` slices, no heap.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::criteria::Criterion;
use crate::load::{Escalation, Stage};
use crate::stress::Stress;

/// What a scenario body returns; an `Err` is outcome `error`.
pub type ScenarioResult = anyhow::Result<()>;

/// The boxed future of an `async fn` scenario. It need not be `Send`: the
/// body runs on the thread that owns the runtime.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = ScenarioResult> + 'a>>;

/// The scenario function, as the attribute wrapped it.
#[derive(Clone, Copy)]
pub enum Body {
    /// An `async fn`.
    Async(for<'a> fn(&'a mut Stress) -> BoxFuture<'a>),
    /// A plain `fn`, called with the runtime entered.
    Sync(fn(&mut Stress) -> ScenarioResult),
}

/// The attribute's keys as written (before `BRUNT_SCALE` and other
/// environment overrides). `None` means "not declared".
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    /// How long the measured load runs.
    pub duration: Option<Duration>,
    /// How many measured ops run in total.
    pub iterations: Option<u64>,
    /// Workers of the closed model.
    pub concurrency: Option<u32>,
    /// Arrivals per second of the open model.
    pub rate: Option<f64>,
    /// Open model: most ops in flight at once; arrivals beyond it are
    /// dropped (and counted).
    pub max_in_flight: Option<u32>,
    /// Open model: most worker states (a connection each) held at once; an
    /// arrival that finds none idle queues for one, its latency counted
    /// from its intended start.
    pub connections: Option<u32>,
    /// Load before measuring, excluded from every metric.
    pub warmup: Option<Duration>,
    /// The shortest `duration` may become under `BRUNT_SCALE`: for a
    /// scenario whose structure needs time whatever the scale (a chaos
    /// storm with whole seconds of steady load each side).
    pub min_duration: Option<Duration>,
    /// Resource sampling interval.
    pub sample: Option<Duration>,
    /// Hard deadline of the child process.
    pub timeout: Option<Duration>,
    /// Longest an op may take: one past it is an error, recorded with this
    /// latency and counted in `timeouts`.
    pub op_timeout: Option<Duration>,
    /// Findings of this severity or worse fail the scenario.
    pub fail_on: Option<brunt_report::Severity>,
    /// Default seed.
    pub seed: Option<u64>,
    /// Resident memory, in bytes, past which the child is killed.
    pub memory_limit: Option<u64>,
    /// Free-form labels, copied to the report.
    pub tags: &'static [&'static str],
    /// Kinds of finding the run must report (`expect_findings`): each is an
    /// implicit criterion, and an expected finding never fails the
    /// scenario under `fail_on`.
    pub expect_findings: &'static [&'static str],
    /// Acceptance criteria.
    pub criteria: &'static [Criterion],
    /// Escalation: concurrency raised step by step until a condition breaks.
    pub escalate: Option<Escalation>,
    /// Stages: a load ramped linearly from target to target.
    pub stages: &'static [Stage],
    /// Weighted ops `(name, weight)` for `drive_mix`.
    pub mix: &'static [(&'static str, u32)],
    /// Ops each worker runs in order, for `drive_mix`.
    pub flow: &'static [&'static str],
    /// A closed-model worker's pause between ops.
    pub think: Option<brunt_grammar::ThinkTime>,
}

/// One registered scenario.
pub struct ScenarioEntry {
    /// The function's name.
    pub name: &'static str,
    /// `module_path!()` where the function is declared.
    pub module_path: &'static str,
    /// `file!()` of the declaration.
    pub file: &'static str,
    /// `line!()` of the function name.
    pub line: u32,
    /// `CARGO_MANIFEST_DIR` of the crate declaring the scenario; snapshots
    /// are looked for from there.
    pub manifest_dir: &'static str,
    /// The attribute's keys.
    pub declared: Declared,
    /// The function.
    pub body: Body,
    /// How the declaring crate was compiled.
    pub build: super::ScenarioBuild,
}

inventory::collect!(ScenarioEntry);

impl ScenarioEntry {
    /// The trial name: module path without the crate name, then the function,
    /// as libtest names tests (`mcp::echo_roundtrip`, or `echo_roundtrip` at
    /// the crate root).
    pub fn trial_name(&self) -> String {
        match self.module_path.split_once("::") {
            Some((_crate, rest)) => format!("{rest}::{}", self.name),
            None => self.name.to_string(),
        }
    }

    /// The file stem of this scenario's report and snapshot files: the
    /// test target's crate, then the trial name, with `::` replaced by `__`
    /// (which every file system accepts): `stress__kernel__rapid_tool_list`.
    /// The crate keeps two stress targets of one workspace from writing each
    /// other's reports.
    pub fn file_stem(&self) -> String {
        format!("{}::{}", self.module_path, self.name).replace("::", "__")
    }
}

/// A declaration for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod tests_support {
    use std::time::Duration;

    use super::Declared;

    pub(crate) const DECLARED: Declared = Declared {
        duration: Some(Duration::from_secs(10)),
        iterations: None,
        concurrency: Some(8),
        rate: None,
        max_in_flight: None,
        connections: None,
        warmup: Some(Duration::from_secs(1)),
        min_duration: None,
        sample: None,
        timeout: None,
        op_timeout: None,
        fail_on: None,
        seed: Some(42),
        memory_limit: None,
        tags: &[],
        expect_findings: &[],
        criteria: &[],
        escalate: None,
        stages: &[],
        mix: &[],
        flow: &[],
        think: None,
    };
}

#[cfg(test)]
mod tests {
    use super::tests_support::DECLARED;
    use super::*;

    fn entry(module_path: &'static str) -> ScenarioEntry {
        fn body(_: &mut Stress) -> ScenarioResult {
            Ok(())
        }
        ScenarioEntry {
            name: "echo",
            module_path,
            file: "stress.rs",
            line: 1,
            manifest_dir: ".",
            declared: DECLARED,
            body: Body::Sync(body),
            build: super::super::ScenarioBuild {
                frame_probe: super::super::frame_probe::<()>,
                debug_assertions: cfg!(debug_assertions),
            },
        }
    }

    #[test]
    fn two_targets_name_their_files_apart() {
        let a = entry("stress::mcp");
        let b = entry("soak::mcp");
        assert_eq!(
            a.trial_name(),
            b.trial_name(),
            "libtest names drop the target"
        );
        assert_eq!(a.file_stem(), "stress__mcp__echo");
        assert_eq!(b.file_stem(), "soak__mcp__echo");
    }
}
