//! The machine's own CPU use, read at the sampler's ticks: the CPU time
//! every core spent busy (`/proc/stat`: all but idle and iowait). What it
//! comes to, `host.cpu.others`, is `analysis/contention.rs`.

/// The process name the sampler streams the machine's readings under (pid
/// 0); never written to a report's series.
pub(crate) const HOST_PROCESS: &str = "host";

/// CPU time every core of the machine spent busy since boot, seconds;
/// `None` off Linux or when `/proc/stat` cannot be read.
pub(crate) fn busy_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        busy_from_stat(&stat)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Busy seconds from `/proc/stat`'s first (`cpu`) line: user, nice, system,
/// irq, softirq and steal jiffies (idle and iowait left out; guest time is
/// already inside user).
fn busy_from_stat(stat: &str) -> Option<f64> {
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let field = |k: usize| fields.get(k).copied().unwrap_or(0);
    let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
    // SAFETY: sysconf has no preconditions; it only reads configuration.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| busy as f64 / ticks as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_leaves_idle_and_iowait_out() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        let stat = "cpu  100 20 30 5000 70 4 6 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n";
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        assert_eq!(busy_from_stat(stat), Some(160.0 / ticks));
        assert_eq!(busy_from_stat("intr 1 2 3"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_machine_has_been_busy_since_boot() {
        assert!(busy_seconds().is_some_and(|s| s > 0.0));
    }
}
