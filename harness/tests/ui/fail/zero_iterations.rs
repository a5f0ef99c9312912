use brunt::prelude::*;

#[brunt::stress(iterations = 0)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
