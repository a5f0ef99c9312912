//! The resource sampler: an OS thread that reads the scenario's own process
//! and every watched pid each interval and appends each sample (and the op
//! progress) to the run's journal as it goes: its memory does not grow with
//! the run.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brunt_grammar::Unit;

use super::{ProcessProbe, ProcessReading, ProgressBoard, thread_cpu_time};
use crate::criteria::LiveValue;
use crate::journal::{Journal, Record};
use brunt_report::{Event, SamplePoint};

/// What the sampler needs from the run.
pub(crate) struct SamplerConfig {
    /// Time between samples.
    pub(crate) interval: Duration,
    /// The machine's cores: no interval's CPU reads above cores × 100 %.
    pub(crate) cores: usize,
    /// The run's time origin; samples are stamped in ms since it.
    pub(crate) origin: Instant,
    /// Pids added by `Stress::watch_pid`; the sampler's doorbell.
    pub(crate) watched: Arc<WatchList>,
    /// Where samples are streamed.
    pub(crate) stream: Arc<Journal>,
    /// Op progress to stream alongside.
    pub(crate) progress: Arc<ProgressBoard>,
    /// Judges live values every interval (the runner's `abort(...)`
    /// criteria); a returned reason is streamed as an `abort` event.
    pub(crate) live_check: Option<LiveCheck>,
}

/// Judges the live values at `t_ms` since the run started; returns a reason
/// when the run must stop.
pub(crate) type LiveCheck = Box<dyn FnMut(&[LiveValue], f64) -> Option<String> + Send>;

/// The processes `Stress::watch_pid` adds, and the sampler's doorbell: a
/// pid added is sampled at once rather than at the next tick, so a process
/// watched for less than one interval still has its `target.*` figures (and
/// a report's shape does not hang on timing).
#[derive(Default)]
pub(crate) struct WatchList {
    state: Mutex<WatchState>,
    bell: Condvar,
}

#[derive(Default)]
struct WatchState {
    pids: Vec<u32>,
    /// How many of `pids` the sampler has taken a first sample of.
    sampled: usize,
    /// The sampler is running (a watcher waits for its first sample).
    running: bool,
    stop: bool,
}

/// The longest `watch` waits for the first sample of a new pid.
const FIRST_SAMPLE_WAIT: Duration = Duration::from_secs(1);

impl WatchList {
    fn lock(&self) -> std::sync::MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds `pid` (once) and, while the sampler runs, waits until it has
    /// been sampled. Returns whether the pid is new.
    pub(crate) fn watch(&self, pid: u32) -> bool {
        let mut state = self.lock();
        if state.pids.contains(&pid) {
            return false;
        }
        state.pids.push(pid);
        let wanted = state.pids.len();
        self.bell.notify_all();
        let deadline = std::time::Instant::now() + FIRST_SAMPLE_WAIT;
        while state.running && state.sampled < wanted {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .bell
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// The pids watched so far.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.lock().pids.clone()
    }

    fn set_running(&self, running: bool) {
        self.lock().running = running;
        self.bell.notify_all();
    }

    fn mark_sampled(&self, count: usize) {
        let mut state = self.lock();
        if count > state.sampled {
            state.sampled = count;
            self.bell.notify_all();
        }
    }

    fn request_stop(&self) {
        self.lock().stop = true;
        self.bell.notify_all();
    }

    /// Waits up to `wait` for a stop or a new pid; true on a stop.
    fn wait(&self, wait: Duration, known: usize) -> bool {
        let state = self.lock();
        let (state, _) = self
            .bell
            .wait_timeout_while(state, wait, |s| !s.stop && s.pids.len() <= known)
            .unwrap_or_else(|p| p.into_inner());
        state.stop
    }
}

/// A running sampler; [`ResourceSampler::stop`] takes a last sample.
pub(crate) struct ResourceSampler {
    watched: Arc<WatchList>,
    thread: JoinHandle<SamplerOutput>,
}

/// What the sampler knows at its end that it did not journal: its own cost.
#[derive(Debug, Default)]
pub(crate) struct SamplerOutput {
    /// The sampler thread's own CPU time over its wall time, percent of one
    /// core; `None` where thread CPU time cannot be read.
    pub(crate) own_cpu_percent: Option<f64>,
}

struct Tracked {
    process: &'static str,
    probe: ProcessProbe,
    last: Option<(Instant, ProcessReading)>,
    /// The latest sample, for live values.
    latest: Option<SamplePoint>,
    alive: bool,
}

impl Tracked {
    fn new(process: &'static str, probe: ProcessProbe) -> Tracked {
        Tracked {
            process,
            probe,
            last: None,
            latest: None,
            alive: true,
        }
    }

    fn sample(&mut self, now: Instant, tick: u64, config: &SamplerConfig) {
        if !self.alive {
            return;
        }
        let Ok(reading) = self.probe.read() else {
            self.alive = false;
            return;
        };
        // CPU over the interval since the last sample with a CPU value. An
        // interval under half the sampling interval (the stop sample, a
        // catch-up after a stall) is folded into the next: over a few ms a
        // clock's granularity would read as several cores.
        let cpu_percent = match self.last {
            Some((then, previous)) => {
                let wall = now.duration_since(then);
                (wall >= config.interval / 2).then(|| {
                    let cpu = (reading.cpu_seconds - previous.cpu_seconds).max(0.0);
                    (cpu / wall.as_secs_f64() * 100.0).min(config.cores as f64 * 100.0)
                })
            }
            None => None,
        };
        let heap = (self.process == "self" && crate::heap::is_counting()).then(crate::heap::stats);
        let point = SamplePoint {
            t_ms: now.duration_since(config.origin).as_secs_f64() * 1e3,
            tick: Some(tick),
            rss_bytes: reading.rss_bytes,
            cpu_percent,
            cpu_time_s: Some(reading.cpu_seconds),
            threads: reading.threads,
            fds: reading.fds,
            heap_live_bytes: heap.map(|h| h.live_bytes),
            heap_allocated_bytes: heap.map(|h| h.allocated_bytes),
            heap_allocations: heap.map(|h| h.allocations),
        };
        if cpu_percent.is_some() || self.last.is_none() {
            self.last = Some((now, reading));
        }
        self.latest = Some(point);
        config.stream.append(&Record::Sample {
            process: self.process.to_string(),
            pid: self.probe.pid(),
            point,
        });
    }
}

/// Ticks between readings of the machine's busy CPU. `host.cpu.others` is
/// taken between the first and the last reading, so the ones between only
/// keep a run that dies with a recent figure; `/proc/stat` is rebuilt by
/// the kernel on every read (a line per CPU and every interrupt's count),
/// which at every tick of a 100 Hz sampler doubled the sampler's CPU.
const HOST_TICKS: u64 = 10;

/// The machine's busy CPU every [`HOST_TICKS`] ticks and at the last,
/// streamed as the `host` process (pid 0) so a run that dies keeps it (see
/// `host`).
struct HostTrack {
    readable: bool,
}

impl HostTrack {
    fn sample(&mut self, now: Instant, tick: u64, config: &SamplerConfig) {
        if !self.readable {
            return;
        }
        let Some(busy) = super::host::busy_seconds() else {
            self.readable = false;
            return;
        };
        let point = SamplePoint {
            t_ms: now.duration_since(config.origin).as_secs_f64() * 1e3,
            tick: Some(tick),
            rss_bytes: 0,
            cpu_percent: None,
            cpu_time_s: Some(busy),
            threads: 0,
            fds: 0,
            heap_live_bytes: None,
            heap_allocated_bytes: None,
            heap_allocations: None,
        };
        config.stream.append(&Record::Sample {
            process: super::host::HOST_PROCESS.to_string(),
            pid: 0,
            point,
        });
    }
}

/// Running peaks of the own process and (summed) watched ones, for the
/// live values of `abort(...)` criteria.
#[derive(Default)]
struct LivePeaks {
    /// rss, threads, fds, heap of the own process.
    own: [Option<f64>; 4],
    /// rss, threads, fds of the watched processes, summed per tick.
    target: [Option<f64>; 3],
}

fn raise(peak: &mut Option<f64>, now: Option<f64>) {
    if let Some(now) = now {
        *peak = Some(peak.map_or(now, |p| p.max(now)));
    }
}

impl LivePeaks {
    /// Takes in the latest samples of every tracked process.
    fn update(&mut self, tracked: &[Tracked]) {
        if let Some(p) = tracked
            .iter()
            .find(|t| t.process == "self")
            .and_then(|t| t.latest.as_ref())
        {
            let now = [
                Some(p.rss_bytes as f64),
                Some(p.threads as f64),
                Some(p.fds as f64),
                p.heap_live_bytes.map(|b| b as f64),
            ];
            for (peak, now) in self.own.iter_mut().zip(now) {
                raise(peak, now);
            }
        }
        let targets: Vec<&SamplePoint> = tracked
            .iter()
            .filter(|t| t.process == "target" && t.alive)
            .filter_map(|t| t.latest.as_ref())
            .collect();
        if !targets.is_empty() {
            let sums = [
                targets.iter().map(|p| p.rss_bytes).sum::<u64>() as f64,
                targets.iter().map(|p| p.threads).sum::<u64>() as f64,
                targets.iter().map(|p| p.fds).sum::<u64>() as f64,
            ];
            for (peak, now) in self.target.iter_mut().zip(sums) {
                raise(peak, Some(now));
            }
        }
    }

    /// Every metric the metric table marks `live`, that is known by now.
    fn values(&self, ops: u64, errors: u64) -> Vec<LiveValue> {
        let known = [
            ("ops", Some(ops as f64), Unit::Count),
            ("errors", Some(errors as f64), Unit::Count),
            ("rss.peak", self.own[0], Unit::Bytes),
            ("threads.peak", self.own[1], Unit::Count),
            ("fds.peak", self.own[2], Unit::Count),
            ("heap.peak", self.own[3], Unit::Bytes),
            ("target.rss.peak", self.target[0], Unit::Bytes),
            ("target.threads.peak", self.target[1], Unit::Count),
            ("target.fds.peak", self.target[2], Unit::Count),
        ];
        known
            .into_iter()
            .filter_map(|(name, value, unit)| Some((name.to_string(), value?, unit)))
            .collect()
    }
}

impl ResourceSampler {
    /// Starts sampling at once; the first sample is taken before this returns.
    pub(crate) fn start(config: SamplerConfig) -> std::io::Result<ResourceSampler> {
        let own = ProcessProbe::open(std::process::id())?;
        let (ready, is_ready) = mpsc::channel::<()>();
        let watched = Arc::clone(&config.watched);
        watched.set_running(true);
        let thread = std::thread::Builder::new()
            .name("brunt-sampler".into())
            .spawn(move || sample_loop(config, own, ready));
        let thread = match thread {
            Ok(thread) => thread,
            Err(e) => {
                watched.set_running(false);
                return Err(e);
            }
        };
        let _ = is_ready.recv();
        Ok(ResourceSampler { watched, thread })
    }

    /// Takes a final sample and returns the sampler's own cost.
    pub(crate) fn stop(self) -> SamplerOutput {
        self.watched.request_stop();
        let output = self.thread.join().unwrap_or_default();
        self.watched.set_running(false);
        output
    }
}

/// Starts tracking the pids watched since the last call; returns how many
/// pids are watched in all.
fn track_new(
    config: &SamplerConfig,
    known: &mut BTreeSet<u32>,
    tracked: &mut Vec<Tracked>,
) -> usize {
    let watched = config.watched.pids();
    for &pid in &watched {
        if known.insert(pid)
            && let Ok(probe) = ProcessProbe::open(pid)
        {
            tracked.push(Tracked::new("target", probe));
        }
    }
    watched.len()
}

fn sample_loop(
    mut config: SamplerConfig,
    own: ProcessProbe,
    ready: mpsc::Sender<()>,
) -> SamplerOutput {
    let cpu_start = thread_cpu_time();
    let wall_start = Instant::now();
    let mut tracked: Vec<Tracked> = vec![Tracked::new("self", own)];
    let mut host = HostTrack { readable: true };
    let mut known: BTreeSet<u32> = BTreeSet::new();
    let mut peaks = LivePeaks::default();
    let mut next = Instant::now();
    let mut tick = 0u64;
    loop {
        let now = Instant::now();
        let seen = track_new(&config, &mut known, &mut tracked);
        for t in &mut tracked {
            t.sample(now, tick, &config);
        }
        if tick.is_multiple_of(HOST_TICKS) {
            host.sample(now, tick, &config);
        }
        config.watched.mark_sampled(seen);
        tick += 1;
        let (ops, errors) = config.progress.totals();
        let t_ms = now.duration_since(config.origin).as_secs_f64() * 1e3;
        config
            .stream
            .append(&Record::Progress { t_ms, ops, errors });
        peaks.update(&tracked);
        if let Some(check) = config.live_check.as_mut() {
            let live = peaks.values(ops, errors);
            if let Some(reason) = check(&live, t_ms) {
                config.stream.append(&Record::Event(Event {
                    t_ms,
                    kind: "abort".into(),
                    message: reason,
                }));
            }
        }
        let _ = ready.send(());
        next += config.interval;
        let wait = next.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            // Fell behind (a stalled machine): resume from now, not in a burst.
            next = Instant::now();
        }
        // Until the next tick, a pid watched meanwhile gets its first
        // sample at once, stamped with the tick just taken.
        let mut seen = seen;
        let mut stop = false;
        loop {
            let wait = next.saturating_duration_since(Instant::now());
            if config.watched.wait(wait, seen) {
                stop = true;
                break;
            }
            if Instant::now() >= next {
                break;
            }
            let before = tracked.len();
            seen = track_new(&config, &mut known, &mut tracked);
            let now = Instant::now();
            for t in &mut tracked[before..] {
                t.sample(now, tick - 1, &config);
            }
            config.watched.mark_sampled(seen);
        }
        if stop {
            break;
        }
    }
    let now = Instant::now();
    for t in &mut tracked {
        t.sample(now, tick, &config);
    }
    host.sample(now, tick, &config);
    let (ops, errors) = config.progress.totals();
    config.stream.append(&Record::Progress {
        t_ms: now.duration_since(config.origin).as_secs_f64() * 1e3,
        ops,
        errors,
    });
    let wall = wall_start.elapsed().as_secs_f64();
    let own_cpu_percent = thread_cpu_time()
        .zip(cpu_start)
        .filter(|_| wall > 0.0)
        .map(|(end, start)| end.saturating_sub(start).as_secs_f64() / wall * 100.0);
    SamplerOutput { own_cpu_percent }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(interval: Duration) -> SamplerConfig {
        SamplerConfig {
            interval,
            cores: 2,
            origin: Instant::now(),
            watched: Arc::default(),
            stream: Arc::new(Journal::in_memory()),
            progress: Arc::default(),
            live_check: None,
        }
    }

    /// The samples journaled for `process`, in order.
    fn journaled(journal: &Journal, process: &str) -> Vec<(u32, SamplePoint)> {
        journal
            .records()
            .into_iter()
            .filter_map(|r| match r {
                Record::Sample {
                    process: p,
                    pid,
                    point,
                } if p == process => Some((pid, point)),
                _ => None,
            })
            .collect()
    }

    fn spin(d: Duration) {
        let start = Instant::now();
        while start.elapsed() < d {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn a_sample_soon_after_the_last_is_folded_into_the_next() {
        let config = config(Duration::from_millis(40));
        let probe = ProcessProbe::open(std::process::id()).unwrap();
        let mut own = Tracked::new("self", probe);
        let t0 = Instant::now();
        own.sample(t0, 0, &config);
        spin(Duration::from_millis(40));
        own.sample(Instant::now(), 1, &config);
        // A stop sample 2 ms later: one CPU tick over 2 ms read as 500 %.
        spin(Duration::from_millis(2));
        own.sample(Instant::now(), 2, &config);
        spin(Duration::from_millis(40));
        own.sample(Instant::now(), 3, &config);
        let points: Vec<SamplePoint> = journaled(&config.stream, "self")
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let cpu: Vec<Option<f64>> = points.iter().map(|p| p.cpu_percent).collect();
        assert_eq!(cpu[0], None, "no interval before the first sample");
        assert_eq!(cpu[2], None, "a 2 ms interval is folded into the next");
        for share in [cpu[1], cpu[3]] {
            let share = share.expect("a whole interval has a value");
            assert!((0.0..=200.0).contains(&share), "{share}% on 2 cores");
        }
        let ticks: Vec<Option<u64>> = points.iter().map(|p| p.tick).collect();
        assert_eq!(ticks, [Some(0), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn a_process_watched_between_ticks_is_sampled_before_watch_returns() {
        // Ticks 10 s apart: only the doorbell can sample the child, which
        // is gone before the sampler's stop sample.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let config = config(Duration::from_secs(10));
        let watched = Arc::clone(&config.watched);
        let journal = Arc::clone(&config.stream);
        let sampler = ResourceSampler::start(config).unwrap();
        assert!(watched.watch(child.id()));
        assert!(!watched.watch(child.id()), "a pid is watched once");
        child.kill().unwrap();
        child.wait().unwrap();
        sampler.stop();
        let target = journaled(&journal, "target");
        assert_eq!(target.len(), 1, "{target:?}");
        let (pid, point) = target[0];
        assert_eq!(pid, child.id());
        assert!(point.rss_bytes > 0);
        assert_eq!(point.tick, Some(0), "stamped with the tick taken");
    }

    #[test]
    fn every_metric_the_table_calls_live_is_computed_live() {
        let probe = ProcessProbe::open(std::process::id()).unwrap();
        let mut own = Tracked::new("self", probe);
        own.sample(Instant::now(), 0, &config(Duration::from_millis(10)));
        let mut point = own.latest.unwrap();
        point.heap_live_bytes = Some(1);
        own.latest = Some(point);
        let probe = ProcessProbe::open(std::process::id()).unwrap();
        let mut target = Tracked::new("target", probe);
        target.latest = Some(point);
        let mut peaks = LivePeaks::default();
        peaks.update(&[own, target]);
        let computed: Vec<String> = peaks.values(1, 0).into_iter().map(|v| v.0).collect();
        for name in brunt_grammar::metric_names(|m| m.live) {
            assert!(
                computed.iter().any(|c| c == name),
                "`{name}` is not computed live"
            );
        }
    }
}
