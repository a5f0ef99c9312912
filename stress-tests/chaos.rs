//! Seeds 002 and 004 under chaos: the monkey against the supervision tree
//! and the MCP kernel, and the chaos storm against the kernel under load.
//! Both draw their faults from the scenario's seed; a failure is shrunk to
//! the smallest schedule that still fails, with the command that replays it.

use brunt::prelude::*;

/// Seed 002's chaos monkey: a fault every 100 ms for a minute (an hour at
/// `BRUNT_SCALE=60`), weighted by category as the seed: process 30, memory
/// 20, network 20 (through a fault proxy), state 15, timing 15. After each,
/// the tree must be whole with no orphan and the kernel must answer.
/// `SUPERVISION_BREAK=zombie` plants seed 001's zombie supervisor: the run
/// fails and is shrunk to the fault that exposes it.
#[brunt::stress(
    duration = "60s",
    sample = "100ms",
    tags = ["seed-002", "chaos", "supervision", "ractor", "mcp"],
    criteria(
        chaos.survival_rate == 100%,
        chaos.failures == 0,
        recovery.time.p99 <= 1s,
        recovery.time.max <= 5s,
    ),
)]
async fn monkey(s: &mut Stress) -> anyhow::Result<()> {
    brunt_fixtures::chaos::monkey::monkey(s).await
}

/// Seed 004's chaos storm: memory pressure, CPU burn, I/O storms and
/// recursive spawning, at most 79 chaos tasks at once, against the MCP
/// kernel while four workers call its calculator; the load is judged
/// before, during and after the storm.
#[brunt::stress(
    duration = "65s",
    // 3.5 s of steady load each side of the storm and at least 2 s of
    // storm, at any scale.
    min_duration = "9s",
    concurrency = 4,
    sample = "100ms",
    tags = ["seed-004", "chaos", "mcp"],
    criteria(
        chaos.survival_rate == 100%,
        chaos.before.success_rate == 100%,
        chaos.during.success_rate >= 99%,
        chaos.after.success_rate == 100%,
        recovery.latency <= 5s,
        recovery.time.max <= 5s,
        chaos_tasks.peak <= 79,
    ),
)]
async fn storm(s: &mut Stress) -> anyhow::Result<()> {
    brunt_fixtures::chaos::storm::chaos_storm(s).await
}
