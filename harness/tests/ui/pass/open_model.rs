use brunt::prelude::*;

#[brunt::stress(
    rate = "500/s",
    max_in_flight = 64,
    duration = "3s",
    criteria(latency.p99 <= 50ms, service_time.p99 <= 10ms, dropped == 0, late <= 10, offered_rate >= 490/s),
)]
async fn open(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|i| async move { Ok::<_, std::io::Error>(i) }).await?;
    Ok(())
}

fn main() {
    brunt::main()
}
