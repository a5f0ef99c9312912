use brunt::prelude::*;

#[brunt::stress(duration = "1m", criteria(abort(ops >= 1000)))]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
