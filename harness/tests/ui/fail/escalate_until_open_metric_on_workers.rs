use brunt::prelude::*;

#[brunt::stress(
    escalate(start = 8, factor = 2, max = 64, step = "1s", until(dropped == 0)),
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
