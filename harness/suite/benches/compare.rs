//! The cost of `stress-report`'s baseline comparison (issue 21), run by
//! `cargo xtask bench` beside Brunt's own overhead bench.

use std::time::Instant;

use brunt::prelude::*;

fn main() {
    brunt::main()
}

/// A suite of one report whose load series lasts `seconds`, its throughput
/// and latency scaled by `factor` (a 24 h soak is 86,400 seconds).
fn suite_of(seconds: usize, factor: f64) -> brunt_suite::Suite {
    let text = include_str!("../../tests/data/report.json");
    let mut report: serde_json::Value = serde_json::from_str(text).expect("the test report parses");
    let load: Vec<serde_json::Value> = (0..seconds)
        .map(|i| {
            let wobble = 1.0 + 0.05 * ((i * 7919 % 101) as f64 / 101.0);
            serde_json::json!({
                "t_ms": i as f64 * 1000.0,
                "ops": (5000.0 * factor * wobble) as u64,
                "errors": 0,
                "latency_p50_ns": 90_000.0 * factor * wobble,
                "latency_p90_ns": 150_000.0 * factor * wobble,
                "latency_p99_ns": 240_000.0 * factor * wobble,
                "latency_max_ns": 330_000.0 * factor * wobble,
            })
        })
        .collect();
    report["samples"]["load"] = serde_json::Value::Array(load);
    report["run"]["wall_ms"] = serde_json::json!(seconds as f64 * 1000.0);
    brunt_suite::Suite {
        meta: brunt_suite::SuiteMeta::default(),
        reports: vec![serde_json::from_value(report).expect("a report")],
    }
}

/// Issue 21: comparing with a baseline took 9.3 s for 2,000 s of load
/// series and 63 s for 8,000 s (a day would take tens of minutes). Times
/// `compare` on series of 2,000 s, 8,000 s and 86,400 s, in seconds.
#[brunt::stress(iterations = 1, tags = ["bench"])]
fn compare_24h(s: &mut Stress) -> anyhow::Result<()> {
    for seconds in [2_000usize, 8_000, 86_400] {
        let (base, run) = (suite_of(seconds, 1.0), suite_of(seconds, 1.05));
        let started = Instant::now();
        let comparison =
            brunt_suite::compare("bench", &base, &run, brunt_suite::CompareOptions::default());
        let took = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            !comparison.changes.is_empty(),
            "nothing compared for {seconds} s"
        );
        s.record(&format!("compare.{seconds}s"), took, Unit::Count);
    }
    Ok(())
}
