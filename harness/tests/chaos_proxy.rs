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
