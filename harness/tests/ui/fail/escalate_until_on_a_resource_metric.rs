use brunt::prelude::*;

#[brunt::stress(
    escalate(start = 8, factor = 2, max = 64, step = "1s", until(rss.peak <= 1GiB)),
)]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
