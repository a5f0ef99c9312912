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

/// Encodes `h` as HdrHistogram's V2 deflate encoding in base64.
pub(crate) fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail, and every recorded count fits V2's
    // encoding.
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("a histogram serialises into memory");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Reads back a histogram written by [`encode_histogram`] (or by any
/// HdrHistogram library's V2 deflate encoder); `name` names it in errors.
pub fn decode_histogram(name: &str, text: &str) -> Result<Histogram<u64>, HistogramError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|source| HistogramError::Base64 {
            name: name.to_string(),
            source,
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
    fn garbage_is_an_error_naming_the_histogram() {
        let e = decode_histogram("op.read.latency", "not base64 !").unwrap_err();
        assert!(e.to_string().contains("op.read.latency"), "{e}");
        let e = decode_histogram("latency", "aGVsbG8=").unwrap_err();
        assert!(e.to_string().contains("not an HdrHistogram"), "{e}");
    }
}
