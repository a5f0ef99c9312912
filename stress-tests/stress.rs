//! Brunt's own stress suite. Run it with
//! `cargo test --test stress -- --ignored`; plain `cargo test` lists and
//! skips these scenarios. `BRUNT_SCALE` shrinks or stretches every duration
//! and iteration count (CI runs a small scale).

use brunt::prelude::*;
use brunt_fixtures::echo::{EchoClient, EchoServer};
use brunt_fixtures::kernel::budget::CallAccounting;
use brunt_fixtures::kv::KvStore;

mod agentic;
mod chaos;
mod explosion;
mod kernel;
mod supervision;

/// Exact heap counts (`heap.*`) in every report of the suite. Wrapped in
/// the MCP kernel's per-call accounting, as in `mcp-kernel`: the kernel the
/// `kernel::*` scenarios start is this binary (and in process, this
/// process), and without it a tool call's memory budget holds only where
/// the tool reserves before allocating (one thread-local read per
/// allocation outside a call).
#[cfg(not(feature = "mimalloc"))]
#[global_allocator]
static ALLOCATOR: CallAccounting<brunt::heap::CountingAllocator> =
    CallAccounting::new(brunt::heap::CountingAllocator::system());

/// The same counts over mimalloc (`--features mimalloc`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: CallAccounting<brunt::heap::CountingAllocator<mimalloc::MiMalloc>> =
    CallAccounting::new(brunt::heap::CountingAllocator::new(mimalloc::MiMalloc));

/// Request/response over real loopback TCP: eight concurrent connections to
/// a line-echo server, every reply checked against its request.
#[brunt::stress(
    duration = "2s",
    concurrency = 8,
    warmup = "500ms",
    sample = "50ms",
    timeout = "1m",
    seed = 42,
    tags = ["tcp", "request-response"],
    criteria(
        success_rate >= 99.5%,
        throughput >= 1000/s,
        latency.p99 <= 20ms,
        rss.growth <= 16MiB,
        sessions_open <= 8,
    ),
)]
async fn echo_roundtrip(s: &mut Stress) -> anyhow::Result<()> {
    let server = EchoServer::start().await?;
    let client = EchoClient::new(server.addr());
    s.phase("load");
    let summary = s
        .drive(|i| client.call(if i.is_multiple_of(2) { "ping" } else { "pong" }))
        .await?;
    s.phase("verify");
    // Every successful call, warm-up included, was answered by the server:
    // a client that saw more replies than the server sent is broken.
    let answered = server.served();
    let succeeded = summary.ops - summary.errors + summary.warmup_ops - summary.warmup_errors;
    if answered < succeeded {
        s.finding(
            Severity::Critical,
            "replies without requests",
            format!("{succeeded} successful calls but the server answered {answered}"),
        );
    }
    s.record("sessions_open", server.sessions() as f64, Unit::Count);
    s.record(
        "connections_pooled",
        client.pooled().await as f64,
        Unit::Count,
    );
    Ok(())
}

/// The same echo server under the open model: 2,000 arrivals a second on a
/// fixed schedule, each measured from its intended start, so a server that
/// falls behind cannot hide it by slowing the generator down.
#[brunt::stress(
    rate = "2000/s",
    max_in_flight = 256,
    duration = "2s",
    warmup = "250ms",
    sample = "50ms",
    tags = ["tcp", "open-model"],
    criteria(success_rate >= 99.9%, latency.p99 <= 50ms, dropped == 0, rss.growth <= 16MiB),
)]
async fn echo_open_model(s: &mut Stress) -> anyhow::Result<()> {
    let server = EchoServer::start().await?;
    let client = EchoClient::new(server.addr());
    s.drive(|_| client.call("ping")).await?;
    s.record("sessions_open", server.sessions() as f64, Unit::Count);
    Ok(())
}

/// A single-writer key-value actor behind a bounded channel: every put is
/// read back and compared, so lost or reordered writes show up as errors.
#[brunt::stress(
    iterations = 20_000,
    concurrency = 16,
    sample = "50ms",
    tags = ["actor", "channel"],
    criteria(errors == 0, latency.p99 <= 10ms, throughput >= 2000/s),
)]
async fn kv_request_response(s: &mut Stress) -> anyhow::Result<()> {
    let store = KvStore::start(1024);
    s.drive(|i| {
        let store = &store;
        async move {
            let value = i.to_le_bytes().to_vec();
            store.put(i, value.clone()).await?;
            match store.get(i).await? {
                Some(read) if read == value => Ok(()),
                other => Err(anyhow::anyhow!("key {i}: wrote {value:?}, read {other:?}")),
            }
        }
    })
    .await?;
    Ok(())
}

/// A minute of steady request/response over loopback (15 s in CI): neither
/// the process's resident memory nor its heap may grow, Brunt's own
/// recording included.
#[brunt::stress(
    duration = "60s",
    concurrency = 4,
    warmup = "2s",
    sample = "200ms",
    tags = ["tcp", "soak"],
    criteria(success_rate >= 99.9%, rss.growth <= 2MiB, heap.growth <= 1MiB),
)]
async fn echo_soak(s: &mut Stress) -> anyhow::Result<()> {
    let server = EchoServer::start().await?;
    let client = EchoClient::new(server.addr());
    s.drive(|_| client.call("soak")).await?;
    Ok(())
}

fn main() {
    // The kernel scenarios start their MCP kernels by re-running this
    // binary with `MCP_KERNEL_SERVE` set: it then serves and exits here.
    brunt_fixtures::kernel::process::serve_if_asked();
    brunt::main()
}
