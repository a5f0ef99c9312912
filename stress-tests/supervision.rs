//! Seed 001's supervisor tree collapse against a tree on `ractor` with
//! `ractor-supervisor`: the seed's phases 0–7, its 22 expectations checked
//! and counted, every supervisor event on the timeline, restart and
//! recovery times measured. `SUPERVISION_BREAK=intensity|zombie` switches
//! on the seed's two bugs (see the README).

use brunt::prelude::*;

/// The correct tree passes; each of the seed's bugs fails it with the
/// seed's finding (`fail_on = "warning"`: the seed's HIGH is a warning).
#[brunt::stress(
    sample = "20ms",
    timeout = "1m",
    fail_on = "warning",
    tags = ["seed-001", "supervision", "ractor", "chaos"],
    criteria(
        expectations_met == 22,
        expectations_failed == 0,
        core.max_restarts_in_window <= 5,
        already_started == 0,
        collapsed == 0,
        orphans == 0,
        processes_after == 22,
        restart_time.p99 <= 50ms,
        mttr <= 1s,
    ),
)]
async fn tree_collapse(s: &mut Stress) -> anyhow::Result<()> {
    brunt_fixtures::supervision::scenario::tree_collapse(s).await
}
