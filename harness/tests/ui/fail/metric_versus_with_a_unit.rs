use brunt::prelude::*;

#[brunt::stress(duration = "10s", criteria(rss.growth <= 2MiB * heap.allocated))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
