//! Human-readable numbers for renderers: a value in its dimension's base
//! unit, shown in the unit that keeps it short.

use brunt_grammar::Dimension;

/// Formats `base` (in the base unit of `dimension`: ns, bytes, bytes/s,
/// ops/s, percent, count) for people: `12.3ms`, `1.50MiB`, `99.95%`.
pub fn format_value(base: f64, dimension: Dimension) -> String {
    if !base.is_finite() {
        return format!("{base}");
    }
    match dimension {
        Dimension::Count => {
            if base.fract() == 0.0 && base.abs() < 1e15 {
                group_thousands(base as i64)
            } else {
                format!("{base:.2}")
            }
        }
        Dimension::Percent => format!("{}%", trim(base, 2)),
        Dimension::Rate => format!("{}/s", trim(base, 1)),
        Dimension::Time => {
            let abs = base.abs();
            if abs >= 1e9 {
                format!("{}s", trim(base / 1e9, 3))
            } else if abs >= 1e6 {
                format!("{}ms", trim(base / 1e6, 3))
            } else if abs >= 1e3 {
                format!("{}us", trim(base / 1e3, 3))
            } else {
                format!("{}ns", trim(base, 0))
            }
        }
        Dimension::Size => size(base),
        Dimension::SizeRate => format!("{}/s", size(base)),
    }
}

fn size(bytes: f64) -> String {
    let abs = bytes.abs();
    let (value, unit) = if abs >= 1024.0 * 1024.0 * 1024.0 {
        (bytes / (1024.0 * 1024.0 * 1024.0), "GiB")
    } else if abs >= 1024.0 * 1024.0 {
        (bytes / (1024.0 * 1024.0), "MiB")
    } else if abs >= 1024.0 {
        (bytes / 1024.0, "KiB")
    } else {
        return format!("{}B", trim(bytes, 0));
    };
    format!("{}{unit}", trim(value, 2))
}

/// Rounds to `decimals` and drops trailing zeros.
fn trim(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_a_short_unit() {
        assert_eq!(format_value(12_345_678.0, Dimension::Time), "12.346ms");
        assert_eq!(format_value(850.0, Dimension::Time), "850ns");
        assert_eq!(
            format_value(1.5 * 1024.0 * 1024.0, Dimension::Size),
            "1.5MiB"
        );
        assert_eq!(format_value(99.95, Dimension::Percent), "99.95%");
        assert_eq!(format_value(1234567.0, Dimension::Count), "1,234,567");
        assert_eq!(format_value(1000.0, Dimension::Rate), "1000/s");
    }
}
