//! What a scenario starts ends when its run ends, however the runner ends:
//! SIGKILL included (a CI job's time limit), when no handler of the
//! runner's runs and its subreaper role dies with it.
//!
//! Each scenario's child runs in a **cgroup v2 of its own**, made by the
//! runner under the runner's own cgroup and entered by the child before it
//! runs a line of its own: everything the child starts is born in it, and
//! nothing can leave it (not a `setsid` daemon, not a double fork), so
//! writing `1` to its `cgroup.kill` kills the lot in one step, in the
//! kernel, with no process to walk and no race with a fork.
//!
//! The runner's death is noticed by the child: it inherits the read end of
//! a pipe whose write end only the runner holds, and a thread of the child
//! blocks on it. When the runner dies, however, the read returns and the
//! thread kills the cgroup — the child with it. (A parent-death signal
//! would kill the child before it could act.) When the run ends normally
//! the runner kills the cgroup itself and removes it.
//!
//! Where no cgroup can be made (no writable cgroup v2 hierarchy: a
//! non-root user without delegation, a kernel without cgroup v2), the
//! child instead becomes the subreaper of what it starts, so orphans stay
//! in its tree, and the thread kills that tree; the report carries a
//! `no_containment` warning, as a process that escapes the tree some other
//! way could outlive a killed runner.
//!
//! A PID namespace was measured first and refused: after
//! `unshare(CLONE_NEWPID)` a process can no longer start threads (the
//! kernel refuses `CLONE_THREAD` into a different namespace), so the child
//! would have to live inside the namespace, where the pids it hands out
//! (`Child::id()`, `watch_pid`, chaos targets) are not the machine's, and
//! processes outside it (a server the test started, a pid a fault pauses)
//! cannot be seen at all.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The runner tells the child the read end of its liveness pipe here.
const ALIVE_FD_ENV: &str = "__BRUNT_RUNNER_ALIVE_FD";
/// …and the cgroup it runs in, if any.
const CGROUP_ENV: &str = "__BRUNT_CGROUP";
/// Names of the cgroups Brunt makes: `brunt-<runner pid>-<n>`.
const PREFIX: &str = "brunt-";

/// The runner's side: a scenario child's cgroup and liveness pipe.
#[derive(Debug)]
pub(crate) struct Containment {
    cgroup: Option<Cgroup>,
    /// Why there is no cgroup, for the child's warning.
    no_cgroup: Option<String>,
    alive_read: Option<OwnedFd>,
    _alive_write: Option<OwnedFd>,
}

#[derive(Debug)]
struct Cgroup {
    dir: PathBuf,
    /// `cgroup.procs`, opened here so that the forked child only writes.
    procs: OwnedFd,
}

impl Containment {
    /// A cgroup (if one can be made) and a pipe for the next child.
    pub(crate) fn prepare() -> Containment {
        let (alive_read, alive_write) = match pipe() {
            Ok((r, w)) => (Some(r), Some(w)),
            Err(_) => (None, None),
        };
        let (cgroup, no_cgroup) = match Cgroup::create() {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e)),
        };
        Containment {
            cgroup,
            no_cgroup,
            alive_read,
            _alive_write: alive_write,
        }
    }

    /// Has `command`'s process enter the cgroup before it runs, and tells
    /// it where the pipe and the cgroup are.
    pub(crate) fn configure(&self, command: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        match &self.alive_read {
            Some(fd) => command.env(ALIVE_FD_ENV, fd.as_raw_fd().to_string()),
            None => command.env_remove(ALIVE_FD_ENV),
        };
        match (&self.cgroup, &self.no_cgroup) {
            (Some(c), _) => command.env(CGROUP_ENV, &c.dir),
            (None, Some(why)) => command.env(CGROUP_ENV, format!("!{why}")),
            (None, None) => command.env_remove(CGROUP_ENV),
        };
        let procs = self.cgroup.as_ref().map(|c| c.procs.as_raw_fd());
        let alive = self.alive_read.as_ref().map(AsRawFd::as_raw_fd);
        // SAFETY: runs between fork and exec, and calls only write and
        // fcntl (async-signal-safe) on descriptors opened beforehand.
        unsafe {
            command.pre_exec(move || {
                if let Some(fd) = procs
                    && libc::write(fd, b"0".as_ptr().cast(), 1) != 1
                {
                    return Err(std::io::Error::last_os_error());
                }
                if let Some(fd) = alive {
                    // Kept across exec: the child's end of the pipe.
                    libc::fcntl(fd, libc::F_SETFD, 0);
                }
                Ok(())
            });
        }
    }

    /// After the spawn: the runner keeps only the write end.
    pub(crate) fn spawned(&mut self) {
        self.alive_read = None;
    }

    /// Kills every process in the cgroup (nothing without one).
    pub(crate) fn kill_all(&self) {
        if let Some(c) = &self.cgroup {
            c.kill();
        }
    }
}

impl Drop for Containment {
    fn drop(&mut self) {
        if let Some(c) = &self.cgroup {
            c.kill();
            c.remove();
        }
    }
}

impl Cgroup {
    /// A new cgroup below the runner's own in the cgroup v2 hierarchy;
    /// also removes the empty ones of runners that are gone.
    fn create() -> Result<Cgroup, String> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let parent = own_cgroup_dir()?;
        sweep(&parent);
        let me = std::process::id();
        let dir = parent.join(format!(
            "{PREFIX}{me}-{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir)
            .map_err(|e| format!("cannot make the cgroup {}: {e}", dir.display()))?;
        let procs = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("cgroup.procs"))
            .map(OwnedFd::from)
            .map_err(|e| {
                let _ = std::fs::remove_dir(&dir);
                format!("cannot open {}/cgroup.procs: {e}", dir.display())
            })?;
        Ok(Cgroup { dir, procs })
    }

    fn kill(&self) {
        kill_cgroup(&self.dir);
    }

    /// Removes the cgroup once its processes are gone (they take a moment
    /// to exit after `cgroup.kill`), waiting at most a second.
    fn remove(&self) {
        let until = Instant::now() + Duration::from_secs(1);
        while std::fs::remove_dir(&self.dir).is_err() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Kills every process of the cgroup at `dir`: `cgroup.kill` where the
/// kernel has it (5.14), else each pid `cgroup.procs` lists, until none is
/// left.
fn kill_cgroup(dir: &Path) {
    if std::fs::write(dir.join("cgroup.kill"), "1").is_ok() {
        return;
    }
    let me = std::process::id();
    for _ in 0..100 {
        let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) else {
            return;
        };
        let pids: Vec<u32> = text
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .filter(|&p| p != me)
            .collect();
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            super::processes::kill(pid);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Where this process's cgroup is in the mounted cgroup v2 hierarchy.
fn own_cgroup_dir() -> Result<PathBuf, String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    // `… mount-point … - cgroup2 …`: the fifth field is where it is mounted.
    let mount = mountinfo
        .lines()
        .find(|l| {
            l.split(" - ")
                .nth(1)
                .is_some_and(|t| t.starts_with("cgroup2 "))
        })
        .and_then(|l| l.split_whitespace().nth(4))
        .ok_or("no cgroup v2 hierarchy is mounted")?;
    let cgroups = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let own = cgroups
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or("this process is in no cgroup v2")?;
    Ok(Path::new(mount).join(own.trim_start_matches('/')))
}

/// Removes the cgroups left by runners that were killed (their children
/// killed them empty; nobody was left to remove them).
fn sweep(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            // Fails, harmlessly, while it still holds a process.
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut ends = [0 as RawFd; 2];
    // SAFETY: pipe2 fills `ends` with two new descriptors.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors are new and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) })
}

/// How the child is contained, as it found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChildContainment {
    /// In a cgroup of its own, killed whole when the runner dies.
    Cgroup,
    /// Only its process tree (the reason there is no cgroup).
    TreeOnly(String),
    /// Not started by a runner that contains it (the parent-death signal
    /// only).
    None,
}

/// In a scenario's child, before any other thread: watches the runner's
/// liveness pipe on a thread of its own and, when the runner dies, kills
/// the cgroup (or, without one, every process below the child, of which
/// the child is then the subreaper), the child included. Returns how the
/// child is contained; `parent` is the runner's pid, for the parent-death
/// signal used when there is no pipe.
pub(crate) fn arm_in_child(parent: Option<u32>) -> ChildContainment {
    let fd = std::env::var(ALIVE_FD_ENV)
        .ok()
        .and_then(|v| v.parse::<RawFd>().ok());
    let cgroup = std::env::var(CGROUP_ENV).ok();
    // SAFETY: no other thread runs yet.
    unsafe {
        std::env::remove_var(ALIVE_FD_ENV);
        std::env::remove_var(CGROUP_ENV);
    }
    let Some(fd) = fd else {
        if let Some(parent) = parent {
            super::processes::die_with_parent(parent);
        }
        return ChildContainment::None;
    };
    // SAFETY: the runner passed this descriptor for us to own; it is not
    // inherited further.
    let alive = unsafe {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        OwnedFd::from_raw_fd(fd)
    };
    let (dir, contained) = match cgroup {
        Some(c) if !c.starts_with('!') => (Some(PathBuf::from(c)), ChildContainment::Cgroup),
        other => {
            super::processes::become_subreaper();
            let why = other
                .and_then(|c| c.strip_prefix('!').map(str::to_string))
                .unwrap_or_else(|| "the runner made no cgroup".into());
            (None, ChildContainment::TreeOnly(why))
        }
    };
    let watcher = std::thread::Builder::new()
        .name("brunt-runner-watch".into())
        .spawn(move || {
            let mut byte = 0u8;
            loop {
                // SAFETY: reads into one byte we own.
                let n = unsafe { libc::read(alive.as_raw_fd(), (&raw mut byte).cast(), 1) };
                if n >= 0
                    || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                {
                    break;
                }
            }
            // The runner is gone: nothing of this run may outlive it.
            match &dir {
                Some(dir) => kill_cgroup(dir),
                None => {
                    // Until nothing is left: a process may fork meanwhile.
                    for _ in 0..100 {
                        let below = super::processes::descendants(std::process::id());
                        if below.is_empty() {
                            break;
                        }
                        for pid in below {
                            super::processes::kill(pid);
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            }
            super::processes::kill(std::process::id());
        });
    if watcher.is_err()
        && let Some(parent) = parent
    {
        super::processes::die_with_parent(parent);
    }
    contained
}
