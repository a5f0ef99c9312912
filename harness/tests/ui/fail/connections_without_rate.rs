use brunt::prelude::*;

#[brunt::stress(duration = "10s", concurrency = 4, connections = 16)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
