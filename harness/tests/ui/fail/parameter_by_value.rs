use brunt::prelude::*;

#[brunt::stress(duration = "10s")]
async fn scenario(s: Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
