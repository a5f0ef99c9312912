//! Criteria: `METRIC OP NUMBER[UNIT]`. The macro checks them at compile time
//! from tokens; the runtime and tools read the same grammar from text.

use std::fmt;

use crate::unit::CRITERION_UNITS;
use crate::{Dimension, GrammarError, Unit, check_metric_name, parse_number};

/// A comparison operator of a criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl CmpOp {
    /// Reads an operator as written.
    pub fn parse(text: &str) -> Result<CmpOp, GrammarError> {
        Ok(match text {
            ">=" => CmpOp::Ge,
            ">" => CmpOp::Gt,
            "<=" => CmpOp::Le,
            "<" => CmpOp::Lt,
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            other => {
                return Err(GrammarError::UnknownOperator {
                    op: other.to_string(),
                });
            }
        })
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Ge => ">=",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Lt => "<",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    /// Whether `actual OP target` holds. Equality allows a relative error
    /// of 1e-9, so a value converted between units still compares equal.
    pub fn holds(self, actual: f64, target: f64) -> bool {
        let equal = (actual - target).abs() <= 1e-9 * actual.abs().max(target.abs());
        match self {
            CmpOp::Ge => actual >= target || equal,
            CmpOp::Gt => actual > target && !equal,
            CmpOp::Le => actual <= target || equal,
            CmpOp::Lt => actual < target && !equal,
            CmpOp::Eq => equal,
            CmpOp::Ne => !equal,
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A criterion read from text, target still in the unit it was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCriterion {
    /// The metric it constrains.
    pub metric: String,
    /// The comparison.
    pub op: CmpOp,
    /// The number as written.
    pub value: f64,
    /// The unit as written; `None` for a plain number.
    pub unit: Option<Unit>,
}

/// Checks that a criterion's unit fits what a built-in metric measures.
/// Custom metrics (`dimension == None`) are checked at run time against the
/// unit they were recorded in.
pub fn check_criterion_unit(
    metric: &str,
    dimension: Option<Dimension>,
    unit: Option<Unit>,
) -> Result<(), GrammarError> {
    let Some(dimension) = dimension else {
        return Ok(());
    };
    let fits = match unit {
        None => dimension == Dimension::Count,
        Some(u) => u.dimension() == dimension && u != Unit::Count,
    };
    if fits {
        Ok(())
    } else {
        Err(GrammarError::UnitMismatch {
            metric: metric.to_string(),
            metric_dimension: dimension.describe(),
            unit: unit.map_or("none".to_string(), |u| u.symbol().to_string()),
            expected: dimension.accepted_units(),
        })
    }
}

/// Parses `METRIC OP NUMBER[UNIT]` from text, e.g. `latency.p99 <= 20ms`,
/// and checks the metric name and the unit.
pub fn parse_criterion(input: &str) -> Result<ParsedCriterion, GrammarError> {
    let text = input.trim();
    let bad = || GrammarError::BadCriterion {
        input: input.to_string(),
    };
    let op_start = text.find(['<', '>', '=', '!']).ok_or_else(bad)?;
    let metric = text[..op_start].trim();
    let after_metric = &text[op_start..];
    let op_len = after_metric
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))
        .unwrap_or(after_metric.len());
    let op = CmpOp::parse(&after_metric[..op_len])?;
    let target = after_metric[op_len..].trim();
    let number_end = target
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || *c == '_' || (*i == 0 && *c == '-')))
        .map(|(i, _)| i)
        .unwrap_or(target.len());
    let value = parse_number(&target[..number_end]).ok_or_else(bad)?;
    let unit_text = target[number_end..].trim();
    let unit = if unit_text.is_empty() {
        None
    } else {
        let unit = Unit::from_symbol(unit_text).map_err(|_| GrammarError::UnknownUnit {
            unit: unit_text.to_string(),
            expected: CRITERION_UNITS,
        })?;
        if unit == Unit::Count {
            return Err(GrammarError::UnknownUnit {
                unit: unit_text.to_string(),
                expected: CRITERION_UNITS,
            });
        }
        Some(unit)
    };
    let dimension = check_metric_name(metric)?;
    check_criterion_unit(metric, dimension, unit)?;
    Ok(ParsedCriterion {
        metric: metric.to_string(),
        op,
        value,
        unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_contract_examples() {
        let c = parse_criterion("latency.p99 <= 20ms").unwrap();
        assert_eq!(c.metric, "latency.p99");
        assert_eq!(c.op, CmpOp::Le);
        assert_eq!(c.value, 20.0);
        assert_eq!(c.unit, Some(Unit::Milliseconds));
        let c = parse_criterion("success_rate >= 99.5%").unwrap();
        assert_eq!((c.value, c.unit), (99.5, Some(Unit::Percent)));
        let c = parse_criterion("throughput >= 1000/s").unwrap();
        assert_eq!(c.unit, Some(Unit::PerSecond));
        let c = parse_criterion("rss.growth <= 16MiB").unwrap();
        assert_eq!(c.unit, Some(Unit::MiB));
        let c = parse_criterion("errors == 0").unwrap();
        assert_eq!((c.op, c.unit), (CmpOp::Eq, None));
        let c = parse_criterion("sessions_open != 3").unwrap();
        assert_eq!(c.op, CmpOp::Ne);
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(matches!(
            parse_criterion("latency.p99 => 20ms"),
            Err(GrammarError::UnknownOperator { .. })
        ));
        assert!(matches!(
            parse_criterion("latency.p99 <= 20min"),
            Err(GrammarError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_criterion("latency.p99 <= 20MiB"),
            Err(GrammarError::UnitMismatch { .. })
        ));
        assert!(matches!(
            parse_criterion("success_rate >= 99.5"),
            Err(GrammarError::UnitMismatch { .. })
        ));
        assert!(matches!(
            parse_criterion("ops"),
            Err(GrammarError::BadCriterion { .. })
        ));
    }

    #[test]
    fn operators_compare() {
        assert!(CmpOp::Ge.holds(2.0, 2.0));
        assert!(!CmpOp::Gt.holds(2.0, 2.0));
        assert!(CmpOp::Lt.holds(1.0, 2.0));
        assert!(CmpOp::Eq.holds(0.1 + 0.2, 0.3));
        assert!(CmpOp::Ne.holds(1.0, 2.0));
        assert!(!CmpOp::Le.holds(f64::NAN, 1.0));
    }
}
