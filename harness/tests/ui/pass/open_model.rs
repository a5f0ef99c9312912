use brunt::prelude::*;

#[brunt::stress(
    rate = "500/s",
    max_in_flight = 64,
    connections = 16,
    duration = "3s",
    expect_findings = ["memory_leak", "target_fd_growth"],
    criteria(
        latency.p99 <= 50ms,
        service_time.p99 <= 10ms,
        dropped == 0,
        late <= 10,
        offered_rate >= 490/s,
        arrival.lag.p99 <= 1ms,
        queued == 0,
        connections.peak <= 16,
        ops == answered,
        attempted_rate >= 0.99 * offered_rate,
        target.rss.growth <= 0.1 * heap.allocated,
    ),
)]
async fn open(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|i| async move { Ok::<_, std::io::Error>(i) }).await?;
    Ok(())
}

fn main() {
    brunt::main()
}
