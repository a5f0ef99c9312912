use brunt::prelude::*;

#[brunt::stress(stages = ["10s:100", "30s"], concurrency = 1)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
