use brunt::prelude::*;

#[brunt::stress(
    escalate(start = "100/s", factor = 2, max = 64, step = "1s", until(latency.p99 <= 50ms)),
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
