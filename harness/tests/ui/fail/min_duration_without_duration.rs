use brunt::prelude::*;

#[brunt::stress(iterations = 100, min_duration = "10s")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
