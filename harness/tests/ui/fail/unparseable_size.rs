use brunt::prelude::*;

#[brunt::stress(memory_limit = "lots")]
async fn scenario(s: &mut Stress) -> anyhow::Result<()> {
    let _ = s;
    Ok(())
}

fn main() {}
