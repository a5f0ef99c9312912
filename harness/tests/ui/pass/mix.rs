use brunt::prelude::*;

#[brunt::stress(
    duration = "10s",
    concurrency = 8,
    mix = ["tools_list:70", "calculator:30"],
    think = "uniform(10ms, 50ms)",
    criteria(op.tools_list.latency.p99 <= 20ms, op.calculator.success_rate >= 99%, expected_errors == 0),
)]
async fn registry(s: &mut Stress) -> anyhow::Result<()> {
    s.drive_mix_with(
        async |w: Worker| Ok::<_, std::io::Error>(w.index),
        async |_state: &mut u64, op: Op, _i: u64| match op.name() {
            "tools_list" => OpStatus::Ok,
            _ => expect_err(Err::<(), _>("invalid")),
        },
    )
    .await?;
    Ok(())
}

fn main() {
    brunt::main()
}
