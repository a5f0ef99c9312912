use brunt::prelude::*;

#[brunt::stress(rate = "100/s", duration = "10s", max_in_flight = 8, connections = 16)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
