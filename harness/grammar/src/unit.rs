//! Units of measurement: what a metric's value is counted in, and the
//! suffixes a criterion's target may carry. Every unit belongs to one
//! [`Dimension`]; values of one dimension compare after conversion to its
//! base unit (count, percent, ops/s, nanoseconds, bytes, bytes/s).

use std::fmt;

use crate::GrammarError;

/// What a quantity measures. Two values compare only within one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// A plain count (ops, errors, threads).
    Count,
    /// A percentage, 0–100 (or above 100 for CPU on several cores).
    Percent,
    /// Events per second.
    Rate,
    /// A span of time.
    Time,
    /// An amount of memory.
    Size,
    /// Memory per second (a growth slope).
    SizeRate,
}

impl Dimension {
    /// A phrase for error messages: "a time", "a size", …
    pub fn describe(self) -> &'static str {
        match self {
            Dimension::Count => "a plain count",
            Dimension::Percent => "a percentage",
            Dimension::Rate => "a rate",
            Dimension::Time => "a time",
            Dimension::Size => "a size",
            Dimension::SizeRate => "a size per second",
        }
    }

    /// The units a criterion may use for this dimension, for error messages.
    pub fn accepted_units(self) -> &'static str {
        match self {
            Dimension::Count => "a number without unit",
            Dimension::Percent => "`%`",
            Dimension::Rate => "`/s`",
            Dimension::Time => "one of `ns` `us` `ms` `s`",
            Dimension::Size => "one of `B` `KiB` `MiB` `GiB`",
            Dimension::SizeRate => "one of `B/s` `KiB/s` `MiB/s` `GiB/s`",
        }
    }
}

/// The unit a metric's value is expressed in.
///
/// Criteria compare in base units, so a metric recorded in `Milliseconds`
/// meets `latency <= 20ms` and `latency <= 20000us` alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A plain count (`count`).
    Count,
    /// Percent, 0–100 (`%`).
    Percent,
    /// Per second (`/s`), e.g. ops/s.
    PerSecond,
    /// Nanoseconds (`ns`).
    Nanoseconds,
    /// Microseconds (`us`).
    Microseconds,
    /// Milliseconds (`ms`).
    Milliseconds,
    /// Seconds (`s`).
    Seconds,
    /// Bytes (`B`).
    Bytes,
    /// Kibibytes, 1024 B (`KiB`).
    KiB,
    /// Mebibytes, 1024² B (`MiB`).
    MiB,
    /// Gibibytes, 1024³ B (`GiB`).
    GiB,
    /// Bytes per second (`B/s`).
    BytesPerSecond,
    /// Kibibytes per second (`KiB/s`).
    KiBPerSecond,
    /// Mebibytes per second (`MiB/s`).
    MiBPerSecond,
    /// Gibibytes per second (`GiB/s`).
    GiBPerSecond,
}

const ALL_UNITS: [Unit; 15] = [
    Unit::Count,
    Unit::Percent,
    Unit::PerSecond,
    Unit::Nanoseconds,
    Unit::Microseconds,
    Unit::Milliseconds,
    Unit::Seconds,
    Unit::Bytes,
    Unit::KiB,
    Unit::MiB,
    Unit::GiB,
    Unit::BytesPerSecond,
    Unit::KiBPerSecond,
    Unit::MiBPerSecond,
    Unit::GiBPerSecond,
];

/// Units a criterion may carry, as error messages (and the README) list
/// them.
pub const CRITERION_UNITS: &str =
    "`%` `/s` `ns` `us` `ms` `s` `B` `KiB` `MiB` `GiB` `B/s` `KiB/s` `MiB/s` `GiB/s`";

impl Unit {
    /// The symbol written in reports and criteria (`ms`, `MiB`, `/s`, …).
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Percent => "%",
            Unit::PerSecond => "/s",
            Unit::Nanoseconds => "ns",
            Unit::Microseconds => "us",
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
            Unit::Bytes => "B",
            Unit::KiB => "KiB",
            Unit::MiB => "MiB",
            Unit::GiB => "GiB",
            Unit::BytesPerSecond => "B/s",
            Unit::KiBPerSecond => "KiB/s",
            Unit::MiBPerSecond => "MiB/s",
            Unit::GiBPerSecond => "GiB/s",
        }
    }

    /// The unit a symbol names, as written after a number in a criterion
    /// (`count` is accepted too, for reports read back from disk).
    pub fn from_symbol(symbol: &str) -> Result<Unit, GrammarError> {
        ALL_UNITS
            .into_iter()
            .find(|u| u.symbol() == symbol)
            .ok_or_else(|| GrammarError::UnknownUnit {
                unit: symbol.to_string(),
                expected: CRITERION_UNITS,
            })
    }

    /// What this unit measures.
    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Count => Dimension::Count,
            Unit::Percent => Dimension::Percent,
            Unit::PerSecond => Dimension::Rate,
            Unit::Nanoseconds | Unit::Microseconds | Unit::Milliseconds | Unit::Seconds => {
                Dimension::Time
            }
            Unit::Bytes | Unit::KiB | Unit::MiB | Unit::GiB => Dimension::Size,
            Unit::BytesPerSecond | Unit::KiBPerSecond | Unit::MiBPerSecond | Unit::GiBPerSecond => {
                Dimension::SizeRate
            }
        }
    }

    /// How many base units (ns, bytes, bytes/s, …) one of this unit is.
    pub fn base_factor(self) -> f64 {
        match self {
            Unit::Count | Unit::Percent | Unit::PerSecond | Unit::Nanoseconds => 1.0,
            Unit::Microseconds => 1e3,
            Unit::Milliseconds => 1e6,
            Unit::Seconds => 1e9,
            Unit::Bytes | Unit::BytesPerSecond => 1.0,
            Unit::KiB | Unit::KiBPerSecond => 1024.0,
            Unit::MiB | Unit::MiBPerSecond => 1024.0 * 1024.0,
            Unit::GiB | Unit::GiBPerSecond => 1024.0 * 1024.0 * 1024.0,
        }
    }

    /// `value` in this unit, expressed in the dimension's base unit.
    pub fn to_base(self, value: f64) -> f64 {
        value * self.base_factor()
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_round_trips() {
        for unit in ALL_UNITS {
            assert_eq!(Unit::from_symbol(unit.symbol()), Ok(unit));
        }
    }

    #[test]
    fn conversions_reach_base_units() {
        assert_eq!(Unit::Milliseconds.to_base(20.0), 20_000_000.0);
        assert_eq!(Unit::MiB.to_base(16.0), 16.0 * 1024.0 * 1024.0);
        assert_eq!(Unit::Percent.to_base(99.5), 99.5);
    }

    #[test]
    fn unknown_symbol_names_itself() {
        let err = Unit::from_symbol("min").unwrap_err();
        assert!(err.to_string().contains("`min`"), "{err}");
    }
}
