use brunt::prelude::*;

#[brunt::stress(duration = "10 seconds")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
