use brunt::prelude::*;

#[brunt::stress(
    iterations = 10, think = "normal(10ms)",
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
