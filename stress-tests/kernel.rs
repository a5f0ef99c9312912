//! Seed 003's seven stress tests of a Rust MCP tool kernel, against ours
//! (`brunt_fixtures::kernel`): a real rmcp server with 31 tools, driven over
//! stdio as a process sampled by pid (`target.*`), and the sustained load
//! also in process and over streamable HTTP so the reports show what each
//! transport costs. The seed's targets are criteria; the seed measured 88
//! ops/s everywhere (a client that slept), no memory and estimated latency —
//! every figure here is measured.

use brunt::prelude::*;
use brunt_fixtures::kernel::scenarios::{self, Transport};

/// Test 1: 1,000 `tools/list` calls back to back, each answer checked to
/// list all 31 tools (seed target: > 50/s, > 95 %).
#[brunt::stress(
    iterations = 1000,
    concurrency = 1,
    sample = "20ms",
    tags = ["mcp", "stdio", "seed-003"],
    criteria(
        success_rate >= 95%,
        throughput >= 50/s,
        latency.p99 <= 20ms,
        target.rss.peak <= 256MiB,
    ),
)]
async fn rapid_tool_list(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::tool_list(s, Transport::Stdio).await
}

/// Test 2: each of the seed's 30 tools in turn with valid arguments, 100
/// rounds (3,000 calls), every result checked to be a success; each tool
/// gets its own `op.<tool>.*` figures (seed target: > 99 %).
#[brunt::stress(
    iterations = 3000,
    concurrency = 1,
    sample = "20ms",
    op_timeout = "5s",
    tags = ["mcp", "stdio", "seed-003"],
    flow = [
        "web_search", "base64_encoder", "diff_calculator", "uuid_generator",
        "data_validation", "file_search", "graphql_query", "citation_formatter",
        "environment_reader", "http_request", "audio_processor", "graph_builder",
        "service_checker", "process_executor", "video_processor", "image_processor",
        "calculator", "webhook_caller", "file_converter", "api_tester",
        "web_scraper", "url_analyzer", "sitemap_crawler", "date_time_handler",
        "text_manipulator", "file_operations", "file_watcher", "webpage_monitor",
        "system_monitor", "hash_calculator",
    ],
    criteria(success_rate >= 99%, errors == 0, latency.p99 <= 100ms),
)]
async fn registry_stress(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::registry_stress(s).await
}

/// Test 3: 500 calculator calls, each a different expression and each
/// result checked (seed target: > 30/s, > 95 %).
#[brunt::stress(
    iterations = 500,
    concurrency = 1,
    sample = "20ms",
    tags = ["mcp", "stdio", "seed-003"],
    criteria(success_rate >= 95%, errors == 0, throughput >= 30/s, latency.p99 <= 20ms),
)]
async fn rapid_invocation(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::rapid_invocation(s).await
}

/// Test 4 as a ladder: JSON payloads of 1 KiB, 16 KiB, 256 KiB, 1, 2, 4 and
/// 8 MiB, 16 MB and 32 MiB echoed by `text_manipulator` and checked to the
/// byte, 20 rounds. The seed's 1 MB round trip had to take < 5 s; past the
/// kernel's 16 MiB request-size limit its JSON-RPC error is the expected
/// outcome (an error, a silence or a crash fails `op.mib32.errors == 0`),
/// and the kernel reads the oversized line in bounded chunks instead of
/// holding it: its resident memory stays under `target.rss.peak <= 1GiB`.
#[brunt::stress(
    iterations = 180,
    concurrency = 1,
    sample = "20ms",
    op_timeout = "30s",
    tags = ["mcp", "stdio", "seed-003", "payload"],
    flow = ["kib1", "kib16", "kib256", "mib1", "mib2", "mib4", "mib8", "mb16", "mib32"],
    criteria(
        errors == 0,
        op.mib1.latency.max <= 5s,
        op.mb16.latency.p50 <= 5s,
        op.mib32.expected_errors >= 1,
        op.mib32.errors == 0,
        target.rss.peak <= 1GiB,
    ),
)]
async fn payload_ladder(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::payload_ladder(s).await
}

/// Test 5: valid calls alternating with malformed requests from the corpus
/// (`fixtures/data/malformed.json`), 200 in all. Every valid call must
/// succeed and every malformed one get its JSON-RPC error, counted as an
/// expected error; a malformed request left unanswered is an error after
/// `op_timeout`.
#[brunt::stress(
    iterations = 200,
    concurrency = 1,
    sample = "20ms",
    op_timeout = "500ms",
    tags = ["mcp", "stdio", "seed-003", "malformed"],
    flow = ["valid", "invalid"],
    criteria(
        errors == 0,
        op.valid.success_rate == 100%,
        op.invalid.expected_errors >= 1,
        op.invalid.errors == 0,
    ),
)]
async fn error_recovery(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::error_recovery(s).await
}

/// Test 6 over stdio: 10,000 `tools/list` calls from 16 pipelined
/// workers, the kernel process's memory, CPU, threads and descriptors
/// sampled by pid; any growth of them is a leak finding, and a warning
/// fails the run (seed target: > 40/s, > 95 %). Ours: 10 × the seed's
/// 88/s, which a machine others keep busy still allows (3,000–5,000/s with a
/// CPU burner on each core, 10,000/s idle), and the CPU time each call costs
/// the kernel and the client, which a busy machine does not change (the
/// kernel's: 92 µs idle, 90 µs busy): a slower kernel fails these, a busier
/// machine does not.
#[brunt::stress(
    iterations = 10_000,
    concurrency = 16,
    warmup = "200ms",
    sample = "10ms",
    fail_on = "warning",
    tags = ["mcp", "stdio", "seed-003", "soak"],
    criteria(
        success_rate >= 95%,
        errors == 0,
        throughput >= 880/s,
        kernel.cpu_per_call <= 400us,
        process.cpu_per_call <= 300us,
        target.rss.growth <= 8MiB,
        target.threads.growth <= 2,
        target.fds.growth <= 2,
    ),
)]
async fn sustained_load_stdio(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::tool_list(s, Transport::Stdio).await
}

/// Test 6 in process: `tools/list` calls over in-memory connections to a
/// kernel in the scenario's own process (its heap counted exactly); 100 ×
/// the seed's 88/s on any machine (44,000–67,000/s with a CPU burner on each
/// core, 170,000/s idle), and the process's CPU time per call (kernel,
/// clients and Brunt: 11 µs idle, up to 27 µs with the burners, whose
/// sibling threads slow every instruction), bounded at 100 µs. 100,000
/// calls, not the seed's 10,000: at this rate 10,000 take 0.1 s, too short
/// for figures that hold from run to run.
#[brunt::stress(
    iterations = 100_000,
    concurrency = 16,
    warmup = "200ms",
    sample = "10ms",
    fail_on = "warning",
    tags = ["mcp", "in-process", "seed-003", "soak"],
    criteria(
        success_rate >= 95%,
        errors == 0,
        throughput >= 8800/s,
        process.cpu_per_call <= 100us,
        heap.growth <= 4MiB,
        threads.growth <= 2,
    ),
)]
async fn sustained_load_in_process(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::tool_list(s, Transport::InProcess).await
}

/// Test 6 over streamable HTTP: the same 10,000 `tools/list` calls, each
/// worker a session of its own on loopback, the kernel process sampled by pid,
/// with the CPU time each call costs both processes. The kernel's
/// descriptors settle ~150 ms into the load (44 at scale 1, flat after),
/// about one per worker's session; the warm-up covers that on a quiet
/// machine, and the fd bound allows a session's descriptor per worker
/// (16) for a busy one, where the settling outlasts a scaled warm-up (13
/// at `BRUNT_SCALE=0.25` with a CPU burner on each core). A descriptor
/// leaked per call would be thousands.
#[brunt::stress(
    iterations = 10_000,
    concurrency = 16,
    warmup = "1s",
    sample = "10ms",
    fail_on = "warning",
    tags = ["mcp", "http", "seed-003", "soak"],
    criteria(
        success_rate >= 95%,
        errors == 0,
        throughput >= 880/s,
        kernel.cpu_per_call <= 500us,
        process.cpu_per_call <= 500us,
        target.rss.growth <= 8MiB,
        target.threads.growth <= 2,
        target.fds.growth <= 16,
    ),
)]
async fn sustained_load_http(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::tool_list(s, Transport::Http).await
}

/// Test 7: 500 `tool_search` calls over the seed's eight query patterns,
/// each answer checked to find a tool (seed target: > 95 %).
#[brunt::stress(
    iterations = 500,
    concurrency = 1,
    sample = "20ms",
    tags = ["mcp", "stdio", "seed-003"],
    criteria(success_rate >= 95%, errors == 0, latency.p99 <= 20ms),
)]
async fn rapid_search(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::rapid_search(s).await
}

/// The client is not the bottleneck: the same `tools/list` load through
/// rmcp's own client and through the thin pipelined client the scenarios
/// use, each against a kernel process of its own, with the CPU per call of
/// both processes (`client.<name>.cpu_per_call`,
/// `client.<name>.kernel_cpu_per_call`). The scenarios drive with the
/// cheaper client (`client.thin.vs_rmcp`: its CPU per call as a share of
/// rmcp's), and it must spend less per call than the kernel does
/// (`client.thin.vs_kernel`): the server is what saturates.
#[brunt::stress(
    iterations = 4000,
    concurrency = 4,
    sample = "20ms",
    tags = ["mcp", "stdio", "client-cost"],
    criteria(
        errors == 0,
        client.thin.vs_rmcp <= 100%,
        client.thin.vs_kernel <= 100%,
    ),
)]
async fn client_cost(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::client_cost(s).await
}

/// Issue 20's defences under load: 40 arrivals a second for 20 s, 70 % valid
/// `calculator` calls, 15 % the malformed corpus, 15 % the heaviest calls the
/// budgets allow (a search and a read of 64 MiB of stored lines, 10,000
/// aliases of a 256 KiB GraphQL field, 64 nested tags, a 1 MiB enum quoted
/// 380 times, a CSV table of 4 M cells), all on one stdio connection. The
/// valid calls keep their latency while the heavy ones saturate the heavy
/// threads, every malformed request gets its error, the kernel's memory
/// stays bounded, and it answers at the end.
#[brunt::stress(
    rate = "40/s",
    duration = "20s",
    op_timeout = "15s",
    sample = "50ms",
    mix = ["valid:70", "malformed:15", "heavy:15"],
    tags = ["mcp", "stdio", "hostile"],
    criteria(
        errors == 0,
        op.valid.success_rate == 100%,
        op.valid.latency.p99 <= 50ms,
        op.malformed.expected_errors >= 1,
        op.heavy.expected_errors >= 1,
        target.rss.peak <= 640MiB,
        kernel.alive == 1,
    ),
)]
async fn hostile_load(s: &mut Stress) -> anyhow::Result<()> {
    scenarios::hostile_load(s).await
}
