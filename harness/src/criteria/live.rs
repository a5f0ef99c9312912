//! `abort(...)` criteria judged live: every sampling interval the sampler
//! hands over what is already known (op counts, resource peaks) and, once an
//! abort criterion can no longer hold, the reason comes back. They watch only
//! metrics that never decrease, under upper bounds, so "failing now" means
//! "can never pass": stopping early loses nothing the verdict needed.
//!
//! This module only judges; the runner wires it to the sampler and to the
//! load models' stop signal, so the arrows keep running one way.

use std::collections::BTreeMap;

use crate::criteria::{Criterion, Unit, Windows, evaluate};
use brunt_report::MetricValue;

/// One value known while the run is going: a metric name, its value in the
/// unit's base terms (counts, bytes), and the unit.
pub(crate) type LiveValue = (String, f64, Unit);

/// The `abort(...)` criteria of a scenario.
#[derive(Debug, Clone)]
pub(crate) struct AbortCriteria {
    criteria: Vec<Criterion>,
}

impl AbortCriteria {
    /// The `abort(...)` criteria among `criteria`.
    pub(crate) fn new(criteria: &[Criterion]) -> AbortCriteria {
        AbortCriteria {
            criteria: criteria.iter().filter(|c| c.abort).copied().collect(),
        }
    }

    /// Whether there is anything to watch.
    pub(crate) fn is_empty(&self) -> bool {
        self.criteria.is_empty()
    }

    /// Judges the criteria on live values at `t_ms` since the run started;
    /// the reason of the first that can no longer hold, if one cannot.
    pub(crate) fn check(&self, live: &[LiveValue], t_ms: f64) -> Option<String> {
        if self.criteria.is_empty() {
            return None;
        }
        let metrics: BTreeMap<String, MetricValue> = live
            .iter()
            .map(|(name, value, unit)| {
                (
                    name.clone(),
                    MetricValue {
                        value: Some(*value),
                        unit: *unit,
                        scope: brunt_report::Scope::Observed,
                        note: None,
                    },
                )
            })
            .collect();
        let verdict = evaluate(&self.criteria, None, false, &metrics, &Windows::new())
            .into_iter()
            // A metric not measured yet (no watched process) is not a trip.
            .find(|v| !v.passed && v.actual.is_some())?;
        Some(format!(
            "aborted at {:.1}s: `{}` can no longer hold ({})",
            t_ms / 1e3,
            verdict.expr,
            verdict.reason
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criteria::{CmpOp, Unit};

    const ERRORS: Criterion = Criterion {
        expr: "abort(errors <= 100)",
        metric: "errors",
        op: CmpOp::Le,
        target: 100.0,
        unit: None,
        window: None,
        abort: true,
        versus: None,
    };

    fn errors(n: f64) -> Vec<LiveValue> {
        vec![("errors".to_string(), n, Unit::Count)]
    }

    #[test]
    fn trips_when_the_bound_is_crossed() {
        let watch = AbortCriteria::new(&[ERRORS]);
        assert_eq!(watch.check(&errors(100.0), 500.0), None);
        let reason = watch.check(&errors(101.0), 1500.0).unwrap();
        assert!(
            reason.contains("aborted at 1.5s") && reason.contains("errors <= 100"),
            "{reason}"
        );
    }

    #[test]
    fn a_metric_not_known_yet_is_not_a_trip() {
        let watch = AbortCriteria::new(&[ERRORS]);
        assert_eq!(watch.check(&[], 500.0), None);
    }
}
