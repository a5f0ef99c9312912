use brunt::prelude::*;

#[brunt::stress(duration = "10s", rate = "500/s", concurrency = 8)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
