use brunt::prelude::*;

#[brunt::stress(iterations = 10, criteria(success_rate >= 99.5%, latency.p99 <= 20MiB))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
