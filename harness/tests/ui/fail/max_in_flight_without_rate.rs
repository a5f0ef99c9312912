use brunt::prelude::*;

#[brunt::stress(duration = "10s", concurrency = 4, max_in_flight = 100)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
