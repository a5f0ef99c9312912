//! Live watch of `abort(...)` criteria: the sampler evaluates them every
//! interval on what is already known (op counts, resource peaks) and, once
//! one can no longer hold, cancels the load and says why. They watch only
//! metrics that never decrease, under upper bounds, so "failing now" means
//! "can never pass": stopping early loses nothing the verdict needed.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::criteria::{Criterion, Unit, Windows, evaluate};
use crate::load::Cancel;
use crate::report::MetricValue;

/// The abort criteria of a run and where to signal a trip.
#[derive(Clone)]
pub(crate) struct AbortWatch {
    criteria: Vec<Criterion>,
    cancel: Cancel,
    reason: Arc<Mutex<Option<(f64, String)>>>,
}

impl AbortWatch {
    /// A watch over the `abort(...)` criteria among `criteria`, if any.
    pub(crate) fn new(criteria: &[Criterion], cancel: Cancel) -> AbortWatch {
        AbortWatch {
            criteria: criteria.iter().filter(|c| c.abort).copied().collect(),
            cancel,
            reason: Arc::default(),
        }
    }

    /// The signal the load models check.
    pub(crate) fn cancel(&self) -> Cancel {
        Arc::clone(&self.cancel)
    }

    /// Whether there is anything to watch.
    pub(crate) fn is_empty(&self) -> bool {
        self.criteria.is_empty()
    }

    /// Why the run was aborted, if it was.
    pub(crate) fn reason(&self) -> Option<String> {
        self.tripped().map(|(_, reason)| reason)
    }

    /// When (ms since the run started) and why the run was aborted.
    pub(crate) fn tripped(&self) -> Option<(f64, String)> {
        self.reason.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Evaluates the criteria on live values (name → value in base units:
    /// counts or bytes); on the first that fails, cancels the load and
    /// returns the reason (once).
    pub(crate) fn check(&self, live: &[(&str, f64, Unit)], t_ms: f64) -> Option<String> {
        if self.criteria.is_empty() || self.cancel.load(Ordering::Relaxed) {
            return None;
        }
        let metrics: BTreeMap<String, MetricValue> = live
            .iter()
            .map(|(name, value, unit)| {
                (
                    name.to_string(),
                    MetricValue {
                        value: Some(*value),
                        unit: unit.symbol().to_string(),
                        scope: "live".into(),
                        note: None,
                    },
                )
            })
            .collect();
        let verdict = evaluate(&self.criteria, None, &metrics, &Windows::new())
            .into_iter()
            // A metric not measured yet (no watched process) is not a trip.
            .find(|v| !v.passed && v.actual.is_some())?;
        let reason = format!(
            "aborted at {:.1}s: `{}` can no longer hold ({})",
            t_ms / 1e3,
            verdict.expr,
            verdict.reason
        );
        self.cancel.store(true, Ordering::Relaxed);
        if let Ok(mut slot) = self.reason.lock() {
            *slot = Some((t_ms, reason.clone()));
        }
        Some(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criteria::CmpOp;

    const ERRORS: Criterion = Criterion {
        expr: "abort(errors <= 100)",
        metric: "errors",
        op: CmpOp::Le,
        target: 100.0,
        unit: None,
        window: None,
        abort: true,
    };

    #[test]
    fn trips_once_when_the_bound_is_crossed() {
        let cancel = Cancel::default();
        let watch = AbortWatch::new(&[ERRORS], cancel.clone());
        assert_eq!(watch.check(&[("errors", 100.0, Unit::Count)], 500.0), None);
        assert!(!cancel.load(Ordering::Relaxed));
        let reason = watch
            .check(&[("errors", 101.0, Unit::Count)], 1500.0)
            .unwrap();
        assert!(
            reason.contains("aborted at 1.5s") && reason.contains("errors <= 100"),
            "{reason}"
        );
        assert!(cancel.load(Ordering::Relaxed));
        assert_eq!(
            watch.check(&[("errors", 200.0, Unit::Count)], 2000.0),
            None,
            "once"
        );
        assert_eq!(watch.reason(), Some(reason));
    }
}
