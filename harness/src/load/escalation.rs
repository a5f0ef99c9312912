//! Escalation: a load model run in steps of rising load until a condition
//! breaks, to find where a system stops keeping up (the "concurrent
//! tsunami" of a hand-written report, done with measurements). The closed
//! model raises its workers; the open model raises its arrival rate (k6's
//! ramping-arrival-rate, which finds a server's throughput knee without the
//! coordinated omission of a closed loop).

use std::time::Duration;

use crate::criteria::Criterion;

/// `escalate(start = 8, factor = 2, max = 1024, step = "10s", until(...))`
/// (workers) or `escalate(start = "100/s", …, max = "50000/s", …)`
/// (arrivals per second) as declared.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// the breaking point.
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
