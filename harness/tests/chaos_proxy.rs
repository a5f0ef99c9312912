//! Each toxic of the fault proxy, measured for what it does to a real TCP
//! client talking through it to a real server on loopback.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use brunt::chaos::proxy::{FaultProxy, Toxic};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server: answers every chunk with itself.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 || conn.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// A server that writes `bytes` bytes to each connection and closes it.
async fn source_server(bytes: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = conn.write_all(&vec![7u8; bytes]).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    addr
}

async fn round_trip(conn: &mut TcpStream) -> Duration {
    let start = Instant::now();
    conn.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    conn.read_exact(&mut buf).await.unwrap();
    start.elapsed()
}

async fn mean_round_trip(conn: &mut TcpStream, n: u32) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        total += round_trip(conn).await;
    }
    total / n
}

#[tokio::test]
async fn a_50ms_latency_toxic_adds_50ms_to_a_round_trip() {
    let proxy = FaultProxy::start(echo_server().await).await.unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    conn.set_nodelay(true).unwrap();
    let clean = mean_round_trip(&mut conn, 20).await;
    proxy.set(vec![Toxic::latency(
        Duration::from_millis(50),
        Duration::from_millis(5),
    )]);
    let toxic = mean_round_trip(&mut conn, 20).await;
    let added = toxic.saturating_sub(clean).as_secs_f64() * 1e3;
    assert!(
        (45.0..=55.0).contains(&added),
        "added {added:.2} ms (clean {clean:?}, toxic {toxic:?})"
    );
    // Switched off at run time, on the same connection.
    proxy.clear();
    let after = mean_round_trip(&mut conn, 20).await;
    assert!(after < Duration::from_millis(5), "{after:?} after clearing");
}

#[tokio::test]
async fn a_bandwidth_toxic_caps_the_measured_rate() {
    let bytes = 300 * 1024;
    let proxy = FaultProxy::start(source_server(bytes).await).await.unwrap();
    let rate = 400 * 1024; // B/s
    proxy.set(vec![Toxic::bandwidth(rate)]);
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    conn.read_to_end(&mut got).await.unwrap();
    let measured = got.len() as f64 / start.elapsed().as_secs_f64();
    assert_eq!(got.len(), bytes);
    assert!(
        measured <= rate as f64 * 1.05 && measured >= rate as f64 * 0.7,
        "measured {measured:.0} B/s against a cap of {rate} B/s"
    );
    // Unthrottled, the same transfer is far faster.
    proxy.clear();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    conn.read_to_end(&mut got).await.unwrap();
    assert!(
        got.len() as f64 / start.elapsed().as_secs_f64() > rate as f64 * 5.0,
        "{} > {}",
        got.len() as f64 / start.elapsed().as_secs_f64(),
        rate as f64 * 5.0
    );
}

#[tokio::test]
async fn a_reset_peer_toxic_makes_the_client_see_a_reset() {
    let proxy = FaultProxy::start(echo_server().await).await.unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut conn).await;
    let start = Instant::now();
    proxy.set(vec![Toxic::reset_peer(Duration::from_millis(100))]);
    let mut buf = [0u8; 16];
    let e = conn.read(&mut buf).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(100) && waited < Duration::from_millis(300),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_timeout_toxic_passes_nothing_then_closes() {
    let proxy = FaultProxy::start(echo_server().await).await.unwrap();
    proxy.set(vec![Toxic::timeout(Duration::from_millis(200))]);
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let start = Instant::now();
    conn.write_all(b"ping").await.unwrap();
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got).await;
    let waited = start.elapsed();
    assert!(got.is_empty(), "no data passes: {got:?}");
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_millis(500),
        "closed after {waited:?}"
    );
}

#[tokio::test]
async fn a_slow_close_toxic_delays_the_end_of_the_stream() {
    let proxy = FaultProxy::start(source_server(10).await).await.unwrap();
    proxy.set(vec![Toxic::slow_close(Duration::from_millis(150))]);
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    conn.read_to_end(&mut got).await.unwrap();
    let waited = start.elapsed();
    assert_eq!(got.len(), 10, "the data passes");
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_millis(400),
        "end of stream after {waited:?}"
    );
}

#[tokio::test]
async fn a_slicer_toxic_delivers_small_slices() {
    let proxy = FaultProxy::start(source_server(4096).await).await.unwrap();
    proxy.set(vec![Toxic::slicer(100, 20, Duration::from_millis(2))]);
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut reads = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = conn.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        reads.push(n);
    }
    assert_eq!(reads.iter().sum::<usize>(), 4096);
    assert!(reads.len() >= 30, "{} reads: {reads:?}", reads.len());
    assert!(reads.iter().all(|n| *n <= 120), "{reads:?}");
}

#[tokio::test]
async fn a_data_limit_toxic_closes_after_that_many_bytes() {
    let proxy = FaultProxy::start(source_server(10_000).await)
        .await
        .unwrap();
    proxy.set(vec![Toxic::limit_data(1_000)]);
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got).await;
    assert_eq!(got.len(), 1_000);
    // Upstream toxics leave the other direction alone.
    proxy.set(vec![Toxic::limit_data(1_000).upstream()]);
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut got = Vec::new();
    conn.read_to_end(&mut got).await.unwrap();
    assert_eq!(got.len(), 10_000);
    assert_eq!(proxy.connections(), 2);
}

/// Set in the child process of
/// [`the_proxy_backs_off_when_descriptors_run_out`].
const EMFILE_CHILD: &str = "BRUNT_TEST_PROXY_EMFILE_CHILD";

/// The proxy's own CPU time while clients wait in its backlog and it has no
/// descriptor left to accept them with: its accept loop retried at once on
/// `EMFILE` and spun at 50–68 % of a core. It now waits between tries.
/// The proxy runs in a child process (this test, run again) whose
/// descriptor limit is what it already has open; this process connects the
/// clients and reads the child's CPU time over one second.
#[test]
fn the_proxy_backs_off_when_descriptors_run_out() {
    if let Ok(upstream) = std::env::var(EMFILE_CHILD) {
        return proxy_without_descriptors(upstream.parse().unwrap());
    }
    use std::io::{BufRead, Write};
    // Where the proxy would forward to (it never gets that far).
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_proxy_backs_off_when_descriptors_run_out",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(EMFILE_CHILD, upstream.local_addr().unwrap().to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr: SocketAddr = lines
        // libtest may have begun the line with the test's name.
        .find_map(|l| l.ok()?.rsplit_once("proxy ")?.1.parse().ok())
        .expect("the child's proxy address");
    let clients: Vec<std::net::TcpStream> = (0..32)
        .map(|_| std::net::TcpStream::connect(addr).expect("a connection into the backlog"))
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "go").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(lines.find_map(|l| l.ok()?.rsplit_once("cpu_ms ")?.1.parse::<f64>().ok()));
    });
    let cpu_ms = rx.recv_timeout(Duration::from_secs(20));
    if cpu_ms.is_err() {
        let _ = child.kill();
    }
    drop(clients);
    drop(upstream);
    let _ = child.wait();
    let cpu_ms = cpu_ms
        .expect(
            "the child measured within 20 s (a proxy spinning on accept starves its own runtime)",
        )
        .expect("the child's CPU time");
    assert!(
        cpu_ms <= 100.0,
        "the proxy used {cpu_ms:.0} ms of CPU in one second with no descriptor to accept with (at most 100 ms: it must back off)"
    );
}

/// The child: a proxy to `upstream` with no descriptor left (the limit
/// lowered, the rest taken), then its own CPU time over one second once the
/// parent's clients wait in the proxy's backlog.
fn proxy_without_descriptors(upstream: SocketAddr) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let proxy = FaultProxy::start(upstream).await.unwrap();
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes and setrlimit reads the struct given.
        unsafe {
            assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
            limit.rlim_cur = open + 8;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
        // Every descriptor left taken, so the proxy has none to accept with.
        let mut filler = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            filler.push(file);
        }
        println!("proxy {}", proxy.addr());
        let mut go = String::new();
        tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut go))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = cpu_time();
        tokio::time::sleep(Duration::from_secs(1)).await;
        println!("cpu_ms {}", (cpu_time() - before).as_secs_f64() * 1e3);
        drop(filler);
    });
}

/// This process's CPU time, user and system.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}
