//! Brunt's own cost, measured by Brunt: each scenario runs a hand-written
//! loop and then the same work through `Stress::drive`, in the same process
//! and runtime, and records both. `cargo xtask bench` runs these (release
//! build), adds the isolation cost, and writes `bench.json`.
//!
//! The hand-written loop has Brunt's structure (one histogram per driver
//! thread, workers multiplexed on at most one thread per core, driven with
//! the runtime's handle) without Brunt's additions (panic containment, op
//! indices, progress counters, fairness yields): the ratio is the price of
//! those additions, not of a different design.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use brunt::prelude::*;
use hdrhistogram::Histogram;

/// Counts live heap bytes and their peak, for the recorder-memory figure.
struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only adds counting.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn threads_for(workers: u32) -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(workers as usize)
        .max(1)
}

/// The hand-written loop: `workers` loops on at most one thread per core for
/// `duration`, each op timed into its thread's histogram when `timed`.
/// Returns ops per second.
fn hand_written<F, Fut>(s: &Stress, workers: u32, duration: Duration, timed: bool, op: &F) -> f64
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = Result<(), ()>>,
{
    let threads = threads_for(workers);
    let handle = s.runtime().clone();
    let deadline = Instant::now() + duration;
    let began = Instant::now();
    let ops: u64 = std::thread::scope(|scope| {
        let joins: Vec<_> = (0..threads)
            .map(|t| {
                let here = workers as usize / threads + usize::from(t < workers as usize % threads);
                let handle = &handle;
                scope.spawn(move || {
                    let histogram = RefCell::new(
                        Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap(),
                    );
                    let count = RefCell::new(0u64);
                    handle.block_on(async {
                        let loops = (0..here).map(|_| async {
                            if timed {
                                // One clock read starts the op and checks the
                                // deadline; one more ends it.
                                loop {
                                    let start = Instant::now();
                                    if start >= deadline {
                                        break;
                                    }
                                    let _ = op().await;
                                    histogram
                                        .borrow_mut()
                                        .saturating_record(start.elapsed().as_nanos() as u64);
                                    *count.borrow_mut() += 1;
                                }
                            } else {
                                // Untimed: the clock is read once per 256 ops.
                                while Instant::now() < deadline {
                                    for _ in 0..256 {
                                        let _ = op().await;
                                    }
                                    *count.borrow_mut() += 256;
                                }
                            }
                        });
                        futures_join_all(loops).await;
                    });
                    std::hint::black_box(histogram.into_inner().len());
                    count.into_inner()
                })
            })
            .collect();
        joins.into_iter().map(|j| j.join().unwrap()).sum()
    });
    ops as f64 / began.elapsed().as_secs_f64()
}

/// Polls every future to completion on the current task.
async fn futures_join_all<F: Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        pinned.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if pinned.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

/// Records the hand-written loop's throughput (the mean of its runs before
/// and after), the driven run's, and their ratio.
fn record_ratio(s: &mut Stress, before: f64, after: f64, ops: u64, elapsed: Duration) {
    let baseline = (before + after) / 2.0;
    let driven = ops as f64 / elapsed.as_secs_f64();
    s.record("baseline.throughput", baseline, Unit::PerSecond);
    s.record("driven.throughput", driven, Unit::PerSecond);
    s.record("overhead.ratio", driven / baseline, Unit::Count);
}

/// The hand-written loop runs half before and half after the driven run,
/// so a drift of the machine's speed affects both sides alike.
async fn compare(s: &mut Stress, workers: u32) -> anyhow::Result<()> {
    let half = s.duration().unwrap_or(Duration::from_secs(2)) / 2;
    let noop = || std::future::ready(Ok::<(), ()>(()));
    let before = hand_written(s, workers, half, true, &noop);
    let summary = s.drive(|_| std::future::ready(Ok::<(), ()>(()))).await?;
    let after = hand_written(s, workers, half, true, &noop);
    record_ratio(s, before, after, summary.ops, summary.elapsed);
    Ok(())
}

#[brunt::stress(duration = "2s", concurrency = 1, tags = ["bench"])]
async fn noop_concurrency_1(s: &mut Stress) -> anyhow::Result<()> {
    compare(s, 1).await
}

#[brunt::stress(duration = "2s", concurrency = 2, tags = ["bench"])]
async fn noop_concurrency_2(s: &mut Stress) -> anyhow::Result<()> {
    compare(s, 2).await
}

#[brunt::stress(duration = "2s", concurrency = 64, tags = ["bench"])]
async fn noop_concurrency_64(s: &mut Stress) -> anyhow::Result<()> {
    compare(s, 64).await
}

#[brunt::stress(duration = "2s", concurrency = 1024, tags = ["bench"])]
async fn noop_concurrency_1024(s: &mut Stress) -> anyhow::Result<()> {
    compare(s, 1024).await
}

/// A state per worker (`drive_with`: built once by each worker, lent to its
/// ops) against the hand-written loop, whose state is a local: the price of
/// the state's lending.
#[brunt::stress(duration = "2s", concurrency = 64, tags = ["bench"])]
async fn state_per_worker_64(s: &mut Stress) -> anyhow::Result<()> {
    let half = s.duration().unwrap_or(Duration::from_secs(2)) / 2;
    let noop = || std::future::ready(Ok::<(), ()>(()));
    let before = hand_written(s, 64, half, true, &noop);
    let summary = s
        .drive_with(
            async |w: Worker| Ok::<u64, std::convert::Infallible>(w.index),
            async |state: &mut u64, _i: u64| {
                *state = state.wrapping_add(1);
                Ok::<(), ()>(())
            },
        )
        .await?;
    let after = hand_written(s, 64, half, true, &noop);
    record_ratio(s, before, after, summary.ops, summary.elapsed);
    Ok(())
}

/// A loopback echo server on its own single-threaded runtime and OS
/// thread (the same server for both sides of the comparison, and one
/// thread, so its scheduling does not swing between runs as 64 server
/// threads on two cores did): each 8-byte message comes back as is.
fn echo_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = listener.local_addr().expect("bound address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("the echo server's runtime");
        runtime.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let mut buf = [0u8; 8];
                    while stream.read_exact(&mut buf).await.is_ok()
                        && stream.write_all(&buf).await.is_ok()
                    {}
                });
            }
        });
    });
    addr
}

/// One round trip of 8 bytes on `stream`.
async fn round_trip(stream: &mut tokio::net::TcpStream, i: u64) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = i.to_le_bytes();
    stream.write_all(&buf).await?;
    stream.read_exact(&mut buf).await?;
    Ok(())
}

async fn connect(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The hand-written loop of issue 8's "done when": `workers` loops, each
/// with its own connection made before the clock starts, timing every
/// round trip into its thread's histogram. Returns round trips per second.
fn hand_written_tcp(
    s: &Stress,
    workers: u32,
    duration: Duration,
    addr: std::net::SocketAddr,
) -> f64 {
    let threads = threads_for(workers);
    let handle = s.runtime().clone();
    let ops_and_time: Vec<(u64, Duration)> = std::thread::scope(|scope| {
        let joins: Vec<_> = (0..threads)
            .map(|t| {
                let here = workers as usize / threads + usize::from(t < workers as usize % threads);
                let handle = &handle;
                scope.spawn(move || {
                    let histogram = RefCell::new(
                        Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap(),
                    );
                    let count = RefCell::new(0u64);
                    let elapsed = handle.block_on(async {
                        let mut streams = Vec::with_capacity(here);
                        for _ in 0..here {
                            streams.push(connect(addr).await.expect("connect"));
                        }
                        let began = Instant::now();
                        let deadline = began + duration;
                        let loops = streams.into_iter().map(|mut stream| {
                            let (histogram, count) = (&histogram, &count);
                            async move {
                                let mut i = 0u64;
                                loop {
                                    let start = Instant::now();
                                    if start >= deadline {
                                        break;
                                    }
                                    let _ = round_trip(&mut stream, i).await;
                                    i += 1;
                                    histogram
                                        .borrow_mut()
                                        .saturating_record(start.elapsed().as_nanos() as u64);
                                    *count.borrow_mut() += 1;
                                }
                            }
                        });
                        futures_join_all(loops).await;
                        began.elapsed()
                    });
                    std::hint::black_box(histogram.into_inner().len());
                    (count.into_inner(), elapsed)
                })
            })
            .collect();
        joins.into_iter().map(|j| j.join().unwrap()).collect()
    });
    let ops: u64 = ops_and_time.iter().map(|(n, _)| n).sum();
    let longest = ops_and_time
        .iter()
        .map(|(_, d)| *d)
        .max()
        .unwrap_or(duration);
    ops as f64 / longest.as_secs_f64()
}

/// Issue 8's "done when": one loopback TCP connection per worker at
/// concurrency 64 (`drive_with`, no lock, no pool) against a hand-written
/// loop doing the same round trips: within 10 %.
#[brunt::stress(duration = "4s", concurrency = 64, tags = ["bench"])]
async fn tcp_per_worker_64(s: &mut Stress) -> anyhow::Result<()> {
    let addr = echo_server();
    let half = s.duration().unwrap_or(Duration::from_secs(2)) / 2;
    let before = hand_written_tcp(s, 64, half, addr);
    let summary = s
        .drive_with(
            async move |_w: Worker| connect(addr).await,
            async |stream: &mut tokio::net::TcpStream, i: u64| round_trip(stream, i).await,
        )
        .await?;
    let after = hand_written_tcp(s, 64, half, addr);
    record_ratio(s, before, after, summary.ops, summary.elapsed);
    Ok(())
}

/// A hyper HTTP/1 server on a thread of its own (a current-thread runtime,
/// so every connection it serves runs there): its CPU can be told apart from
/// the generator's. Returns its address and the thread's CPU clock.
fn hyper_server() -> (std::net::SocketAddr, libc::clockid_t) {
    use std::os::unix::thread::JoinHandleExt;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = listener.local_addr().expect("bound address");
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("the hyper server's runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let answer = hyper::service::service_fn(|_request| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(
                        http_body_util::Full::new(bytes::Bytes::from_static(b"ok")),
                    ))
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), answer),
                );
            }
        });
    });
    let mut clock: libc::clockid_t = 0;
    // SAFETY: the thread runs for the life of the process (never joined);
    // the call writes one clockid through a valid pointer.
    let rc = unsafe { libc::pthread_getcpuclockid(thread.as_pthread_t(), &mut clock) };
    assert_eq!(rc, 0, "the server thread's CPU clock");
    std::mem::forget(thread);
    (addr, clock)
}

/// CPU seconds on `clock`.
fn cpu_seconds(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The generator's CPU so far: the whole process's, less the server
/// thread's.
fn generator_cpu(server: libc::clockid_t) -> f64 {
    cpu_seconds(libc::CLOCK_PROCESS_CPUTIME_ID) - cpu_seconds(server)
}

type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Empty<bytes::Bytes>>;

/// A client connection as hyper's documentation makes one: the handshake,
/// then the connection task spawned.
async fn hyper_connect(addr: std::net::SocketAddr) -> anyhow::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// One GET, its body read to the end.
async fn hyper_get(sender: &mut Sender) -> anyhow::Result<()> {
    use http_body_util::BodyExt;
    sender.ready().await?;
    let request = hyper::Request::get("http://127.0.0.1/").body(http_body_util::Empty::new())?;
    let response = sender.send_request(request).await?;
    anyhow::ensure!(response.status().is_success());
    response.into_body().collect().await?;
    Ok(())
}

/// The loop a hand-written load generator runs (oha's shape): `workers`
/// tasks on the scenario's multi-threaded runtime, each with its own
/// connection, timing each request into a histogram of its own. Returns
/// requests and the generator's CPU seconds over `duration`.
fn hand_written_hyper(
    s: &Stress,
    workers: u32,
    duration: Duration,
    addr: std::net::SocketAddr,
    server: libc::clockid_t,
) -> (u64, f64, Duration) {
    let handle = s.runtime().clone();
    handle.block_on(async move {
        let mut senders = Vec::new();
        for _ in 0..workers {
            senders.push(hyper_connect(addr).await.expect("connect"));
        }
        let cpu_before = generator_cpu(server);
        let began = Instant::now();
        let deadline = began + duration;
        let tasks: Vec<_> = senders
            .into_iter()
            .map(|mut sender| {
                tokio::spawn(async move {
                    let mut histogram =
                        Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        let start = Instant::now();
                        if hyper_get(&mut sender).await.is_err() {
                            break;
                        }
                        let _ = histogram.record(start.elapsed().as_nanos() as u64);
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        let mut requests = 0;
        for task in tasks {
            requests += task.await.unwrap_or(0);
        }
        let elapsed = began.elapsed();
        (requests, generator_cpu(server) - cpu_before, elapsed)
    })
}

/// Issue 19's anchor: a connection per worker over hyper, 16 workers, its
/// connection task spawned as hyper's documentation shows, driven by Brunt
/// against the hand-written loop: the generator's CPU per request (the
/// process's, less the server thread's) and the requests per second.
#[brunt::stress(duration = "4s", concurrency = 16, tags = ["bench"])]
async fn hyper_per_worker_16(s: &mut Stress) -> anyhow::Result<()> {
    let (addr, server) = hyper_server();
    let half = s.duration().unwrap_or(Duration::from_secs(2)) / 2;
    let before = tokio::task::block_in_place(|| hand_written_hyper(s, 16, half, addr, server));
    let cpu_before = generator_cpu(server);
    let summary = s
        .drive_with(
            async move |_w: Worker| hyper_connect(addr).await,
            async |sender: &mut Sender, _i: u64| hyper_get(sender).await,
        )
        .await?;
    let driven_cpu = generator_cpu(server) - cpu_before;
    let after = tokio::task::block_in_place(|| hand_written_hyper(s, 16, half, addr, server));
    let hand_requests = before.0 + after.0;
    let hand_cpu = before.1 + after.1;
    let hand_time = (before.2 + after.2).as_secs_f64();
    let hand_per_request = hand_cpu / hand_requests.max(1) as f64;
    let driven_per_request = driven_cpu / summary.ops.max(1) as f64;
    s.record(
        "baseline.cpu_per_request",
        hand_per_request * 1e9,
        Unit::Nanoseconds,
    );
    s.record(
        "driven.cpu_per_request",
        driven_per_request * 1e9,
        Unit::Nanoseconds,
    );
    s.record(
        "cpu_per_request.ratio",
        driven_per_request / hand_per_request,
        Unit::Count,
    );
    let baseline = hand_requests as f64 / hand_time;
    let driven = summary.ops as f64 / summary.elapsed.as_secs_f64();
    s.record("baseline.throughput", baseline, Unit::PerSecond);
    s.record("driven.throughput", driven, Unit::PerSecond);
    s.record("overhead.ratio", driven / baseline, Unit::Count);
    Ok(())
}

fn busy_wait(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// A 2 µs op, driven (timed) against a hand-written loop that times nothing.
#[brunt::stress(duration = "2s", concurrency = 2, tags = ["bench"])]
async fn busy_2us(s: &mut Stress) -> anyhow::Result<()> {
    let half = s.duration().unwrap_or(Duration::from_secs(2)) / 2;
    let op = || {
        busy_wait(Duration::from_micros(2));
        std::future::ready(Ok::<(), ()>(()))
    };
    let before = hand_written(s, 2, half, false, &op);
    let summary = s.drive(|_| op()).await?;
    let after = hand_written(s, 2, half, false, &op);
    record_ratio(s, before, after, summary.ops, summary.elapsed);
    Ok(())
}

async fn recorder_memory(s: &mut Stress) -> anyhow::Result<()> {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    s.drive(|_| std::future::ready(Ok::<(), ()>(()))).await?;
    let peak = PEAK.load(Ordering::Relaxed);
    s.record("recorder.peak_heap", (peak - before) as f64, Unit::Bytes);
    Ok(())
}

/// Heap used while recording one million ops (2 workers).
#[brunt::stress(iterations = 1_000_000, concurrency = 2, tags = ["bench"])]
async fn recorder_memory_1m(s: &mut Stress) -> anyhow::Result<()> {
    recorder_memory(s).await
}

/// Heap used while recording ten million ops (2 workers): must equal the
/// one-million figure, since histograms do not grow with the op count.
#[brunt::stress(iterations = 10_000_000, concurrency = 2, tags = ["bench"])]
async fn recorder_memory_10m(s: &mut Stress) -> anyhow::Result<()> {
    recorder_memory(s).await
}

/// Heap used by the recorder over a long run whose ops spread over
/// thousands of latency bins a second: the load series is written out as it
/// is cut, so 120 s must use what 60 s uses. (Both past the 50 s after which
/// the series' bins are a second wide: a shorter run cuts narrower bins,
/// whose sparse lists are smaller.)
async fn recorder_memory_spread(s: &mut Stress) -> anyhow::Result<()> {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    s.drive(|i| {
        for _ in 0..(i.wrapping_mul(2_654_435_761) % 4096) {
            std::hint::spin_loop();
        }
        std::future::ready(Ok::<(), ()>(()))
    })
    .await?;
    let peak = PEAK.load(Ordering::Relaxed);
    s.record("recorder.peak_heap", (peak - before) as f64, Unit::Bytes);
    Ok(())
}

#[brunt::stress(duration = "60s", concurrency = 2, tags = ["bench", "long"])]
async fn recorder_memory_60s(s: &mut Stress) -> anyhow::Result<()> {
    recorder_memory_spread(s).await
}

#[brunt::stress(duration = "120s", concurrency = 2, tags = ["bench", "long"])]
async fn recorder_memory_120s(s: &mut Stress) -> anyhow::Result<()> {
    recorder_memory_spread(s).await
}

/// An idle scenario sampled at 10 Hz: its `sampler.cpu` is the figure.
#[brunt::stress(sample = "100ms", tags = ["bench"])]
async fn sampler_10hz(s: &mut Stress) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    let _ = s;
    Ok(())
}

/// An idle scenario sampled at 100 Hz.
#[brunt::stress(sample = "10ms", tags = ["bench"])]
async fn sampler_100hz(s: &mut Stress) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    let _ = s;
    Ok(())
}

/// What a mix of four ops costs over one op, per operation: the same op
/// driven alone and as a 4-op mix (the op matches on the picked name), in
/// the order single, mix, mix, single (a drift of the machine's speed
/// cancels), in the same process. `work` is the op's own cost.
async fn mix_against_single(s: &mut Stress, work: Duration) -> anyhow::Result<()> {
    let rate = |d: DriveSummary| d.ops as f64 / d.elapsed.as_secs_f64();
    // Both ops are async (a future with a state machine), as real ops are.
    let single_op = |_: u64| async move {
        busy_wait(work);
        Ok::<(), ()>(())
    };
    let mixed_op = async |op: Op, _i: u64| {
        busy_wait(work);
        match op.name() {
            "a" | "b" | "c" | "d" => Ok::<(), ()>(()),
            _ => Err(()),
        }
    };
    let mut single = rate(s.drive(single_op).await?);
    let mut mixed = rate(s.drive_mix(mixed_op).await?);
    mixed += rate(s.drive_mix(mixed_op).await?);
    single += rate(s.drive(single_op).await?);
    let (single, mixed) = (single / 2.0, mixed / 2.0);
    s.record("single.throughput", single, Unit::PerSecond);
    s.record("mix.throughput", mixed, Unit::PerSecond);
    s.record("mix.ratio", mixed / single, Unit::Count);
    s.record(
        "mix.extra_per_op",
        (1e9 / mixed - 1e9 / single) * 2.0,
        Unit::Nanoseconds,
    );
    Ok(())
}

/// A 4-op mix of a 1 µs op (any op that does real work) against the op alone.
#[brunt::stress(
    duration = "2s",
    concurrency = 2,
    mix = ["a:40", "b:30", "c:20", "d:10"],
    tags = ["bench"]
)]
async fn mix_of_4(s: &mut Stress) -> anyhow::Result<()> {
    mix_against_single(s, Duration::from_micros(1)).await
}

/// The same with a no-op: what the mix itself costs per op, in ns.
#[brunt::stress(
    duration = "2s",
    concurrency = 2,
    mix = ["a:40", "b:30", "c:20", "d:10"],
    tags = ["bench"]
)]
async fn mix_of_4_noop(s: &mut Stress) -> anyhow::Result<()> {
    mix_against_single(s, Duration::ZERO).await
}

/// Open-model precision: a no-op at a fixed rate, so every latency is the
/// pacer's lateness (plus ~0.3 µs of op). `cargo xtask bench` reads
/// `latency.p50`, `latency.p99` and `generator.cpu` of each rate.
async fn open_noop(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|_| std::future::ready(Ok::<(), ()>(()))).await?;
    Ok(())
}

#[brunt::stress(rate = "100/s", duration = "3s", tags = ["bench"])]
async fn open_noop_100(s: &mut Stress) -> anyhow::Result<()> {
    open_noop(s).await
}

#[brunt::stress(rate = "1000/s", duration = "3s", tags = ["bench"])]
async fn open_noop_1000(s: &mut Stress) -> anyhow::Result<()> {
    open_noop(s).await
}

#[brunt::stress(rate = "2000/s", duration = "3s", tags = ["bench"])]
async fn open_noop_2000(s: &mut Stress) -> anyhow::Result<()> {
    open_noop(s).await
}

#[brunt::stress(rate = "10000/s", duration = "3s", tags = ["bench"])]
async fn open_noop_10000(s: &mut Stress) -> anyhow::Result<()> {
    open_noop(s).await
}

#[brunt::stress(rate = "20000/s", duration = "3s", tags = ["bench"])]
async fn open_noop_20000(s: &mut Stress) -> anyhow::Result<()> {
    open_noop(s).await
}

#[brunt::stress(rate = "50000/s", duration = "3s", tags = ["bench"])]
async fn open_noop_50000(s: &mut Stress) -> anyhow::Result<()> {
    open_noop(s).await
}

/// The smallest scenario, for the cost of a child process versus inline.
#[brunt::stress(iterations = 1, tags = ["bench"])]
async fn trivial(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|_| std::future::ready(Ok::<(), ()>(()))).await?;
    Ok(())
}

fn main() {
    brunt::main()
}
