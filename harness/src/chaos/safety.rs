//! The safety filter: what faults must never touch.
//!
//! Seed 002's monkey skipped "system processes" by hand in every fault; here
//! one filter is consulted by every shipped fault that picks a victim, and
//! by user faults through `FaultCtx::permits` and `FaultCtx::choose`.

use std::collections::BTreeSet;

/// Names and processes faults must leave alone.
#[derive(Debug, Clone, Default)]
pub(crate) struct SafetyFilter {
    names: Vec<String>,
    pids: BTreeSet<u32>,
}

impl SafetyFilter {
    /// A filter that protects the scenario's own process, the process that
    /// started it (Brunt's runner) and pids 0 and 1.
    pub(crate) fn new() -> SafetyFilter {
        let mut pids = BTreeSet::from([0, 1, std::process::id()]);
        #[cfg(unix)]
        {
            // SAFETY: getppid has no preconditions.
            pids.insert(unsafe { libc::getppid() } as u32);
        }
        SafetyFilter {
            names: Vec::new(),
            pids,
        }
    }

    pub(crate) fn protect_name(&mut self, name: String) {
        self.names.push(name);
    }

    pub(crate) fn protect_pid(&mut self, pid: u32) {
        self.pids.insert(pid);
    }

    /// Whether `name` is outside every protected name (exact, or a prefix
    /// before a trailing `*`).
    pub(crate) fn permits_name(&self, name: &str) -> bool {
        !self.names.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        })
    }

    pub(crate) fn permits_pid(&self, pid: u32) -> bool {
        !self.pids.contains(&pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protects_names_prefixes_and_its_own_processes() {
        let mut f = SafetyFilter::new();
        f.protect_name("root".into());
        f.protect_name("system_*".into());
        f.protect_pid(4242);
        assert!(!f.permits_name("root"));
        assert!(f.permits_name("root2"));
        assert!(!f.permits_name("system_logger"));
        assert!(f.permits_name("worker_1"));
        assert!(!f.permits_pid(std::process::id()));
        assert!(!f.permits_pid(1));
        assert!(!f.permits_pid(4242));
        assert!(f.permits_pid(4243));
    }
}
