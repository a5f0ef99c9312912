use brunt::prelude::*;

#[brunt::stress(
    iterations = 10, mix = ["read:70", "write:30"], criteria(op.reed.latency.p99 <= 5ms),
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
