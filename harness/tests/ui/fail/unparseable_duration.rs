use brunt::prelude::*;

#[brunt::stress(duration = "ten seconds")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
