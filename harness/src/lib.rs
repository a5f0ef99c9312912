//! Brunt: stress and chaos tests as ordinary Rust tests.
//!
//! A scenario is a function with an attribute declaring its load, duration
//! and acceptance criteria. [`main`] runs each scenario in its own child
//! process while a sampler records resources; numeric criteria decide pass
//! or fail; every run writes a JSON report (`brunt.report/v1`).
//!
//! ```no_run
//! use brunt::prelude::*;
//!
//! #[brunt::stress(
//!     iterations = 10_000,
//!     concurrency = 8,
//!     criteria(success_rate >= 99.5%, latency.p99 <= 20ms),
//! )]
//! async fn echo(s: &mut Stress) -> anyhow::Result<()> {
//!     s.drive(|i| async move { Ok::<_, std::io::Error>(i) }).await?;
//!     Ok(())
//! }
//!
//! fn main() {
//!     brunt::main()
//! }
//! ```
//!
//! # How a run's data moves
//!
//! One road, one way, from the op to the page:
//!
//! ```text
//! #[brunt::stress]  ──▶ registry (ScenarioEntry, Declared)
//!                          │  settings: resolved once, in the parent (declaration, BRUNT_*)
//!                          ▼
//! runner ── parent: one child process per scenario, handed its settings whole;
//!   │               deadline, memory guard
//!   │       child:  the body on its runtime, with the sampler beside it
//!   ▼
//! Stress (the handle) ─▶ load::LoadSession ─▶ closed / open models on driver threads
//!   │                       │ per-thread OpRecorder (histograms, counts, per-second slices)
//!   │  measure: ResourceSampler (rss, cpu, fds, threads, heap, the machine)
//!   │  chaos: faults, health checks
//!   ▼ all of them only append
//! journal: <name>.jsonl, one Record per line, flushed as it happens
//!   ▼
//! analysis::fold ─▶ RunRecord ─▶ analysis::assemble: metrics, criteria, verdict
//!   │  (the child when it finishes; the parent, from the file, when it died)
//!   ▼
//! brunt-report: <name>.json (plain data) ─▶ terminal verdict, snapshot check (runner)
//!                                        ─▶ brunt-suite: stress-report, baselines, HTML, JUnit
//! ```
//!
//! The fold is the only place records become a run, so a report recovered
//! from a crashed child has the same shape as one the child wrote itself.
#![warn(missing_docs)]

mod analysis;
pub mod chaos;
mod criteria;
pub mod heap;
mod journal;
mod load;
mod measure;
mod registry;
mod runner;
mod settings;
mod stress;

pub use brunt_grammar::Unit;
pub use brunt_report::{Scope, Severity};
pub use load::{DriveError, DriveSummary, Op, OpResult, OpStatus, Worker, expect_err};
pub use measure::process_cpu_time;
pub use runner::main;
pub use stress::Stress;

/// Declares a stress scenario.
///
/// On an `fn` or `async fn` taking `&mut Stress` and returning
/// `anyhow::Result<()>`. Every key is optional:
///
/// | key | value | meaning |
/// | --- | --- | --- |
/// | `duration` | `"10s"` | measured load runs this long (scaled by `BRUNT_SCALE`) |
/// | `iterations` | `10_000` | exactly this many measured ops (scaled) |
/// | `concurrency` | `8` | closed model: this many workers (default 1) |
/// | `rate` | `"500/s"` | open model: arrivals per second (never scaled) |
/// | `max_in_flight` | `1000` | open model: most ops in flight; arrivals beyond it are dropped and counted |
/// | `connections` | `16` | open model: most worker states held at once; arrivals finding none idle queue for one |
/// | `warmup` | `"1s"` | load before measuring, excluded from metrics (scaled) |
/// | `sample` | `"100ms"` | resource sampling interval (default 100 ms) |
/// | `timeout` | `"2m"` | hard deadline of the child (default 2 × (warmup + duration) + 30 s, or 5 min) |
/// | `op_timeout` | `"5s"` | longest an op may take: past it, an error with that latency, counted in `timeouts` |
/// | `fail_on` | `"critical"` | findings of this severity (or `"warning"` and worse) fail the scenario |
/// | `seed` | `42` | default seed; `BRUNT_SEED` overrides |
/// | `memory_limit` | `"512MiB"` | resident memory of the scenario, or of its watched processes, past which it is stopped |
/// | `tags` | `["mcp"]` | labels copied to the report |
/// | `expect_findings` | `["memory_leak"]` | kinds of finding the run must report (each a criterion) |
/// | `criteria(...)` | `latency.p99 <= 20ms, …` | acceptance criteria |
/// | `stages` | `["10s:100", "30s:1000"]` | a load ramped linearly from target to target (workers, or arrivals per second with `rate`) |
/// | `escalate(...)` | `escalate(start = 8, factor = 2, max = 1024, step = "10s", until(latency.p99 <= 50ms))` | steps of rising workers (or, with `start = "100/s"`, arrival rates) until a condition breaks |
///
/// `duration` and `iterations` exclude each other, as do `concurrency` and
/// `rate`. A criterion is `METRIC OP NUMBER[UNIT]` (or `METRIC OP [FACTOR *]
/// METRIC`, against another metric of the run), `OP` one of
/// `>= > <= < == !=`, `UNIT` one of `% /s ns us ms s B KiB MiB GiB` (and
/// `B/s KiB/s MiB/s GiB/s` for slopes). The unit must fit the metric: a
/// latency needs a time, `success_rate` needs `%`, a count takes none.
/// Every mistake is a compile error on the offending token.
pub use brunt_macros::stress;

/// What a scenario file needs: `use brunt::prelude::*;`.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::chaos::{Fault, FaultCtx};
    #[doc(no_inline)]
    pub use crate::{
        DriveError, DriveSummary, Op, OpResult, OpStatus, Scope, Severity, Stress, Unit, Worker,
        expect_err,
    };
}

/// Items only generated code uses. Not public API: outside SemVer, may
/// change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::criteria::{CmpOp, Criterion, Unit};
    pub use crate::load::{Escalation, Stage};
    pub use crate::registry::{
        Body, BoxFuture, Declared, ScenarioBuild, ScenarioEntry, ScenarioResult, frame_probe,
    };
    pub use brunt_grammar::ThinkTime;
    pub use brunt_report::Severity;
    pub use inventory;
}
