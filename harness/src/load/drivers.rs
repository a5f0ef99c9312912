//! Driver threads: where the load models run ops.
//!
//! Each driver thread runs its own current-thread tokio runtime, and the
//! ops it drives run on it, so a task an op (or a worker's setup) spawns
//! with `tokio::spawn` — hyper's client connection task, as hyper's
//! documentation writes it; an rmcp client's transport — runs on the thread
//! that drives the op. Driven from a multi-threaded runtime's handle
//! instead, every request would cross threads twice (the op wakes the
//! connection task on a runtime worker, the answer wakes the op back), which
//! cost the generator ≈ 45 % more CPU per request than a hand-written loop
//! (`cargo xtask bench`, `hyper_per_worker_16`).
//!
//! The threads are kept for the scenario's life ([`Drivers`]), not one run:
//! the tasks a worker's state spawned must keep running after the run that
//! built it — the measured run reuses the warm-up's states, and a state's
//! connection task has to answer wherever its next op runs. A kept thread
//! drives its runtime between runs too, so those tasks never stall.
//!
//! A run's futures borrow from the scenario (`|_| server.call()`), so they
//! are not `'static`; [`Drivers::run_each`] hands them to the kept threads
//! the way a scoped thread pool does, and does not return before every one
//! of them has finished and been dropped.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Mutex;

use futures_util::FutureExt;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::pacer::lower_timer_slack;

thread_local! {
    /// The driver thread this is (0, 1, …), if it is one.
    static DRIVER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The driver thread the caller runs on, if it is one: worker states
/// prefer the thread that built them, where their spawned tasks run.
pub(crate) fn current_driver() -> Option<usize> {
    DRIVER.get()
}

/// A future a driver thread runs; it need not be `Send`.
pub(crate) type LocalFuture<'s, R> = Pin<Box<dyn Future<Output = R> + 's>>;

/// One thread's share of a run: sent to the thread, which makes the future
/// there and drives it to the end.
pub(crate) type DriverJob<'s, R> = Box<dyn FnOnce() -> LocalFuture<'s, R> + Send + 's>;

/// A job whose borrows [`Drivers::run_each`] guarantees outlive it.
type ErasedJob = Box<dyn FnOnce() -> LocalFuture<'static, ()> + Send + 'static>;

/// A job's future, which need not be `Send`, as a task of the runtime of
/// the kept driver thread that spawns it.
struct LocalTask(LocalFuture<'static, ()>);

// SAFETY: a `LocalTask` is spawned only by a kept driver thread, on its own
// current-thread runtime: a current-thread runtime's tasks are polled by the
// thread that runs its `block_on`, and dropped by the thread that drops it —
// here both are that driver thread alone, which owns the runtime and never
// hands it (or a `block_on` on it) to another. Its output is `()`.
unsafe impl Send for LocalTask {}

impl Future for LocalTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

/// The scenario's kept driver threads, started as runs need them and ended
/// when this is dropped (their runtimes, and every task on them, with them).
#[derive(Default)]
pub(crate) struct Drivers {
    threads: Mutex<Vec<mpsc::UnboundedSender<ErasedJob>>>,
}

impl std::fmt::Debug for Drivers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let threads = self.threads.lock().map_or(0, |t| t.len());
        f.debug_struct("Drivers")
            .field("threads", &threads)
            .finish()
    }
}

/// Where a run's jobs go: the scenario's kept driver threads, or (for
/// blocking ops, a thread per worker) fresh scoped threads driving their
/// futures with the scenario runtime's handle, ended with the run.
#[derive(Clone, Copy)]
pub(crate) enum DriverThreads<'d> {
    /// The kept threads, each with its own runtime.
    Kept(&'d Drivers),
    /// A scoped thread per job, on the scenario's multi-threaded runtime.
    Fresh(&'d Handle),
}

impl DriverThreads<'_> {
    /// Runs job `t` on driver thread `t` and returns their outputs in order
    /// once every job finished. A job that panicked panics here, after the
    /// others finished.
    pub(crate) fn run_each<'s, R: Send + 's>(self, jobs: Vec<DriverJob<'s, R>>) -> Vec<R> {
        match self {
            DriverThreads::Kept(drivers) => drivers.run_each(jobs),
            DriverThreads::Fresh(handle) => std::thread::scope(|scope| {
                let spawned: Vec<_> = jobs
                    .into_iter()
                    .enumerate()
                    .map(|(t, job)| {
                        std::thread::Builder::new()
                            .name(format!("brunt-worker-{t}"))
                            .spawn_scoped(scope, move || {
                                DRIVER.set(Some(t));
                                handle.block_on(job())
                            })
                            .expect("spawning a worker thread")
                    })
                    .collect();
                let joined: Vec<_> = spawned.into_iter().map(|h| h.join()).collect();
                joined
                    .into_iter()
                    .map(|r| r.unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            }),
        }
    }
}

impl Drivers {
    /// Senders to the first `n` kept threads, starting those not yet
    /// running.
    fn first(&self, n: usize) -> Vec<mpsc::UnboundedSender<ErasedJob>> {
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        while threads.len() < n {
            let t = threads.len();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("building a driver thread's runtime");
            let (jobs, mut queue) = mpsc::unbounded_channel::<ErasedJob>();
            std::thread::Builder::new()
                .name(format!("brunt-driver-{t}"))
                .spawn(move || {
                    DRIVER.set(Some(t));
                    lower_timer_slack();
                    runtime.block_on(async move {
                        while let Some(job) = queue.recv().await {
                            // A job is a task, not part of this loop's
                            // future: tokio polls a task its op woke within
                            // the same turn, while this future, woken, is
                            // polled only after a check of the I/O (an
                            // `epoll_wait` per op at ~80,000 requests/s).
                            drop(tokio::spawn(LocalTask(job())));
                        }
                    });
                })
                .expect("spawning a driver thread");
            threads.push(jobs);
        }
        threads[..n].to_vec()
    }

    fn run_each<'s, R: Send + 's>(&self, jobs: Vec<DriverJob<'s, R>>) -> Vec<R> {
        let senders = self.first(jobs.len());
        let finished: Vec<_> = jobs
            .into_iter()
            .zip(senders)
            .map(|(job, thread)| {
                let (done, finished) = std::sync::mpsc::sync_channel::<std::thread::Result<R>>(1);
                let wrapped: DriverJob<'s, ()> = Box::new(move || {
                    Box::pin(async move {
                        // The job's future is dropped at the end of this
                        // statement, before `done` says it finished.
                        let result = match std::panic::catch_unwind(AssertUnwindSafe(job)) {
                            Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
                            Err(panic) => Err(panic),
                        };
                        let _ = done.send(result);
                    })
                });
                // SAFETY: the job borrows for 's; this function does not
                // return (nor unwind: nothing below panics before the
                // waits) until `done` has sent, after the job and its
                // future were dropped, or `done` was dropped unsent — with
                // the job, by a thread that is gone. What the wrapper still
                // holds then is `done`, whose channel is empty.
                let erased =
                    unsafe { std::mem::transmute::<DriverJob<'s, ()>, ErasedJob>(wrapped) };
                // A thread that is gone hands the job back: dropped here.
                drop(thread.send(erased));
                finished
            })
            .collect();
        let mut outputs = Vec::with_capacity(finished.len());
        let mut panicked = None;
        for finished in finished {
            match finished.recv() {
                Ok(Ok(output)) => outputs.push(output),
                Ok(Err(panic)) => {
                    panicked.get_or_insert(panic);
                }
                Err(_) => {
                    panicked.get_or_insert(Box::new("a driver thread ended"));
                }
            }
        }
        if let Some(panic) = panicked {
            std::panic::resume_unwind(panic);
        }
        outputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job<'s, R: Send + 's>(
        make: impl FnOnce() -> LocalFuture<'s, R> + Send + 's,
    ) -> DriverJob<'s, R> {
        Box::new(make)
    }

    #[test]
    fn a_task_an_op_spawns_runs_on_the_thread_that_drives_it_and_outlives_the_run() {
        let drivers = Drivers::default();
        let borrowed = String::from("borrowed");
        let (tx, rx) = std::sync::mpsc::channel();
        let threads = DriverThreads::Kept(&drivers).run_each(
            (0..2)
                .map(|t| {
                    let (borrowed, tx) = (&borrowed, tx.clone());
                    job(move || {
                        Box::pin(async move {
                            let here = std::thread::current().id();
                            let (ping, mut pings) = mpsc::unbounded_channel::<()>();
                            tokio::spawn(async move {
                                while pings.recv().await.is_some() {
                                    tx.send((t, std::thread::current().id())).unwrap();
                                }
                            });
                            ping.send(()).unwrap();
                            tokio::task::yield_now().await;
                            (here, borrowed.len(), ping)
                        })
                    })
                })
                .collect(),
        );
        // The two tasks answer in whichever order their threads ran them.
        let mut ran_on = [rx.recv().unwrap(), rx.recv().unwrap()];
        ran_on.sort_by_key(|(t, _)| *t);
        for (t, (here, len, _)) in threads.iter().enumerate() {
            assert_eq!(len, &8);
            assert_eq!(ran_on[t], (t, *here), "the spawned task ran elsewhere");
        }
        assert_ne!(threads[0].0, threads[1].0, "two jobs, one thread");
        // Between runs the kept threads still run their tasks.
        for (here, _, ping) in &threads {
            ping.send(()).unwrap();
            let ran_on = rx.recv_timeout(std::time::Duration::from_secs(10));
            assert_eq!(
                ran_on.ok().map(|(_, id)| id),
                Some(*here),
                "a task stalled between runs"
            );
        }
    }

    #[test]
    fn a_panicking_job_panics_the_caller_after_the_others_finished() {
        let drivers = Drivers::default();
        let finished = std::sync::atomic::AtomicBool::new(false);
        let finished_ref = &finished;
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
            DriverThreads::Kept(&drivers).run_each(vec![
                job(|| Box::pin(async { panic!("job 0 panics") })),
                job(move || {
                    Box::pin(async move {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        finished_ref.store(true, std::sync::atomic::Ordering::SeqCst);
                    })
                }),
            ])
        }));
        assert!(caught.is_err(), "the panic was lost");
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst));
        // The threads survive a job's panic.
        let again = DriverThreads::Kept(&drivers).run_each(vec![job(|| Box::pin(async { 7 }))]);
        assert_eq!(again, vec![7]);
    }
}
