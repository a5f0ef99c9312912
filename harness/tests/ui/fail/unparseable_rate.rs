use brunt::prelude::*;

#[brunt::stress(duration = "10s", rate = "fast")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
