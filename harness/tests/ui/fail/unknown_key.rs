use brunt::prelude::*;

#[brunt::stress(durration = "10s")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
