use brunt::prelude::*;

#[brunt::stress(
    rate = "100/s", duration = "1s", flow = ["login", "logout"],
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
