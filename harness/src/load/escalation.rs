//! Escalation: the closed model run in steps of rising concurrency until a
//! condition breaks, to find where a system stops keeping up (the
//! "concurrent tsunami" of a hand-written report, done with measurements).

use std::time::Duration;

use crate::criteria::Criterion;

/// `escalate(start = 8, factor = 2, max = 1024, step = "10s", until(...))`
/// as declared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Escalation {
    /// Concurrency of the first step.
    pub start: u32,
    /// Each step's concurrency is the previous one's times this (above 1).
    pub factor: f64,
    /// Highest concurrency tried.
    pub max: u32,
    /// Length of each step (scaled by `BRUNT_SCALE`).
    pub step: Duration,
    /// Conditions every step must meet; the first step that misses one is
    /// the breaking point.
    pub until: &'static [Criterion],
}

/// The concurrency after `level`: multiplied by `factor`, at least one
/// more, at most `max`; `None` once `max` was tried.
pub(crate) fn next_level(level: u32, escalation: &Escalation) -> Option<u32> {
    if level >= escalation.max {
        return None;
    }
    let raised = (f64::from(level) * escalation.factor).ceil() as u32;
    Some(raised.max(level + 1).min(escalation.max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_rise_by_factor_up_to_max() {
        let e = Escalation {
            start: 3,
            factor: 2.0,
            max: 20,
            step: Duration::from_secs(1),
            until: &[],
        };
        let mut levels = vec![e.start];
        while let Some(next) = next_level(*levels.last().unwrap(), &e) {
            levels.push(next);
        }
        assert_eq!(levels, [3, 6, 12, 20]);
        let slow = Escalation { factor: 1.01, ..e };
        assert_eq!(next_level(3, &slow), Some(4), "always at least one more");
    }
}
