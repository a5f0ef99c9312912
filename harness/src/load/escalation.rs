//! Escalation: a load model run in steps of rising load until a condition
//! breaks, to find where a system stops keeping up (the "concurrent
//! tsunami" of a hand-written report, done with measurements). The closed
//! model raises its workers; the open model raises its arrival rate (k6's
//! ramping-arrival-rate, which finds a server's throughput knee without the
//! coordinated omission of a closed loop).

use std::time::Duration;

use crate::criteria::Criterion;
use crate::measure::OpTotals;
use brunt_report::{Finding, Step};

/// `escalate(start = 8, factor = 2, max = 1024, step = "10s", until(...))`
/// (workers) or `escalate(start = "100/s", …, max = "50000/s", …)`
/// (arrivals per second) as declared.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Escalation {
    /// Level of the first step: workers, or arrivals per second when `open`.
    pub start: f64,
    /// Each step's level is the previous one's times this (above 1).
    pub factor: f64,
    /// Highest level tried.
    pub max: f64,
    /// Length of each step (scaled by `BRUNT_SCALE`).
    pub step: Duration,
    /// Conditions every step must meet; the first step that misses one is
    /// the breaking point. Code of the declaration, not a setting: it does
    /// not travel to the child with the settings, which links it again from
    /// its own binary (`Resolved::link`).
    #[serde(skip)]
    pub until: &'static [Criterion],
    /// Whether the levels are arrival rates of the open model (else
    /// closed-model workers).
    pub open: bool,
}

/// The level after `level`: multiplied by `factor` (workers: rounded up,
/// at least one more), at most `max`; `None` once `max` was tried.
pub(crate) fn next_level(level: f64, escalation: &Escalation) -> Option<f64> {
    if level >= escalation.max {
        return None;
    }
    let raised = if escalation.open {
        level * escalation.factor
    } else {
        (level * escalation.factor).ceil().max(level + 1.0)
    };
    Some(raised.min(escalation.max))
}

/// What one step ran: its level (workers, or arrivals per second), when it
/// began (ms since the run started), how long it took and what it measured.
pub(crate) struct StepRun<'a> {
    pub(crate) level: f64,
    pub(crate) start_ms: f64,
    pub(crate) elapsed: Duration,
    pub(crate) totals: &'a OpTotals,
    /// Whether an abort criterion cut the step short.
    pub(crate) aborted: bool,
    /// The escalation's `until` conditions.
    pub(crate) until: &'a [Criterion],
    /// Whether the steps are arrival rates (else workers).
    pub(crate) open: bool,
}

/// Judges one step: held or broken, and the finding of a generator that
/// could not offer the step's rate. The analysis supplies it (the load
/// models run steps; what a step's figures come to is not theirs to say).
pub(crate) type StepJudge = fn(StepRun<'_>) -> (Step, Option<Finding>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_rise_by_factor_up_to_max() {
        let e = Escalation {
            start: 3.0,
            factor: 2.0,
            max: 20.0,
            step: Duration::from_secs(1),
            until: &[],
            open: false,
        };
        let levels = |e: &Escalation| {
            let mut levels = vec![e.start];
            while let Some(next) = next_level(*levels.last().unwrap(), e) {
                levels.push(next);
            }
            levels
        };
        assert_eq!(levels(&e), [3.0, 6.0, 12.0, 20.0]);
        let slow = Escalation { factor: 1.01, ..e };
        assert_eq!(
            next_level(3.0, &slow),
            Some(4.0),
            "always at least one more"
        );
        let rates = Escalation {
            start: 100.0,
            factor: 1.5,
            max: 500.0,
            open: true,
            ..e
        };
        assert_eq!(levels(&rates), [100.0, 150.0, 225.0, 337.5, 500.0]);
    }
}
