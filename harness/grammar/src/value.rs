//! Quoted values of the attribute and of `BRUNT_*` variables: durations
//! (`"10s"`, `"1m30s"`), sizes (`"512MiB"`) and rates (`"500/s"`).

use std::time::Duration;

use crate::GrammarError;

/// The units a duration value takes, as error messages (and the README)
/// list them.
pub const DURATION_UNITS: &str = "`ns` `us` `ms` `s` `m` `h`";
/// The units a size value takes.
pub const SIZE_UNITS: &str = "`B` `KiB` `MiB` `GiB` `TiB` `KB` `MB` `GB`";
/// The units a rate value takes.
pub const RATE_UNITS: &str = "`/s` `/m` `/h`";

/// Reads a decimal number; `_` separators are allowed (`10_000`).
pub fn parse_number(text: &str) -> Option<f64> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    if cleaned.is_empty()
        || !cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')
    {
        return None;
    }
    cleaned.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Splits `"12.5ms"` into `("12.5", "ms")` at the first character that
/// cannot belong to a number.
fn split_number(text: &str) -> (&str, &str) {
    let end = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    (&text[..end], &text[end..])
}

/// Parses a duration such as `"10s"`, `"250ms"`, `"1.5s"` or `"1m30s"`.
///
/// Units: `ns us ms s m h`. A bare number is rejected: `"10"` could mean
/// anything.
pub fn parse_duration(input: &str) -> Result<Duration, GrammarError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(GrammarError::Empty { what: "duration" });
    }
    if let Some(write) = duration_in_words(input) {
        return Err(GrammarError::Rewrite {
            input: input.to_string(),
            write,
        });
    }
    let mut rest = text;
    let mut total_ns = 0f64;
    while !rest.is_empty() {
        let (number, after) = split_number(rest);
        let value = parse_number(number).ok_or_else(|| GrammarError::BadNumber {
            input: input.to_string(),
            what: "duration",
        })?;
        let unit_len = after
            .char_indices()
            .find(|(_, c)| !c.is_ascii_alphabetic())
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        let unit = &after[..unit_len];
        let factor = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" | "min" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(GrammarError::MissingUnit {
                    input: input.to_string(),
                    expected: DURATION_UNITS,
                });
            }
            other => {
                return Err(GrammarError::UnknownUnit {
                    unit: other.to_string(),
                    expected: DURATION_UNITS,
                });
            }
        };
        total_ns += value * factor;
        rest = &after[unit_len..];
    }
    if total_ns > u64::MAX as f64 {
        return Err(GrammarError::OutOfRange {
            input: input.to_string(),
            rule: "duration too long",
        });
    }
    Ok(Duration::from_nanos(total_ns.round() as u64))
}

/// The unit a word or abbreviation names, as people write durations
/// (`seconds`, `sec`, `mins`, `hours`, …).
fn duration_unit(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "ns" | "nanosecond" | "nanoseconds" | "nsec" | "nsecs" => "ns",
        "us" | "µs" | "microsecond" | "microseconds" | "usec" | "usecs" => "us",
        "ms" | "millisecond" | "milliseconds" | "msec" | "msecs" | "millis" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        _ => return None,
    })
}

/// `10 seconds`, `1 min 30 s` or `250 MS` rewritten as Brunt writes them
/// (`10s`, `1m30s`, `250ms`), when the input is such a duration in other
/// words; `None` when it is already well written or is something else.
fn duration_in_words(input: &str) -> Option<String> {
    let text = input.trim();
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (number, after) = split_number(rest);
        parse_number(number)?;
        let after = after.trim_start();
        let word_len = after
            .char_indices()
            .find(|(_, c)| !c.is_alphabetic())
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        let unit = duration_unit(&after[..word_len])?;
        out.push_str(number);
        out.push_str(unit);
        rest = after[word_len..]
            .trim_start()
            .trim_start_matches([',', '+'])
            .trim_start();
        rest = rest.strip_prefix("and ").unwrap_or(rest);
    }
    (out != text).then_some(out)
}

/// Parses a size such as `"512MiB"` or `"2GiB"` into bytes. Binary units
/// (`KiB MiB GiB TiB`) and decimal ones (`KB MB GB`) are both accepted,
/// and mean what they say.
pub fn parse_size(input: &str) -> Result<u64, GrammarError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(GrammarError::Empty { what: "size" });
    }
    let (number, unit) = split_number(text);
    let value = parse_number(number).ok_or_else(|| GrammarError::BadNumber {
        input: input.to_string(),
        what: "size",
    })?;
    let factor = match unit.trim() {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "" => {
            return Err(GrammarError::MissingUnit {
                input: input.to_string(),
                expected: SIZE_UNITS,
            });
        }
        other => {
            return Err(GrammarError::UnknownUnit {
                unit: other.to_string(),
                expected: SIZE_UNITS,
            });
        }
    };
    Ok((value * factor).round() as u64)
}

/// Parses a rate such as `"500/s"` into events per second. `/m` and `/h`
/// are accepted for slow arrivals. The rate must be positive.
pub fn parse_rate(input: &str) -> Result<f64, GrammarError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(GrammarError::Empty { what: "rate" });
    }
    let Some((number, per)) = text.split_once('/') else {
        return Err(GrammarError::MissingUnit {
            input: input.to_string(),
            expected: RATE_UNITS,
        });
    };
    let value = parse_number(number.trim()).ok_or_else(|| GrammarError::BadNumber {
        input: input.to_string(),
        what: "rate",
    })?;
    let seconds = match per.trim() {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(GrammarError::UnknownUnit {
                unit: format!("/{other}"),
                expected: RATE_UNITS,
            });
        }
    };
    if value <= 0.0 {
        return Err(GrammarError::OutOfRange {
            input: input.to_string(),
            rule: "a rate must be greater than zero",
        });
    }
    Ok(value / seconds)
}

/// Parses a load stage `"DURATION:TARGET"`, such as `"30s:1000"`: ramp
/// linearly to `TARGET` (workers, or arrivals per second, optionally
/// written `"30s:500/s"`) over `DURATION`.
pub fn parse_stage(input: &str) -> Result<(Duration, f64), GrammarError> {
    let Some((duration, target)) = input.split_once(':') else {
        return Err(GrammarError::OutOfRange {
            input: input.to_string(),
            rule: "a stage is `DURATION:TARGET`, such as \"30s:1000\"",
        });
    };
    let duration = parse_duration(duration)?;
    if duration.is_zero() {
        return Err(GrammarError::OutOfRange {
            input: input.to_string(),
            rule: "a stage must last longer than zero",
        });
    }
    // A rate target may carry its unit: "30s:500/s".
    let target = target.trim();
    let target = target.strip_suffix("/s").unwrap_or(target);
    let target = parse_number(target.trim()).ok_or_else(|| GrammarError::BadNumber {
        input: input.to_string(),
        what: "stage target",
    })?;
    if target < 0.0 {
        return Err(GrammarError::OutOfRange {
            input: input.to_string(),
            rule: "a stage's target cannot be negative",
        });
    }
    Ok((duration, target))
}

/// Whether `name` can name an op of a mix or flow: a lowercase word of
/// letters, digits and `_`, starting with a letter or `_`.
pub fn is_op_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Parses one entry of a weighted op mix, `"NAME:WEIGHT"` such as
/// `"tools_list:70"`: the op's name and its whole, positive weight.
pub fn parse_mix_entry(input: &str) -> Result<(String, u32), GrammarError> {
    let rule = "a mix entry is `NAME:WEIGHT`, such as \"tools_list:70\": a lowercase name and a whole weight above zero";
    let bad = || GrammarError::OutOfRange {
        input: input.to_string(),
        rule,
    };
    let (name, weight) = input.split_once(':').ok_or_else(bad)?;
    let name = name.trim();
    if !is_op_name(name) {
        return Err(bad());
    }
    let weight: u32 = weight.trim().replace('_', "").parse().map_err(|_| bad())?;
    if weight == 0 {
        return Err(bad());
    }
    Ok((name.to_string(), weight))
}

/// Think time between a worker's ops, as declared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThinkTime {
    /// Always this long: `"50ms"`.
    Fixed(Duration),
    /// Uniformly between the two: `"uniform(10ms, 50ms)"`.
    Uniform(Duration, Duration),
    /// Exponentially distributed with this mean: `"exp(20ms)"` (a Poisson
    /// user's pauses).
    Exponential(Duration),
}

/// Parses a think time: `"50ms"`, `"uniform(10ms, 50ms)"` or `"exp(20ms)"`.
pub fn parse_think(input: &str) -> Result<ThinkTime, GrammarError> {
    let text = input.trim();
    let inner = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(')'))
    };
    if let Some(args) = inner("uniform(") {
        let (low, high) = args.split_once(',').ok_or(GrammarError::OutOfRange {
            input: input.to_string(),
            rule: "`uniform` takes two durations: \"uniform(10ms, 50ms)\"",
        })?;
        let (low, high) = (parse_duration(low)?, parse_duration(high)?);
        if high < low {
            return Err(GrammarError::OutOfRange {
                input: input.to_string(),
                rule: "`uniform`'s second duration must not be below its first",
            });
        }
        return Ok(ThinkTime::Uniform(low, high));
    }
    if let Some(mean) = inner("exp(") {
        return Ok(ThinkTime::Exponential(parse_duration(mean)?));
    }
    if text.contains('(') {
        return Err(GrammarError::OutOfRange {
            input: input.to_string(),
            rule: "a think time is a duration (\"50ms\"), \"uniform(10ms, 50ms)\" or \"exp(20ms)\"",
        });
    }
    Ok(ThinkTime::Fixed(parse_duration(text)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_entries_and_think_times() {
        assert_eq!(
            parse_mix_entry("tools_list:70"),
            Ok(("tools_list".into(), 70))
        );
        assert!(parse_mix_entry("ToolsList:70").is_err());
        assert!(parse_mix_entry("tools_list:0").is_err());
        assert!(parse_mix_entry("tools_list").is_err());
        assert_eq!(
            parse_think("50ms"),
            Ok(ThinkTime::Fixed(Duration::from_millis(50)))
        );
        assert_eq!(
            parse_think("uniform(10ms, 50ms)"),
            Ok(ThinkTime::Uniform(
                Duration::from_millis(10),
                Duration::from_millis(50)
            ))
        );
        assert_eq!(
            parse_think("exp(20ms)"),
            Ok(ThinkTime::Exponential(Duration::from_millis(20)))
        );
        assert!(parse_think("uniform(50ms, 10ms)").is_err());
        assert!(parse_think("normal(10ms)").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration("1_000ms"), Ok(Duration::from_secs(1)));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(matches!(
            parse_duration("10"),
            Err(GrammarError::MissingUnit { .. })
        ));
        assert!(matches!(
            parse_duration("10parsecs"),
            Err(GrammarError::UnknownUnit { unit, .. }) if unit == "parsecs"
        ));
        assert!(matches!(
            parse_duration("ten seconds"),
            Err(GrammarError::BadNumber { .. })
        ));
        assert!(matches!(
            parse_duration(""),
            Err(GrammarError::Empty { .. })
        ));
    }

    #[test]
    fn durations_in_words_say_how_to_write_them() {
        for (input, write) in [
            ("10 seconds", "10s"),
            ("10seconds", "10s"),
            ("10 s", "10s"),
            ("1 min 30 s", "1m30s"),
            ("250 MS", "250ms"),
            ("2 hours", "2h"),
        ] {
            assert_eq!(
                parse_duration(input).unwrap_err().to_string(),
                format!("`{input}`: write `{write}`"),
                "{input}"
            );
        }
        assert!(matches!(
            parse_duration("10 parsecs"),
            Err(GrammarError::MissingUnit { .. } | GrammarError::UnknownUnit { .. })
        ));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert!(matches!(
            parse_size("lots"),
            Err(GrammarError::BadNumber { .. })
        ));
        assert!(matches!(
            parse_size("12"),
            Err(GrammarError::MissingUnit { .. })
        ));
        assert!(matches!(
            parse_size("12XB"),
            Err(GrammarError::UnknownUnit { .. })
        ));
    }

    #[test]
    fn stages() {
        assert_eq!(
            parse_stage("30s:1000"),
            Ok((Duration::from_secs(30), 1000.0))
        );
        assert_eq!(parse_stage("10s:0"), Ok((Duration::from_secs(10), 0.0)));
        assert_eq!(
            parse_stage("10s:500/s"),
            Ok((Duration::from_secs(10), 500.0))
        );
        assert!(parse_stage("30s").is_err());
        assert!(parse_stage("0s:5").is_err());
        assert!(parse_stage("5s:-1").is_err());
        assert!(parse_stage("5s:many").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("500/s"), Ok(500.0));
        assert_eq!(parse_rate("60/m"), Ok(1.0));
        assert!(matches!(
            parse_rate("fast"),
            Err(GrammarError::MissingUnit { .. })
        ));
        assert!(matches!(
            parse_rate("5/fortnight"),
            Err(GrammarError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_rate("0/s"),
            Err(GrammarError::OutOfRange { .. })
        ));
    }
}
