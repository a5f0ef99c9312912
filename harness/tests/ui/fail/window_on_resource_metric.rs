use brunt::prelude::*;

#[brunt::stress(duration = "1m", criteria(window("10s", rss.peak <= 1GiB)))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
