use brunt::prelude::*;

#[brunt::stress(
    iterations = 10, criteria(op.read.latency.p99 <= 5ms),
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
