use brunt::prelude::*;

#[brunt::stress(
    escalate(start = 8, max = 64, step = "1s", until(window("1s", latency.p99 <= 50ms))),
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
