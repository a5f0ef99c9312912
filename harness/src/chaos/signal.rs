//! Signals to processes: what the `signal` and `pause` faults send, what
//! `FaultCtx::signal` sends after its safety filter, and the `SIGCONT` the
//! runner sends a watched process chaos left stopped. A room of its own so
//! the engine, the faults and the runner send them one way without leaning
//! on each other.

/// A signal a fault sends to a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `SIGKILL`: no cleanup.
    Kill,
    /// `SIGTERM`: asked to stop.
    Term,
    /// `SIGINT`.
    Int,
    /// `SIGHUP`.
    Hup,
    /// `SIGSTOP`: paused.
    Stop,
    /// `SIGCONT`: resumed.
    Cont,
}

impl Signal {
    /// The signal's name, `SIGKILL`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Kill => "SIGKILL",
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
            Signal::Hup => "SIGHUP",
            Signal::Stop => "SIGSTOP",
            Signal::Cont => "SIGCONT",
        }
    }

    #[cfg(unix)]
    fn number(self) -> libc::c_int {
        match self {
            Signal::Kill => libc::SIGKILL,
            Signal::Term => libc::SIGTERM,
            Signal::Int => libc::SIGINT,
            Signal::Hup => libc::SIGHUP,
            Signal::Stop => libc::SIGSTOP,
            Signal::Cont => libc::SIGCONT,
        }
    }
}

/// Sends `signal` to `pid` (no safety filter: `FaultCtx::signal` checks).
pub(crate) fn send_signal(pid: u32, signal: Signal) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let pid =
            libc::pid_t::try_from(pid).map_err(|_| anyhow::anyhow!("pid {pid} is out of range"))?;
        // SAFETY: kill takes plain integers and reports failure in errno.
        if unsafe { libc::kill(pid, signal.number()) } != 0 {
            let e = std::io::Error::last_os_error();
            anyhow::bail!("cannot send {} to process {pid}: {e}", signal.name());
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        anyhow::bail!(
            "cannot send {} to process {pid}: not supported here",
            signal.name()
        )
    }
}
