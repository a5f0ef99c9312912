use brunt::prelude::*;

#[brunt::stress(iterations = 10_000, concurrency = 2)]
fn blocking(s: &mut Stress) -> anyhow::Result<()> {
    s.drive_blocking(|i| Ok::<_, String>(i))?;
    Ok(())
}

fn main() {
    brunt::main()
}
