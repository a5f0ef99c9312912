//! Measurement: the per-thread op recorder (latency histograms and counts)
//! and the resource sampler thread. It records and samples; what the
//! records come to (metrics, trends, verdicts) is `analysis/`.
//!
//! The recorder is on the hot path and stays per driver thread: a shared
//! counter bumped per op costs most of a no-op loop's speed on two cores.
//! The sampler is a plain OS thread, off the tokio runtime, so a saturated
//! runtime cannot delay the samples that would show it.

mod generator;
pub(crate) mod host;
#[cfg(target_os = "linux")]
mod probe_linux;
#[cfg(not(target_os = "linux"))]
mod probe_sysinfo;
mod recorder;
mod sampler;
mod slicer;
mod timeline;

pub(crate) use crate::journal::{Encoded, PoolUse, SavedKind, SavedTotals, Slice};
pub(crate) use generator::GeneratorLoad;
#[cfg(target_os = "linux")]
pub(crate) use probe_linux::ProcessProbe;
#[cfg(not(target_os = "linux"))]
pub(crate) use probe_sysinfo::ProcessProbe;
pub use recorder::OpStatus;
pub(crate) use recorder::{OpRecorder, OpTotals, ProgressBoard, SetupTally};
pub(crate) use sampler::{LiveCheck, ResourceSampler, SamplerConfig, WatchList};
pub(crate) use slicer::{BinSlicer, SeriesPlan, SliceSink};
pub(crate) use timeline::Timeline;

/// CPU time consumed so far by the calling thread; `None` where the
/// platform cannot tell.
pub(crate) fn thread_cpu_time() -> Option<std::time::Duration> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec through a valid pointer.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        (rc == 0).then(|| std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// CPU time (user and system, every thread) that process `pid` has used
/// so far, to the nanosecond where the platform has a process CPU clock:
/// read it around a phase for the CPU per call of the scenario's own
/// process (`std::process::id()`) or of a process it drives. `None` once
/// the process is gone.
pub fn process_cpu_time(pid: u32) -> Option<std::time::Duration> {
    let reading = ProcessProbe::open(pid).ok()?.read().ok()?;
    Some(std::time::Duration::from_secs_f64(reading.cpu_seconds))
}

/// The machine's physical memory and what is available now, in bytes;
/// `None` where it cannot be read.
pub(crate) fn machine_memory() -> Option<(u64, u64)> {
    let system = sysinfo::System::new_with_specifics(
        sysinfo::RefreshKind::nothing()
            .with_memory(sysinfo::MemoryRefreshKind::nothing().with_ram()),
    )
    .ok()?;
    Some((system.total_memory(), system.available_memory()))
}

/// One reading of a process's resources.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ProcessReading {
    /// Resident set size, bytes.
    pub(crate) rss_bytes: u64,
    /// CPU time (user + system) consumed so far, seconds.
    pub(crate) cpu_seconds: f64,
    /// Threads.
    pub(crate) threads: u64,
    /// Open file descriptors.
    pub(crate) fds: u64,
}
