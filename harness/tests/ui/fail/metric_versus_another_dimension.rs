use brunt::prelude::*;

#[brunt::stress(duration = "10s", criteria(latency.p99 <= 2 * throughput))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
