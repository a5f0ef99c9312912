//! Latency histograms in reports, in HdrHistogram's own interchange format
//! (V2, deflate-compressed, base64: the strings of HdrHistogram's interval
//! logs, readable by its Java, C, Go and Rust libraries). A report carries
//! them so that reports of different processes — shards of one suite,
//! baselines — merge exactly: percentiles of merged runs come from added
//! histograms, never from averaged percentiles.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};

/// Why a histogram in a report could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    /// Not base64.
    #[error("histogram `{name}` is not base64: {source}")]
    Base64 {
        /// The histogram's key in `samples.histograms`.
        name: String,
        /// The decoder's error.
        source: base64::DecodeError,
    },
    /// Not a V2 (deflate) HdrHistogram.
    #[error("histogram `{name}` is not an HdrHistogram V2 encoding: {detail}")]
    Format {
        /// The histogram's key in `samples.histograms`.
        name: String,
        /// The deserializer's error.
        detail: String,
    },
}

/// The largest counts array a histogram read from a file may have, in
/// bytes. Brunt's own (3 significant digits, 1 ns to 1 h) are 260 KiB; a
/// header may claim any width (5 digits up to 2^63 is 100 MiB), and the
/// decoder allocates what it claims before reading a count.
pub(crate) const MAX_COUNTS_BYTES: u64 = 4 << 20;
/// The largest decompressed encoding read: a header and up to 9 bytes per
/// count (LEB128), in bytes.
const MAX_INFLATED: u64 = 40 + 9 * (MAX_COUNTS_BYTES / 8);
/// HdrHistogram's V2 cookies (word size 8 in the low bits).
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_DEFLATE_COOKIE: u32 = 0x1c84_9314;

/// The length of the counts array of a histogram of `digits` significant
/// digits from `low` to `high` (HdrHistogram's own arithmetic), or `None`
/// when the bounds are not valid.
fn counts_len(low: u64, high: u64, digits: u32) -> Option<u64> {
    if low == 0 || digits > 5 || high < low.checked_mul(2)? {
        return None;
    }
    let single_unit = 2 * 10u64.pow(digits);
    let sub_bucket_magnitude = u64::BITS - (single_unit - 1).leading_zeros();
    let sub_bucket_count = 1u64 << sub_bucket_magnitude;
    let unit_magnitude = u64::BITS - 1 - low.leading_zeros();
    let mut smallest_untrackable = sub_bucket_count.checked_shl(unit_magnitude)?;
    let mut buckets = 1u64;
    while smallest_untrackable <= high {
        if smallest_untrackable > u64::MAX / 2 {
            buckets += 1;
            break;
        }
        smallest_untrackable <<= 1;
        buckets += 1;
    }
    Some((buckets + 1) * (sub_bucket_count / 2))
}

/// Checks an encoding's claims before the decoder acts on them: the
/// compressed length against the bytes there, the inflated size, the
/// payload length, and the counts array the bounds imply.
fn check_encoding(bytes: &[u8]) -> Result<(), String> {
    use std::io::Read;
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let u64_at = |b: &[u8], at: usize| -> Option<u64> {
        Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
    };
    let inflated;
    let inner = match u32_at(bytes, 0) {
        Some(V2_DEFLATE_COOKIE) => {
            let claimed = u64::from(u32_at(bytes, 4).ok_or("cut short in its header")?);
            let held = bytes.len() as u64 - 8;
            if claimed > held {
                return Err(format!(
                    "its header claims {claimed} compressed bytes; it holds {held}"
                ));
            }
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(&bytes[8..8 + claimed as usize])
                .take(MAX_INFLATED + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("does not inflate: {e}"))?;
            if out.len() as u64 > MAX_INFLATED {
                return Err(format!("inflates past {MAX_INFLATED} bytes"));
            }
            inflated = out;
            &inflated[..]
        }
        Some(V2_COOKIE) => bytes,
        _ => return Err("its cookie is not V2's".into()),
    };
    if u32_at(inner, 0) != Some(V2_COOKIE) {
        return Err("its inner cookie is not V2's".into());
    }
    let (Some(payload), Some(digits), Some(low), Some(high)) = (
        u32_at(inner, 4),
        u32_at(inner, 12),
        u64_at(inner, 16),
        u64_at(inner, 24),
    ) else {
        return Err("cut short in its header".into());
    };
    let held = inner.len().saturating_sub(40) as u64;
    if u64::from(payload) > held {
        return Err(format!(
            "its header claims a payload of {payload} bytes; it holds {held}"
        ));
    }
    let counts = counts_len(low, high, digits)
        .ok_or_else(|| format!("its bounds are not valid: {digits} digits from {low} to {high}"))?;
    if counts * 8 > MAX_COUNTS_BYTES {
        return Err(format!(
            "{digits} digits from {low} to {high} need {} bytes of counts, over the {MAX_COUNTS_BYTES}-byte cap",
            counts * 8
        ));
    }
    Ok(())
}

/// Encodes `h` as HdrHistogram's V2 deflate encoding in base64.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail, and every recorded count fits V2's
    // encoding.
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("a histogram serialises into memory");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Reads back a histogram written by `encode_histogram` (or by any
/// HdrHistogram library's V2 deflate encoder); `name` names it in errors.
pub fn decode_histogram(name: &str, text: &str) -> Result<Histogram<u64>, HistogramError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|source| HistogramError::Base64 {
            name: name.to_string(),
            source,
        })?;
    check_encoding(&bytes).map_err(|detail| HistogramError::Format {
        name: name.to_string(),
        detail,
    })?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| HistogramError::Format {
            name: name.to_string(),
            detail: format!("{e:?}"),
        })
}

/// Adds `other`'s histograms to `into`, key by key: the histograms of two
/// runs as one. Histograms of different bounds are widened as needed.
pub fn merge_histograms(
    into: &mut BTreeMap<String, Histogram<u64>>,
    other: &BTreeMap<String, Histogram<u64>>,
) {
    for (name, h) in other {
        match into.get_mut(name) {
            Some(mine) => {
                if mine.add(h).is_err() {
                    // Different bounds: record bin by bin, saturating.
                    for bin in h.iter_recorded() {
                        mine.saturating_record_n(bin.value_iterated_to(), bin.count_at_value());
                    }
                }
            }
            None => {
                into.insert(name.clone(), h.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_survives_the_round_trip_bin_for_bin() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for v in [1, 999, 1_000, 123_456, 7_000_000, 3_000_000_000] {
            h.record_n(v, v % 7 + 1).unwrap();
        }
        let text = encode_histogram(&h);
        assert!(text.starts_with("HISTF"), "{text}");
        let back = decode_histogram("latency", &text).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.value_at_quantile(0.99), h.value_at_quantile(0.99));
    }

    #[test]
    fn the_counts_arithmetic_is_hdrhistograms() {
        for (low, high, digits) in [
            (1, 3_600_000_000_000, 3),
            (1, 1_000, 2),
            (1000, 1 << 40, 4),
            (1, i64::MAX as u64, 2),
        ] {
            let h = Histogram::<u64>::new_with_bounds(low, high, digits as u8).unwrap();
            assert_eq!(
                counts_len(low, high, digits),
                Some(h.distinct_values() as u64),
                "{low} {high} {digits}"
            );
        }
    }

    /// Issue 21: a 56-character histogram whose header claimed 0xFFFFFFF0
    /// bytes cost 4 GiB before it was refused; one of 5 digits up to 2^63
    /// cost 100 MiB and was accepted.
    #[test]
    fn histogram_bombs_are_refused_before_allocating() {
        let mut bomb = vec![0x1c, 0x84, 0x93, 0x14, 0xff, 0xff, 0xff, 0xf0];
        bomb.extend_from_slice(&[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        let text = base64::engine::general_purpose::STANDARD.encode(&bomb);
        let e = decode_histogram("latency", &text).unwrap_err().to_string();
        assert!(e.contains("claims 4294967280 compressed bytes"), "{e}");
        let wide = Histogram::<u64>::new_with_bounds(1, 1 << 62, 5).unwrap();
        let e = decode_histogram("latency", &encode_histogram(&wide))
            .unwrap_err()
            .to_string();
        assert!(e.contains("over the 4194304-byte cap"), "{e}");
        let mut inner = Vec::new();
        inner.extend_from_slice(&V2_COOKIE.to_be_bytes());
        inner.extend_from_slice(&0xffff_fff0u32.to_be_bytes());
        inner.extend_from_slice(&[0; 4]);
        inner.extend_from_slice(&3u32.to_be_bytes());
        inner.extend_from_slice(&1u64.to_be_bytes());
        inner.extend_from_slice(&1000u64.to_be_bytes());
        inner.extend_from_slice(&1f64.to_be_bytes());
        let text = base64::engine::general_purpose::STANDARD.encode(&inner);
        let e = decode_histogram("latency", &text).unwrap_err().to_string();
        assert!(e.contains("claims a payload of 4294967280 bytes"), "{e}");
    }

    #[test]
    fn garbage_is_an_error_naming_the_histogram() {
        let e = decode_histogram("op.read.latency", "not base64 !").unwrap_err();
        assert!(e.to_string().contains("op.read.latency"), "{e}");
        let e = decode_histogram("latency", "aGVsbG8=").unwrap_err();
        assert!(e.to_string().contains("not an HdrHistogram"), "{e}");
    }
}
