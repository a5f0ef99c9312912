//! Seed 000's process explosion: a million tokio tasks, each with a
//! mailbox, spawned as fast as the runtime starts them, a `system_limit`
//! refusal past the limit, round trips and scheduler probes while they all
//! live, then half of them stopped and a thousand new ones started, every
//! step timed. The same for OS threads, to a limit this machine allows.
//! The limit scales with `BRUNT_SCALE` (1,048,576 tasks at 1).

use brunt::prelude::*;
use brunt_fixtures::explosion::scenario::{SEED_LIMIT, explode};
use brunt_fixtures::explosion::{LiveTasks, LiveThreads};

/// The global allocator every memory figure is measured under.
const ALLOCATOR: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else {
    "system allocator (glibc malloc)"
};

/// OS threads at `BRUNT_SCALE=1`.
const THREAD_LIMIT: usize = 16_384;

/// The smallest limit at any scale: with half the crowd stopped, room for
/// the seed's 1,000 new ones (and its 1,000 refused spawns past the limit).
const MIN_LIMIT: usize = 2048;

fn scaled(count: usize, scale: f64) -> usize {
    ((count as f64 * scale).round() as usize).max(MIN_LIMIT)
}

/// 1,048,576 tokio tasks (× `BRUNT_SCALE`), each waiting on its mailbox:
/// the seed's six metrics under its names and scopes, bytes per task from
/// resident memory and the exact heap, responsiveness at the limit
/// (`latency.*` is a ping round trip to a task anywhere in the crowd,
/// `probe_latency.*` a new task's wait to first run), and recovery.
#[brunt::stress(
    iterations = 20_000,
    sample = "50ms",
    timeout = "5m",
    tags = ["seed-000", "explosion", "tasks", "memory"],
    criteria(
        limit_fill == 100%,
        spawns_refused == 1000,
        vm_survived == 1,
        success_rate == 100%,
        latency.p99 <= 5ms,
        probe_latency.p99 <= 5ms,
        heap_returned_pct >= 45%,
        respawns_answering == 1000,
        recovery_time_ms <= 5s,
    ),
)]
async fn tasks(s: &mut Stress) -> anyhow::Result<()> {
    let limit = scaled(SEED_LIMIT, s.scale());
    explode(s, LiveTasks::with_limit(limit), ALLOCATOR).await
}

/// OS threads (64 KiB stacks, each blocked on its mailbox) up to 16,384
/// (× `BRUNT_SCALE`), or half of what this machine still allows if that is
/// fewer: the same figures as for tasks, for the comparison.
#[brunt::stress(
    iterations = 5_000,
    sample = "50ms",
    timeout = "5m",
    tags = ["seed-000", "explosion", "threads", "memory"],
    criteria(
        limit_fill == 100%,
        spawns_refused == 1000,
        vm_survived == 1,
        success_rate == 100%,
        respawns_answering == 1000,
        recovery_time_ms <= 10s,
    ),
)]
async fn threads(s: &mut Stress) -> anyhow::Result<()> {
    let mut limit = scaled(THREAD_LIMIT, s.scale());
    match LiveThreads::machine_allowance() {
        Some(allowed) => limit = limit.min(allowed / 2),
        None => s.event("setup", "this machine's thread allowance could not be read"),
    }
    explode(s, LiveThreads::with_limit(limit), ALLOCATOR).await
}
