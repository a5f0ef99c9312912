#[brunt::stress(duration = "10s")]
async fn scenario(s: &mut String) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
