use brunt::prelude::*;

#[brunt::stress(duration = "10s", criteria(errors <= "five"))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
