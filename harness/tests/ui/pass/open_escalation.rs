use brunt::prelude::*;

#[brunt::stress(
    escalate(start = "100/s", factor = 2, max = "50000/s", step = "5s", until(latency.p99 <= 50ms, dropped == 0)),
    max_in_flight = 512,
    criteria(breaking_rate >= 400/s, max_sustainable_rate >= 200/s, max_sustainable_throughput >= 200/s),
)]
async fn knee(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|i| async move { Ok::<_, std::io::Error>(i) }).await?;
    Ok(())
}

fn main() {
    brunt::main()
}
