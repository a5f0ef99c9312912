//! Reads one process's resources from `/proc/<pid>` on Linux. The `statm`
//! and `stat` files are kept open and re-read from the start (≈ 2 µs a
//! sample, against ≈ 20 µs for a sysinfo refresh). CPU time comes from the
//! process's CPU clock (`clock_getcpuclockid`), to the nanosecond: the
//! 10 ms ticks of `/proc/<pid>/stat` would make a 100 ms interval's CPU
//! share ±10 % of a core off (they are the fallback).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use super::ProcessReading;

/// Samples one process by pid.
pub(crate) struct ProcessProbe {
    pid: u32,
    statm: File,
    stat: File,
    page_size: u64,
    ticks_per_second: f64,
    cpu_clock: Option<libc::clockid_t>,
    buffer: String,
}

/// The CPU-time clock of process `pid`, if the kernel gives one.
fn cpu_clock(pid: u32) -> Option<libc::clockid_t> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: writes one clockid through a valid pointer.
    let rc = unsafe { libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) };
    (rc == 0 && read_clock(clock).is_some()).then_some(clock)
}

fn read_clock(clock: libc::clockid_t) -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

fn read_from_start(file: &mut File, buffer: &mut String) -> std::io::Result<()> {
    buffer.clear();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_string(buffer)?;
    Ok(())
}

impl ProcessProbe {
    /// Opens the process's `/proc` files; fails if the process does not exist.
    pub(crate) fn open(pid: u32) -> std::io::Result<ProcessProbe> {
        // SAFETY: sysconf has no preconditions; it only reads configuration.
        let (page_size, ticks) = unsafe {
            (
                libc::sysconf(libc::_SC_PAGESIZE),
                libc::sysconf(libc::_SC_CLK_TCK),
            )
        };
        Ok(ProcessProbe {
            pid,
            statm: File::open(format!("/proc/{pid}/statm"))?,
            stat: File::open(format!("/proc/{pid}/stat"))?,
            page_size: if page_size > 0 {
                page_size as u64
            } else {
                4096
            },
            ticks_per_second: if ticks > 0 { ticks as f64 } else { 100.0 },
            cpu_clock: cpu_clock(pid),
            buffer: String::with_capacity(512),
        })
    }

    /// The process's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Resident set size only, bytes: the cheapest reading, for watchdogs.
    pub(crate) fn rss_bytes(&mut self) -> std::io::Result<u64> {
        read_from_start(&mut self.statm, &mut self.buffer)?;
        let resident: u64 = self
            .buffer
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| std::io::Error::other("unreadable /proc/<pid>/statm"))?;
        Ok(resident * self.page_size)
    }

    /// A full reading; fails once the process has exited.
    pub(crate) fn read(&mut self) -> std::io::Result<ProcessReading> {
        let rss_bytes = self.rss_bytes()?;
        read_from_start(&mut self.stat, &mut self.buffer)?;
        // Fields after the command name, which is parenthesised and may
        // contain spaces: index 0 is field 3 (state) of proc(5).
        let after_comm = self
            .buffer
            .rfind(')')
            .map(|i| &self.buffer[i + 1..])
            .ok_or_else(|| std::io::Error::other("unreadable /proc/<pid>/stat"))?;
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        let field =
            |n: usize| -> u64 { fields.get(n - 3).and_then(|v| v.parse().ok()).unwrap_or(0) };
        let cpu_ticks = field(14) + field(15);
        let threads = field(20);
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        Ok(ProcessReading {
            rss_bytes,
            cpu_seconds: self
                .cpu_clock
                .and_then(read_clock)
                .unwrap_or(cpu_ticks as f64 / self.ticks_per_second),
            threads,
            fds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let mut probe = ProcessProbe::open(std::process::id()).unwrap();
        let reading = probe.read().unwrap();
        assert!(reading.rss_bytes > 1024 * 1024, "{reading:?}");
        assert!(reading.threads >= 1);
        assert!(reading.fds >= 3);
    }

    #[test]
    fn cpu_time_is_read_to_well_under_a_tick() {
        let mut probe = ProcessProbe::open(std::process::id()).unwrap();
        assert!(probe.cpu_clock.is_some());
        // Tick-based CPU time is always a whole number of 10 ms ticks.
        let off_tick = (0..5)
            .map(|_| probe.read().unwrap().cpu_seconds)
            .filter(|s| ((s * 100.0).round() - s * 100.0).abs() > 1e-6)
            .count();
        assert!(off_tick > 0, "every reading was a whole tick");
    }

    #[test]
    fn sees_memory_it_touches() {
        let mut probe = ProcessProbe::open(std::process::id()).unwrap();
        let before = probe.rss_bytes().unwrap();
        let block = vec![1u8; 64 * 1024 * 1024];
        let after = probe.rss_bytes().unwrap();
        assert!(std::hint::black_box(&block)[12345] == 1);
        assert!(after >= before + 60 * 1024 * 1024, "{before} -> {after}");
    }
}
