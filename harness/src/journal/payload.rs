//! The journal's payloads that are not report types: a thread's ops of one
//! bin of the run's clock ([`Slice`]) and a drive's merged measurements
//! ([`SavedTotals`]), as the recorder writes them and the fold reads them.

use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A histogram as the journal writes it: in the report's own encoding
/// (HdrHistogram's V2 deflate, base64), so every histogram Brunt writes
/// down, to the journal or to the report, goes through one codec. Exact: the
/// same bins at the same resolution come back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Encoded(pub(crate) Histogram<u64>);

impl Serialize for Encoded {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&brunt_report::encode_histogram(&self.0))
    }
}

impl<'de> Deserialize<'de> for Encoded {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Encoded, D::Error> {
        let text = String::deserialize(d)?;
        brunt_report::decode_histogram("journal", &text)
            .map(Encoded)
            .map_err(serde::de::Error::custom)
    }
}

/// One thread's ops that finished within one bin of the run's clock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Slice {
    /// The second the bin lies in, counted from the run's start.
    pub(crate) second: u64,
    /// Where the bin starts within that second, ms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) offset_ms: u64,
    /// The bin's width, ms (a whole second when absent). The thread may have cut the bin's start finer: its ops
    /// finished inside the bin, not necessarily across all of it.
    #[serde(default = "one_second", skip_serializing_if = "is_one_second")]
    pub(crate) width_ms: u64,
    /// Ops finished in the bin.
    pub(crate) ops: u64,
    /// Of which errors.
    pub(crate) errors: u64,
    /// Latency bins hit: (highest value of the bin in ns, count).
    pub(crate) bins: Vec<(u64, u64)>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn one_second() -> u64 {
    1_000
}

fn is_one_second(value: &u64) -> bool {
    *value == 1_000
}

/// A drive's (or escalation step's) merged measurements (`OpTotals`) as
/// journaled when it ends (the load series' slices travel on their own), so
/// a child that dies afterwards keeps them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SavedTotals {
    /// The phase the drive ran in, if any (by index).
    pub(crate) phase: Option<usize>,
    pub(crate) latency: Encoded,
    pub(crate) service: Option<Encoded>,
    pub(crate) ops: u64,
    pub(crate) errors: u64,
    pub(crate) measured_s: f64,
    pub(crate) late: u64,
    pub(crate) dropped: u64,
    pub(crate) timeouts: u64,
    pub(crate) op_timeout: bool,
    pub(crate) declared_rate: Option<f64>,
    pub(crate) issuing_s: f64,
    pub(crate) generator_cpu_s: Option<f64>,
    pub(crate) generator_waiting_s: f64,
    pub(crate) generator_wall_s: f64,
    pub(crate) generator_span_s: f64,
    pub(crate) spans: Vec<(f64, f64)>,
    #[serde(default)]
    pub(crate) expected: u64,
    /// Per op kind.
    #[serde(default)]
    pub(crate) kinds: Vec<SavedKind>,
    /// Setup times and failed setups.
    #[serde(default)]
    pub(crate) setup: Option<(Encoded, u64)>,
    /// Open model: the arrivals' sending lateness.
    #[serde(default)]
    pub(crate) lag: Option<Encoded>,
    /// Open model: how the states were pooled.
    #[serde(default)]
    pub(crate) pool: PoolUse,
}

/// One op kind's totals as streamed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SavedKind {
    pub(crate) name: String,
    pub(crate) latency: Encoded,
    pub(crate) ops: u64,
    pub(crate) errors: u64,
    pub(crate) expected: u64,
}

/// How an open run's states were pooled, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PoolUse {
    /// The bound on states held at once (0: the workload holds none).
    pub(crate) bound: u64,
    /// Whether `connections` declared the bound (else Brunt's default).
    pub(crate) declared: bool,
    /// Most states held at once, over every arrival thread.
    pub(crate) peak: u64,
    /// Arrivals that waited for a state.
    pub(crate) queued: u64,
    /// States built (or taken from an earlier run) while the run went:
    /// the pool's growth, which shows in the generator's own memory and
    /// descriptors.
    #[serde(default)]
    pub(crate) built: u64,
}

impl PoolUse {
    /// Adds another run's use (runs are sequential: the larger peak).
    pub(crate) fn add(&mut self, other: PoolUse) {
        self.bound = self.bound.max(other.bound);
        self.declared |= other.declared;
        self.peak = self.peak.max(other.peak);
        self.queued += other.queued;
        self.built += other.built;
    }
}
