//! Scenarios take turns on the machine across processes: nextest runs every
//! test in a process of its own and in parallel, `cargo test` may hold
//! several stress targets, and two terminals may start suites at once. Two
//! scenarios sharing the cores measure each other, so each trial holds an
//! exclusive lock on a file (`<target dir>/brunt.lock` by default) while
//! it runs, and says so when it has to wait.
//!
//! The lock is `flock`-style (`std::fs::File::lock`): the kernel drops it
//! when the holder exits, however it dies, so a killed runner never leaves
//! a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::settings::{EnvSettings, LockSetting, default_target_dir};

/// Set in a scenario's child (and so in anything it starts): a runner
/// started from inside a running scenario already has the machine, and
/// must not wait for the lock its own parent holds.
pub(crate) const TURN_HELD_ENV: &str = "__BRUNT_TURN_HELD";

/// A held turn: the machine is this trial's until it is dropped.
#[derive(Debug)]
pub(crate) struct Turn {
    file: File,
    /// How long the trial waited for it (zero when it was free).
    pub(crate) waited: Duration,
    /// Who held it when the trial started waiting, as the holder wrote it.
    pub(crate) waited_for: Option<String>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Where the lock file is, or `None` when turns are off (`BRUNT_LOCK=off`,
/// or inside a scenario that already holds the machine).
pub(crate) fn lock_path(env: &EnvSettings) -> Option<PathBuf> {
    if std::env::var_os(TURN_HELD_ENV).is_some() {
        return None;
    }
    match &env.lock {
        Some(LockSetting::Off) => None,
        Some(LockSetting::File(path)) => Some(path.clone()),
        Some(LockSetting::Default) | None => Some(default_target_dir().join("brunt.lock")),
    }
}

/// Takes the machine for `scenario`, waiting for whoever holds it. The
/// first time it has to wait it prints who holds it; `note` receives that
/// line (stderr in the runner).
pub(crate) fn take_turn(
    path: &Path,
    scenario: &str,
    mut note: impl FnMut(&str),
) -> std::io::Result<Turn> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let started = Instant::now();
    let mut waited_for = None;
    let mut blocked = false;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            blocked = true;
            let holder = holder_of(&mut file);
            note(&format!(
                "brunt: `{scenario}` waits for the machine: {} holds {} (scenarios run one at a time across processes; BRUNT_LOCK=off runs anyway)",
                holder.as_deref().unwrap_or("another scenario"),
                path.display()
            ));
            waited_for = holder;
            file.lock()?;
        }
        Err(TryLockError::Error(e)) => return Err(e),
    }
    // Who holds it, for anyone who waits: a pid and a name.
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "`{scenario}` (pid {})", std::process::id())?;
    file.flush()?;
    Ok(Turn {
        file,
        waited: if blocked {
            started.elapsed()
        } else {
            Duration::ZERO
        },
        waited_for,
    })
}

/// What the holder wrote into the lock file, if it reads.
fn holder_of(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/brunt.lock");
        let first = take_turn(&path, "first", |_| panic!("nobody held it")).unwrap();
        assert_eq!(first.waited_for, None);
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                let turn =
                    take_turn(&path, "second", |line| tx.send(line.to_string()).unwrap()).unwrap();
                turn.waited_for.clone()
            })
        };
        // The waiter says whom it waits for before it gets the turn.
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        assert!(
            line.contains("`first`") && line.contains(&std::process::id().to_string()),
            "{line}"
        );
        drop(first);
        let waited_for = waiter.join().unwrap();
        assert!(waited_for.unwrap().contains("`first`"));
    }
}
