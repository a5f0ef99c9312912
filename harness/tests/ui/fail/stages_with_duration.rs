use brunt::prelude::*;

#[brunt::stress(duration = "1m", stages = ["10s:100", "30s:100", "10s:0"])]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
