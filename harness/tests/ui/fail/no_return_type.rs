use brunt::prelude::*;

#[brunt::stress(duration = "10s")]
async fn scenario(s: &mut Stress) {
    let _ = s;
}

fn main() {}
