//! Containment of a scenario's processes: the child and everything it
//! started. The child runs in its own process group; servers it spawns may
//! leave that group (a `setsid` daemon, a tokio command with its own group),
//! so the runner also walks the process tree. On Linux the runner becomes a
//! child subreaper, so a process orphaned by the child's death is re-parented
//! to the runner, where it can still be found, killed and reaped.
//!
//! The child runs in a process group of its own, so a terminal's Ctrl-C (or
//! nextest's SIGTERM) reaches only the runner: the runner catches SIGINT and
//! SIGTERM, stops the scenario and everything it started, and exits with the
//! signal's status. Should the runner be killed outright, the child kills
//! everything it started, itself included (see `containment`).

use std::sync::atomic::{AtomicI32, Ordering};

/// The SIGINT or SIGTERM the runner received, 0 if none.
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

#[cfg(unix)]
extern "C" fn on_interrupt(signal: libc::c_int) {
    // Only an atomic store: the watch loop does the rest.
    INTERRUPTED.store(signal, Ordering::SeqCst);
}

/// Catches SIGINT and SIGTERM in the runner (see [`interrupted`]).
pub(crate) fn catch_interrupts() {
    #[cfg(unix)]
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installs a handler that only stores to an atomic.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_interrupt as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// The signal that interrupted the runner, if one did.
pub(crate) fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// In a scenario's child: die with the runner (SIGKILL when it exits), and
/// exit at once if it is already gone.
pub(crate) fn die_with_parent(parent: u32) {
    #[cfg(target_os = "linux")]
    // SAFETY: sets this process's parent-death signal; getppid has no
    // preconditions.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
        if libc::getppid() as u32 != parent {
            std::process::exit(5);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
}

/// Makes this process the subreaper of its descendants (Linux; elsewhere a
/// no-op), so orphans of a scenario's child stay findable.
pub(crate) fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_CHILD_SUBREAPER only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Every descendant of `root` (children, their children, …), on Linux from
/// each thread's `/proc/<pid>/task/<tid>/children` (a few small reads), or,
/// where the kernel lacks those files, from every process's
/// `/proc/<pid>/stat`; empty elsewhere.
pub(crate) fn descendants(root: u32) -> Vec<u32> {
    #[cfg(target_os = "linux")]
    {
        if let Some(found) = descendants_by_children_files(root) {
            return found;
        }
        let parents = parent_map();
        let mut found = Vec::new();
        let mut frontier = vec![root];
        while let Some(parent) = frontier.pop() {
            for &(pid, ppid) in &parents {
                if ppid == parent && !found.contains(&pid) {
                    found.push(pid);
                    frontier.push(pid);
                }
            }
        }
        found
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = root;
        Vec::new()
    }
}

/// Walks `/proc/<pid>/task/*/children`; `None` if the first read fails.
#[cfg(target_os = "linux")]
fn descendants_by_children_files(root: u32) -> Option<Vec<u32>> {
    let children_of = |pid: u32| -> Option<Vec<u32>> {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
        let mut children = Vec::new();
        for task in tasks.flatten() {
            let text = std::fs::read_to_string(task.path().join("children")).ok()?;
            children.extend(
                text.split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
        Some(children)
    };
    let mut found = Vec::new();
    let mut frontier = children_of(root)?;
    while let Some(pid) = frontier.pop() {
        if !found.contains(&pid) {
            found.push(pid);
            frontier.extend(children_of(pid).unwrap_or_default());
        }
    }
    Some(found)
}

/// `(pid, parent pid)` of every process.
#[cfg(target_os = "linux")]
fn parent_map() -> Vec<(u32, u32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the parenthesised command name: state, then the parent pid.
            let after = &stat[stat.rfind(')')? + 1..];
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// Sends SIGKILL to `pid` (an outright kill: nothing of a contained scenario
/// may outlive it).
pub(crate) fn kill(pid: u32) {
    #[cfg(unix)]
    // SAFETY: kill only sends a signal.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Sends SIGKILL to process group `group`.
pub(crate) fn kill_group(group: u32) {
    #[cfg(unix)]
    // SAFETY: killpg only sends a signal.
    unsafe {
        libc::killpg(group as libc::pid_t, libc::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = group;
}

/// Kills every process this runner still has below it (what a finished or
/// killed scenario left behind, re-parented here) and reaps them, so none
/// lingers as a zombie.
pub(crate) fn kill_leftovers() {
    #[cfg(unix)]
    {
        let me = std::process::id();
        let left = descendants(me);
        for &pid in &left {
            kill(pid);
        }
        for &pid in &left {
            // SAFETY: waitpid on a pid of ours; a pid that is not our child
            // returns ECHILD, which is fine.
            unsafe {
                libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
            }
        }
    }
}

/// The processes a chaos fault stopped (`SIGSTOP`) and nothing has
/// continued yet, as the stream tells the runner.
#[derive(Debug, Default)]
pub(crate) struct StoppedByChaos {
    pids: Vec<u32>,
}

impl StoppedByChaos {
    /// Notes the stops and continues among `records`.
    pub(crate) fn observe(&mut self, records: &[crate::journal::Record]) {
        use crate::journal::Record;
        for record in records {
            match record {
                Record::Stopped { pid, .. } if !self.pids.contains(pid) => self.pids.push(*pid),
                Record::Continued { pid, .. } => self.pids.retain(|p| p != pid),
                _ => {}
            }
        }
    }

    /// Sends `SIGCONT` to every process still noted as stopped.
    pub(crate) fn continue_all(&mut self) {
        for pid in self.pids.drain(..) {
            // Continuing a process that runs already does nothing; one that
            // is gone is no error here.
            let _ = crate::chaos::send_signal(pid, crate::chaos::Signal::Cont);
        }
    }
}

/// The process group of `pid`, if it exists (Linux).
#[cfg(target_os = "linux")]
pub(crate) fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn descendants_include_grandchildren() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let me = std::process::id();
        let mut below = Vec::new();
        for _ in 0..200 {
            below = descendants(child.id());
            if !below.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(below.len(), 1, "the grandchild: {below:?}");
        let mine = descendants(me);
        assert!(
            mine.contains(&child.id()) && mine.contains(&below[0]),
            "{mine:?}"
        );
        assert_eq!(process_group(child.id()), process_group(me));
        kill(below[0]);
        kill(child.id());
        child.wait().unwrap();
    }
}
