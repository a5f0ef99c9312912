use brunt::prelude::*;

#[brunt::stress(duration = "5s", min_duration = "10s")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
