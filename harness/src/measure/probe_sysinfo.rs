//! Reads one process's resources through sysinfo on systems without the
//! Linux `/proc` reader. File descriptors are not counted there (0).

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::ProcessReading;

/// Samples one process by pid.
pub(crate) struct ProcessProbe {
    pid: u32,
    system: System,
}

impl ProcessProbe {
    /// Fails if the process does not exist.
    pub(crate) fn open(pid: u32) -> std::io::Result<ProcessProbe> {
        let mut probe = ProcessProbe {
            pid,
            system: System::new(),
        };
        probe.read()?;
        Ok(probe)
    }

    /// The process's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Resident set size only, bytes.
    pub(crate) fn rss_bytes(&mut self) -> std::io::Result<u64> {
        Ok(self.read()?.rss_bytes)
    }

    /// A full reading; fails once the process has exited.
    pub(crate) fn read(&mut self) -> std::io::Result<ProcessReading> {
        let pid = Pid::from_u32(self.pid);
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing().with_memory().with_cpu(),
        );
        let process = self
            .system
            .process(pid)
            .ok_or_else(|| std::io::Error::other(format!("process {} has exited", self.pid)))?;
        Ok(ProcessReading {
            rss_bytes: process.memory(),
            cpu_seconds: process.accumulated_cpu_time() as f64 / 1000.0,
            threads: process.tasks().map_or(0, |t| t.len() as u64),
            fds: 0,
        })
    }
}
