use brunt::prelude::*;

#[brunt::stress(iterations = 10, criteria(p99_latency <= 20ms))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
