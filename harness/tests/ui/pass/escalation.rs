use brunt::prelude::*;

#[brunt::stress(
    escalate(start = 100, factor = 2, max = 1000, step = "10s", until(latency.p99 <= 50ms, success_rate >= 99%)),
    criteria(breaking_point >= 400, max_sustainable_throughput >= 1000/s),
)]
async fn tsunami(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|i| async move { Ok::<_, std::io::Error>(i) }).await?;
    Ok(())
}

fn main() {
    brunt::main()
}
