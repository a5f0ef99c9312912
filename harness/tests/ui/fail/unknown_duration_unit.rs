use brunt::prelude::*;

#[brunt::stress(warmup = "10parsecs")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
