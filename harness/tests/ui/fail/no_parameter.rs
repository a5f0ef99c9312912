#[brunt::stress(duration = "10s")]
async fn scenario() -> anyhow::Result<()> {
    Ok(())
}

fn main() {}
