use brunt::prelude::*;

#[brunt::stress(concurrency = "8")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
