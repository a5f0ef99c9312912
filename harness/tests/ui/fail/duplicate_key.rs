use brunt::prelude::*;

#[brunt::stress(concurrency = 4, concurrency = 8)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
