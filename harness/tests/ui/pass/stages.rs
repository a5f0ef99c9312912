use brunt::prelude::*;

#[brunt::stress(stages = ["10s:100", "30s:1000", "10s:0"], criteria(errors == 0))]
async fn ramping_workers(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|i| async move { Ok::<_, std::io::Error>(i) }).await?;
    Ok(())
}

#[brunt::stress(rate = "10/s", stages = ["10s:100/s", "30s:500"], criteria(dropped == 0))]
async fn ramping_arrivals(s: &mut Stress) -> anyhow::Result<()> {
    s.drive(|i| async move { Ok::<_, std::io::Error>(i) }).await?;
    Ok(())
}

fn main() {
    brunt::main()
}
