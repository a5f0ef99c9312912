use brunt::prelude::*;

#[brunt::stress(duration = "10s", criteria(window("1s", throughput >= 0.9 * offered_rate)))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
