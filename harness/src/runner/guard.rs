//! The memory guard: the parent reads the resident memory of the scenario —
//! its child and every process the child started — and, apart, of the
//! processes the scenario watches with `Stress::watch_pid` (summed), every
//! few milliseconds, and stops the scenario when either passes
//! `memory_limit`: long before the machine's OOM killer would pick a victim,
//! possibly not the scenario. The process tree is re-read every 100 ms.

use crate::criteria::Dimension;
use crate::measure::ProcessProbe;
use brunt_report::format_value;

/// What passed the limit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Breach {
    /// The scenario's own process and the processes it started.
    Own {
        rss: u64,
        limit: u64,
        /// Processes below the child counted in `rss`.
        descendants: usize,
    },
    /// The watched processes, summed.
    Target {
        pids: Vec<u32>,
        rss: u64,
        limit: u64,
    },
}

impl Breach {
    /// The report's reason, starting `memory_guard: `.
    pub(crate) fn reason(&self) -> String {
        let size = |b: u64| format_value(b as f64, Dimension::Size);
        match self {
            Breach::Own {
                rss,
                limit,
                descendants,
            } => format!(
                "memory_guard: resident memory {}{} passed the limit of {}; the scenario was stopped before the machine ran short",
                size(*rss),
                match descendants {
                    0 => String::new(),
                    n => format!(" (the scenario's process and {n} it started)"),
                },
                size(*limit)
            ),
            Breach::Target { pids, rss, limit } => format!(
                "memory_guard: target {} resident memory {} passed the limit of {}; the scenario and the processes it started were stopped before the machine ran short",
                match pids.as_slice() {
                    [one] => format!("pid {one}"),
                    many => format!(
                        "pids {}",
                        many.iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
                size(*rss),
                size(*limit)
            ),
        }
    }
}

/// Watches the child and its targets against one limit, each side apart.
pub(crate) struct MemoryGuard {
    limit: u64,
    child: u32,
    own: Option<ProcessProbe>,
    /// Processes below the child that are not watched targets.
    tree: Vec<ProcessProbe>,
    checks: u32,
    targets: Vec<ProcessProbe>,
}

/// Checks between two readings of the process tree (100 ms at 5 ms).
const TREE_EVERY: u32 = 20;

impl MemoryGuard {
    /// A guard of `limit` bytes over the child `pid`.
    pub(crate) fn new(limit: u64, pid: u32) -> MemoryGuard {
        MemoryGuard {
            limit,
            child: pid,
            own: ProcessProbe::open(pid).ok(),
            tree: Vec::new(),
            checks: 0,
            targets: Vec::new(),
        }
    }

    /// Watches a target process too (a pid already watched is ignored).
    pub(crate) fn watch(&mut self, pid: u32) {
        if self.targets.iter().any(|p| p.pid() == pid) {
            return;
        }
        if let Ok(probe) = ProcessProbe::open(pid) {
            self.tree.retain(|p| p.pid() != pid);
            self.targets.push(probe);
        }
    }

    /// Reads every process; the first side past the limit, if one is.
    pub(crate) fn check(&mut self) -> Option<Breach> {
        if self.checks.is_multiple_of(TREE_EVERY) {
            self.refresh_tree();
        }
        self.checks = self.checks.wrapping_add(1);
        if let Some(probe) = self.own.as_mut()
            && let Ok(own) = probe.rss_bytes()
        {
            let mut rss = own;
            self.tree.retain_mut(|p| match p.rss_bytes() {
                Ok(r) => {
                    rss += r;
                    true
                }
                Err(_) => false,
            });
            if rss > self.limit {
                return Some(Breach::Own {
                    rss,
                    limit: self.limit,
                    descendants: self.tree.len(),
                });
            }
        }
        // A target that exited is no longer watched.
        let mut sum = 0;
        self.targets.retain_mut(|probe| match probe.rss_bytes() {
            Ok(rss) => {
                sum += rss;
                true
            }
            Err(_) => false,
        });
        (sum > self.limit).then(|| Breach::Target {
            pids: self.targets.iter().map(ProcessProbe::pid).collect(),
            rss: sum,
            limit: self.limit,
        })
    }

    /// Re-reads the processes below the child (not the watched ones).
    fn refresh_tree(&mut self) {
        let watched = self.targets();
        for pid in super::processes::descendants(self.child) {
            if !watched.contains(&pid)
                && !self.tree.iter().any(|p| p.pid() == pid)
                && let Ok(probe) = ProcessProbe::open(pid)
            {
                self.tree.push(probe);
            }
        }
    }

    /// The pids of the watched targets still alive.
    pub(crate) fn targets(&self) -> Vec<u32> {
        self.targets.iter().map(ProcessProbe::pid).collect()
    }
}
