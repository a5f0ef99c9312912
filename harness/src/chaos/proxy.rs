//! A fault proxy: a TCP proxy on loopback to put in front of any server,
//! with toxiproxy's toxics switched on and off while connections run.
//!
//! Toxics apply, as in toxiproxy, to one direction of every connection:
//! `downstream` (server → client, the default) or `upstream` (client →
//! server). Data toxics (latency, bandwidth, slicer) act on each chunk the
//! proxy reads; connection toxics (timeout, reset peer, data limit, slow
//! close) end connections. A change of toxics reaches connections already
//! open at their next chunk, or at once for toxics that end connections.
//!
//! ```no_run
//! # async fn f(server: std::net::SocketAddr) -> std::io::Result<()> {
//! use brunt::chaos::proxy::{FaultProxy, Toxic};
//! use std::time::Duration;
//! let proxy = FaultProxy::start(server).await?;
//! // clients connect to proxy.addr() instead of server
//! proxy.set(vec![Toxic::latency(Duration::from_millis(50), Duration::from_millis(5))]);
//! proxy.clear();
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::engine::{ChaosFuture, Fault, FaultCtx};

/// Which way a toxic acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client → server.
    Upstream,
    /// Server → client (toxiproxy's default).
    Downstream,
}

/// What a toxic does.
#[derive(Debug, Clone, PartialEq)]
pub enum ToxicKind {
    /// Delays each chunk by `latency` ± up to `jitter` (uniform).
    Latency {
        /// Added delay.
        latency: Duration,
        /// Most deviation either way.
        jitter: Duration,
    },
    /// Passes at most this many bytes per second.
    Bandwidth {
        /// Bytes per second.
        bytes_per_s: u64,
    },
    /// Delays passing on the end of the stream (a FIN) by `delay`.
    SlowClose {
        /// The delay.
        delay: Duration,
    },
    /// Passes no data; closes the connection after `after` (never when
    /// zero).
    Timeout {
        /// When the connection is closed.
        after: Duration,
    },
    /// Resets the client's connection (a TCP RST: "connection reset by
    /// peer") after `after`.
    ResetPeer {
        /// When the reset happens.
        after: Duration,
    },
    /// Cuts each chunk into slices of `average` ± `variation` bytes, with
    /// `delay` between slices.
    Slicer {
        /// Mean slice size, bytes.
        average: usize,
        /// Most deviation either way, bytes.
        variation: usize,
        /// Pause between slices.
        delay: Duration,
    },
    /// Closes the connection once `bytes` have passed in this direction.
    LimitData {
        /// Bytes allowed through.
        bytes: u64,
    },
}

/// A toxic and the direction it acts in.
#[derive(Debug, Clone, PartialEq)]
pub struct Toxic {
    /// What it does.
    pub kind: ToxicKind,
    /// Which way.
    pub direction: Direction,
}

impl Toxic {
    fn downstream(kind: ToxicKind) -> Toxic {
        Toxic {
            kind,
            direction: Direction::Downstream,
        }
    }

    /// Latency with jitter.
    pub fn latency(latency: Duration, jitter: Duration) -> Toxic {
        Toxic::downstream(ToxicKind::Latency { latency, jitter })
    }

    /// A bandwidth cap, bytes per second.
    pub fn bandwidth(bytes_per_s: u64) -> Toxic {
        Toxic::downstream(ToxicKind::Bandwidth { bytes_per_s })
    }

    /// A delayed close.
    pub fn slow_close(delay: Duration) -> Toxic {
        Toxic::downstream(ToxicKind::SlowClose { delay })
    }

    /// A black hole that closes after `after` (never when zero).
    pub fn timeout(after: Duration) -> Toxic {
        Toxic::downstream(ToxicKind::Timeout { after })
    }

    /// A reset of the client's connection after `after`.
    pub fn reset_peer(after: Duration) -> Toxic {
        Toxic::downstream(ToxicKind::ResetPeer { after })
    }

    /// Small slices with pauses.
    pub fn slicer(average: usize, variation: usize, delay: Duration) -> Toxic {
        Toxic::downstream(ToxicKind::Slicer {
            average,
            variation,
            delay,
        })
    }

    /// A limit on the bytes a connection passes.
    pub fn limit_data(bytes: u64) -> Toxic {
        Toxic::downstream(ToxicKind::LimitData { bytes })
    }

    /// The same toxic acting on client → server data.
    pub fn upstream(mut self) -> Toxic {
        self.direction = Direction::Upstream;
        self
    }

    /// A short description for logs: `latency 50ms ± 5ms downstream`.
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            ToxicKind::Latency { latency, jitter } => format!("latency {latency:?} ± {jitter:?}"),
            ToxicKind::Bandwidth { bytes_per_s } => format!("bandwidth {bytes_per_s} B/s"),
            ToxicKind::SlowClose { delay } => format!("slow close {delay:?}"),
            ToxicKind::Timeout { after } => format!("timeout {after:?}"),
            ToxicKind::ResetPeer { after } => format!("reset peer after {after:?}"),
            ToxicKind::Slicer {
                average,
                variation,
                delay,
            } => format!("slicer {average} ± {variation} B every {delay:?}"),
            ToxicKind::LimitData { bytes } => format!("limit data {bytes} B"),
        };
        let way = match self.direction {
            Direction::Upstream => "upstream",
            Direction::Downstream => "downstream",
        };
        format!("{what} {way}")
    }
}

/// A running fault proxy. Dropping it stops accepting and ends every
/// connection.
pub struct FaultProxy {
    addr: SocketAddr,
    toxics: watch::Sender<Vec<Toxic>>,
    connections: Arc<AtomicU64>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// How long the proxy waits after a failed accept before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Largest chunk the proxy reads at once.
const CHUNK: usize = 16 * 1024;

impl FaultProxy {
    /// Listens on `127.0.0.1` (an ephemeral port) and forwards every
    /// connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (toxics, watcher) = watch::channel(Vec::new());
        let connections = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&connections);
        let accept = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let client = match listener.accept().await {
                    Ok((client, _)) => client,
                    // Out of descriptors (or another passing failure): the
                    // connection stays in the backlog, so retrying at once
                    // would spin a core until a descriptor is freed.
                    Err(_) => {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let watcher = watcher.clone();
                connections.spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        connection(client, server, watcher, n).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(FaultProxy {
            addr,
            toxics,
            connections,
            accept,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the toxics in force.
    pub fn set(&self, toxics: Vec<Toxic>) {
        self.toxics.send_replace(toxics);
    }

    /// Removes every toxic.
    pub fn clear(&self) {
        self.set(Vec::new());
    }

    /// The toxics in force.
    pub fn toxics(&self) -> Vec<Toxic> {
        self.toxics.borrow().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// A fault that switches on the toxic `make` draws (from the fault's
    /// generator), holds it for a time drawn from `hold`, and clears it.
    pub fn fault(
        self: &Arc<Self>,
        make: impl Fn(&mut ChaCha8Rng) -> Toxic + Send + Sync + 'static,
        hold: RangeInclusive<Duration>,
    ) -> ProxyFault {
        ProxyFault {
            proxy: Arc::clone(self),
            make: Arc::new(make),
            hold,
        }
    }
}

type MakeToxic = Arc<dyn Fn(&mut ChaCha8Rng) -> Toxic + Send + Sync>;

/// See [`FaultProxy::fault`].
#[derive(Clone)]
pub struct ProxyFault {
    proxy: Arc<FaultProxy>,
    make: MakeToxic,
    hold: RangeInclusive<Duration>,
}

impl Fault for ProxyFault {
    fn inject(&self, ctx: FaultCtx) -> ChaosFuture {
        let mut rng = ctx.rng();
        let toxic = (self.make)(&mut rng);
        let hold = super::faults::draw_duration(&mut rng, &self.hold);
        let proxy = Arc::clone(&self.proxy);
        Box::pin(async move {
            ctx.detail(format!("{} for {hold:?}", toxic.describe()));
            proxy.set(vec![toxic]);
            // Cleared also when the fault is cut short.
            struct Clear(Arc<FaultProxy>);
            impl Drop for Clear {
                fn drop(&mut self) {
                    self.0.clear();
                }
            }
            let clear = Clear(proxy);
            tokio::time::sleep(hold).await;
            drop(clear);
            Ok(())
        })
    }
}

/// How one direction of a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The reader reached its end (passed on as a half-close).
    Eof,
    /// The connection is to be closed.
    Close,
    /// The client's connection is to be reset.
    Reset,
}

async fn connection(
    client: TcpStream,
    server: TcpStream,
    toxics: watch::Receiver<Vec<Toxic>>,
    n: u64,
) {
    let (mut client_r, mut client_w) = client.into_split();
    let (mut server_r, mut server_w) = server.into_split();
    let end = {
        let up = pump(
            &mut client_r,
            &mut server_w,
            toxics.clone(),
            Direction::Upstream,
            n.wrapping_mul(2),
        );
        let down = pump(
            &mut server_r,
            &mut client_w,
            toxics,
            Direction::Downstream,
            n.wrapping_mul(2) + 1,
        );
        tokio::pin!(up, down);
        let (mut up_done, mut down_done) = (false, false);
        loop {
            let end = tokio::select! {
                e = &mut up, if !up_done => { up_done = true; e }
                e = &mut down, if !down_done => { down_done = true; e }
            };
            if end != End::Eof {
                break end;
            }
            if up_done && down_done {
                break End::Eof;
            }
        }
    };
    if end == End::Reset {
        // Whole again, so that no half's drop sends a FIN before the RST.
        if let Ok(client) = client_r.reunite(client_w) {
            let _ = client.set_zero_linger();
            drop(client);
        }
    }
}

/// A `timeout` toxic in force: the stream is held open, data read
/// meanwhile dropped (as toxiproxy's timeout does), and closed `after` (never
/// when zero). `None` when the toxics changed first.
async fn hold(
    after: Duration,
    from: &mut OwnedReadHalf,
    buf: &mut [u8],
    toxics: &mut watch::Receiver<Vec<Toxic>>,
) -> Option<End> {
    let close = async {
        if after.is_zero() {
            std::future::pending::<()>().await
        } else {
            tokio::time::sleep(after).await
        }
    };
    tokio::pin!(close);
    loop {
        tokio::select! {
            _ = &mut close => return Some(End::Close),
            _ = toxics.changed() => return None,
            read = from.read(buf) => match read {
                Ok(0) | Err(_) => return Some(End::Close),
                Ok(_) => {}
            },
        }
    }
}

/// Writes one chunk under the data toxics in force: latency (with jitter)
/// first, then sliced and paced to the bandwidth. Returns whether the write
/// went through.
async fn deliver(
    to: &mut OwnedWriteHalf,
    chunk: &[u8],
    active: &[ToxicKind],
    rng: &mut ChaCha8Rng,
) -> bool {
    for kind in active {
        if let ToxicKind::Latency { latency, jitter } = kind {
            let j = jitter.as_nanos() as i128;
            let offset = if j > 0 { rng.random_range(-j..=j) } else { 0 };
            let nanos = (latency.as_nanos() as i128 + offset).max(0) as u64;
            tokio::time::sleep(Duration::from_nanos(nanos)).await;
        }
    }
    let bandwidth = active.iter().find_map(|k| match k {
        ToxicKind::Bandwidth { bytes_per_s } => Some(*bytes_per_s),
        _ => None,
    });
    let slicer = active.iter().find_map(|k| match k {
        ToxicKind::Slicer {
            average,
            variation,
            delay,
        } => Some((*average, *variation, *delay)),
        _ => None,
    });
    match (bandwidth, slicer) {
        (_, Some((average, variation, delay))) => {
            let mut rest = chunk;
            let mut ok = true;
            while !rest.is_empty() && ok {
                let lo = average.saturating_sub(variation).max(1);
                let hi = (average + variation).max(lo);
                let size = rng.random_range(lo..=hi).min(rest.len());
                ok = write_paced(to, &rest[..size], bandwidth).await;
                rest = &rest[size..];
                if !rest.is_empty() {
                    tokio::time::sleep(delay).await;
                }
            }
            ok
        }
        (bandwidth, None) => write_paced(to, chunk, bandwidth).await,
    }
}

/// Copies `from` to `to` under the toxics of `direction`, re-reading them
/// at every chunk and whenever they change.
async fn pump(
    from: &mut OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    mut toxics: watch::Receiver<Vec<Toxic>>,
    direction: Direction,
    stream_id: u64,
) -> End {
    let mut rng = ChaCha8Rng::seed_from_u64(stream_id);
    let mut buf = vec![0u8; CHUNK];
    // Bytes passed since the current data limit came into force.
    let mut passed: u64 = 0;
    let mut limit_seen: Option<u64> = None;
    loop {
        let active: Vec<ToxicKind> = toxics
            .borrow_and_update()
            .iter()
            .filter(|t| t.direction == direction)
            .map(|t| t.kind.clone())
            .collect();
        // Connection toxics first: they decide whether data flows at all.
        if let Some(after) = active.iter().find_map(|k| match k {
            ToxicKind::ResetPeer { after } => Some(*after),
            _ => None,
        }) {
            tokio::select! {
                _ = tokio::time::sleep(after) => return End::Reset,
                _ = toxics.changed() => continue,
            }
        }
        if let Some(after) = active.iter().find_map(|k| match k {
            ToxicKind::Timeout { after } => Some(*after),
            _ => None,
        }) {
            match hold(after, from, &mut buf, &mut toxics).await {
                Some(end) => return end,
                None => continue,
            }
        }
        let limit = active.iter().find_map(|k| match k {
            ToxicKind::LimitData { bytes } => Some(*bytes),
            _ => None,
        });
        if limit != limit_seen {
            limit_seen = limit;
            passed = 0;
        }
        if limit.is_some_and(|l| passed >= l) {
            return End::Close;
        }
        let read = tokio::select! {
            read = from.read(&mut buf) => read,
            _ = toxics.changed() => continue,
        };
        let n = match read {
            Ok(0) | Err(_) => {
                if let Some(delay) = active.iter().find_map(|k| match k {
                    ToxicKind::SlowClose { delay } => Some(*delay),
                    _ => None,
                }) {
                    tokio::time::sleep(delay).await;
                }
                let _ = to.shutdown().await;
                return End::Eof;
            }
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        if let Some(l) = limit {
            let room = (l - passed).min(n as u64) as usize;
            chunk = &buf[..room];
        }
        if !deliver(to, chunk, &active, &mut rng).await {
            return End::Close;
        }
        passed += chunk.len() as u64;
        if limit.is_some_and(|l| passed >= l) {
            return End::Close;
        }
    }
}

/// Writes `data`, at most `bytes_per_s` when capped: in pieces of 10 ms
/// worth, each followed by the time it takes at that rate.
async fn write_paced(to: &mut OwnedWriteHalf, data: &[u8], bytes_per_s: Option<u64>) -> bool {
    let Some(rate) = bytes_per_s.filter(|r| *r > 0) else {
        return to.write_all(data).await.is_ok();
    };
    let piece = ((rate / 100) as usize).max(1);
    for part in data.chunks(piece) {
        if to.write_all(part).await.is_err() {
            return false;
        }
        tokio::time::sleep(Duration::from_secs_f64(part.len() as f64 / rate as f64)).await;
    }
    true
}
