use brunt::prelude::*;

#[brunt::stress(
    duration = "10s",
    concurrency = 8,
    warmup = "1s",
    sample = "100ms",
    timeout = "2m",
    seed = 42,
    memory_limit = "512MiB",
    tags = ["mcp", "echo"],
    criteria(
        success_rate >= 99.5%,
        throughput >= 1000/s,
        latency.p99 <= 20ms,
        latency.p999 < 1.5s,
        rss.growth <= 16MiB,
        rss.slope <= 64KiB/s,
        errors == 0,
        target.rss.peak < 1GiB,
        sessions_open != 3,
        cpu.mean <= 150%,
        window("10s", throughput >= 900/s),
        window("1m", latency.p99 <= 30ms),
        abort(errors <= 1000),
        abort(rss.peak < 2GiB),
    ),
)]
async fn echo_roundtrip(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|i| async move { Ok::<_, std::io::Error>(i) }).await?;
    s.record("sessions_open", 1.0, Unit::Count);
    Ok(())
}

fn main() {
    brunt::main()
}
