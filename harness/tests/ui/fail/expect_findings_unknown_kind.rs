use brunt::prelude::*;

#[brunt::stress(duration = "10s", expect_findings = ["memory_leek"])]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
