//! The one error type of the grammar: each variant names the offending text
//! and says what would have been accepted.

use std::fmt;

/// A value that does not follow Brunt's grammar.
#[derive(Debug, Clone, PartialEq)]
pub enum GrammarError {
    /// The text was empty.
    Empty {
        /// What kind of value was expected (`duration`, `size`, …).
        what: &'static str,
    },
    /// The number part could not be read.
    BadNumber {
        /// The whole input.
        input: String,
        /// What kind of value was expected.
        what: &'static str,
    },
    /// A number without the unit this kind of value needs.
    MissingUnit {
        /// The whole input.
        input: String,
        /// Units that would be accepted.
        expected: &'static str,
    },
    /// A unit Brunt does not know for this kind of value.
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// Units that would be accepted.
        expected: &'static str,
    },
    /// An operator outside `>= > <= < == !=`.
    UnknownOperator {
        /// The operator as written.
        op: String,
    },
    /// A malformed metric name.
    BadMetricName {
        /// The name as written.
        name: String,
    },
    /// A name inside a built-in namespace (or within two edits of a built-in
    /// name) that is not a built-in metric: almost certainly a typo.
    UnknownBuiltin {
        /// The name as written.
        name: String,
        /// The closest built-in names, if any is close.
        suggestions: Vec<&'static str>,
    },
    /// The criterion's unit measures something other than the metric.
    UnitMismatch {
        /// The metric name.
        metric: String,
        /// What the metric measures.
        metric_dimension: &'static str,
        /// The unit written in the criterion, or `none`.
        unit: String,
        /// Units that would be accepted for this metric.
        expected: &'static str,
    },
    /// A criterion that is not `METRIC OP NUMBER[UNIT]`.
    BadCriterion {
        /// The whole input.
        input: String,
    },
    /// A value Brunt reads once written its way, e.g. a duration in words.
    Rewrite {
        /// The whole input.
        input: String,
        /// The same value as Brunt writes it.
        write: String,
    },
    /// A value that parsed but is out of its allowed range.
    OutOfRange {
        /// The whole input.
        input: String,
        /// The rule that was broken.
        rule: &'static str,
    },
}

impl fmt::Display for GrammarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrammarError::Empty { what } => write!(f, "empty {what}"),
            GrammarError::BadNumber { input, what } => {
                write!(f, "cannot read a number in {what} `{input}`")
            }
            GrammarError::MissingUnit { input, expected } => {
                write!(f, "`{input}` has no unit; expected one of {expected}")
            }
            GrammarError::UnknownUnit { unit, expected } => {
                write!(f, "unknown unit `{unit}`; expected one of {expected}")
            }
            GrammarError::UnknownOperator { op } => write!(
                f,
                "unknown operator `{op}`; expected one of >= > <= < == !="
            ),
            GrammarError::BadMetricName { name } => write!(
                f,
                "`{name}` is not a metric name; use lowercase words joined by `_` and `.`"
            ),
            GrammarError::UnknownBuiltin { name, suggestions } => {
                write!(f, "unknown metric `{name}`")?;
                match suggestions.as_slice() {
                    [] => write!(
                        f,
                        "; names under `latency.`, `service_time.`, `generator.`, `sampler.`, `rss.`, `cpu.`, `heap.`, `op.`, `setup.`, `threads.`, `fds.` and `target.` are reserved for built-in metrics (per-op metrics are `op.<name>.<metric>`, such as `op.tools_list.latency.p99`)"
                    ),
                    [only] => write!(f, "; did you mean `{only}`?"),
                    [init @ .., last] => {
                        let init: Vec<String> = init.iter().map(|s| format!("`{s}`")).collect();
                        write!(f, "; did you mean {} or `{last}`?", init.join(", "))
                    }
                }
            }
            GrammarError::UnitMismatch {
                metric,
                metric_dimension,
                unit,
                expected,
            } => write!(
                f,
                "`{metric}` is {metric_dimension}, but the criterion's unit is `{unit}`; expected {expected}"
            ),
            GrammarError::BadCriterion { input } => write!(
                f,
                "cannot read criterion `{input}`; expected `METRIC OP NUMBER[UNIT]`, e.g. `latency.p99 <= 20ms`"
            ),
            GrammarError::Rewrite { input, write } => write!(f, "`{input}`: write `{write}`"),
            GrammarError::OutOfRange { input, rule } => write!(f, "`{input}`: {rule}"),
        }
    }
}

impl std::error::Error for GrammarError {}
