use brunt::prelude::*;

#[brunt::stress(duration = "10s", tags = ["ok", 3])]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
