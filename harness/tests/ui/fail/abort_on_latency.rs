use brunt::prelude::*;

#[brunt::stress(duration = "1m", criteria(abort(latency.p99 <= 10ms)))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
