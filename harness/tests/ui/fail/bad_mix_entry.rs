use brunt::prelude::*;

#[brunt::stress(
    iterations = 10, mix = ["read=70"],
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
