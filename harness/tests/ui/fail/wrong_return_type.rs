use brunt::prelude::*;

#[brunt::stress(duration = "10s")]
fn scenario(s: &mut Stress) -> Result<(), String> {
    let _ = s;
    Ok(())
}

fn main() {}
