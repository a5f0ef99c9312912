//! `cargo xtask bench`: Brunt's own cost. Builds `harness/benches/overhead.rs`
//! in release mode, runs its scenarios (each compares a hand-written loop
//! with `Stress::drive` in the same process), times isolated against inline
//! runs of a trivial scenario, and writes every figure with its goal to
//! `target/stress-reports/bench.json`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// Builds the bench binary and returns its path.
fn build(root: &Path) -> anyhow::Result<PathBuf> {
    let output = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "test",
            "--release",
            "-p",
            "brunt",
            "--bench",
            "overhead",
            "--no-run",
            "--message-format=json",
        ])
        .output()
        .context("running cargo to build the bench")?;
    if !output.status.success() {
        bail!(
            "building the bench failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"]["name"] == "overhead")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .context("cargo reported no executable for the overhead bench")
}

/// Runs the bench binary on `filter` with reports to `dir`.
fn run_scenarios(exe: &Path, dir: &Path, filter: Option<&str>, inline: bool) -> anyhow::Result<()> {
    let mut command = Command::new(exe);
    command
        .env("BRUNT_REPORT_DIR", dir)
        .env("BRUNT_SNAPSHOTS", "0")
        .env("BRUNT_INLINE", if inline { "1" } else { "0" })
        .env_remove("BRUNT_SCALE")
        .arg("--ignored")
        .arg("--format")
        .arg("terse");
    if let Some(filter) = filter {
        command.args(["--exact", filter]);
    }
    let output = command.output().context("running the bench binary")?;
    if !output.status.success() {
        bail!(
            "the bench scenarios failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn metric(dir: &Path, scenario: &str, name: &str) -> anyhow::Result<f64> {
    let path = dir.join(format!("{scenario}.json"));
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    )?;
    report["metrics"][name]["value"]
        .as_f64()
        .with_context(|| format!("{} has no value for `{name}`", path.display()))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    goal: String,
    met: bool,
    detail: String,
}

/// Runs every measurement; returns whether every goal was met.
pub fn run(root: &Path, runs: usize) -> anyhow::Result<bool> {
    let runs = runs.max(1);
    eprintln!("bench: building harness/benches/overhead.rs (release)");
    let exe = build(root)?;
    let out = root.join("target/stress-reports");
    let base = out.join("bench");
    let _ = std::fs::remove_dir_all(&base);
    let mut figures = Vec::new();

    let ratio_scenarios = [
        (
            "noop_concurrency_1",
            "driven no-op / hand-written timed loop, concurrency 1",
        ),
        (
            "noop_concurrency_2",
            "driven no-op / hand-written timed loop, concurrency 2",
        ),
        (
            "noop_concurrency_64",
            "driven no-op / hand-written timed loop, concurrency 64",
        ),
        (
            "noop_concurrency_1024",
            "driven no-op / hand-written timed loop, concurrency 1024",
        ),
        (
            "busy_2us",
            "driven 2 us op / hand-written untimed loop, concurrency 2",
        ),
    ];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); ratio_scenarios.len()];
    let mut throughputs: Vec<Vec<(f64, f64)>> = vec![Vec::new(); ratio_scenarios.len()];
    for r in 0..runs {
        let dir = base.join(format!("run-{r}"));
        eprintln!("bench: run {}/{runs}", r + 1);
        run_scenarios(&exe, &dir, None, false)?;
        for (i, (scenario, _)) in ratio_scenarios.iter().enumerate() {
            ratios[i].push(metric(&dir, scenario, "overhead.ratio")?);
            throughputs[i].push((
                metric(&dir, scenario, "driven.throughput")?,
                metric(&dir, scenario, "baseline.throughput")?,
            ));
        }
    }
    for (i, (scenario, what)) in ratio_scenarios.iter().enumerate() {
        let all: Vec<String> = ratios[i].iter().map(|r| format!("{r:.3}")).collect();
        let value = median(&mut ratios[i].clone());
        let (driven, hand) = throughputs[i][0];
        figures.push(Figure {
            name: format!("{scenario}: {what}"),
            value,
            unit: "ratio",
            goal: ">= 0.95".into(),
            met: value >= 0.95,
            detail: format!(
                "median of {runs} runs [{}]; first run {:.2} M/s driven vs {:.2} M/s hand-written",
                all.join(", "),
                driven / 1e6,
                hand / 1e6
            ),
        });
    }

    let first = base.join("run-0");
    let mem_1m = metric(&first, "recorder_memory_1m", "recorder.peak_heap")?;
    let mem_10m = metric(&first, "recorder_memory_10m", "recorder.peak_heap")?;
    figures.push(Figure {
        name: "recorder heap while recording 10 million ops (2 workers)".into(),
        value: mem_10m / 1048576.0,
        unit: "MiB",
        goal: "<= 4 MiB, independent of op count".into(),
        met: mem_10m <= 4.0 * 1048576.0 && (mem_10m - mem_1m).abs() <= 64.0 * 1024.0,
        detail: format!(
            "peak live heap above the drive's start: {:.0} KiB for 1 M ops, {:.0} KiB for 10 M ops",
            mem_1m / 1024.0,
            mem_10m / 1024.0
        ),
    });
    for (scenario, hz, goal) in [("sampler_10hz", 10, 0.5), ("sampler_100hz", 100, 3.0)] {
        let cpu = metric(&first, scenario, "sampler.cpu")?;
        figures.push(Figure {
            name: format!("sampler CPU at {hz} Hz"),
            value: cpu,
            unit: "% of one core",
            goal: format!("<= {goal} %"),
            met: cpu <= goal,
            detail: "the sampler thread's CPU time over its wall time, idle 5 s scenario".into(),
        });
    }

    eprintln!("bench: isolation cost (15 isolated and 15 inline runs of a trivial scenario)");
    let mut isolated = Vec::new();
    let mut inline = Vec::new();
    for k in 0..15 {
        for (inline_run, times) in [(false, &mut isolated), (true, &mut inline)] {
            let dir = base.join(format!("trivial-{k}-{inline_run}"));
            let started = Instant::now();
            run_scenarios(&exe, &dir, Some("trivial"), inline_run)?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let cost = median(&mut isolated) - median(&mut inline);
    figures.push(Figure {
        name: "running a scenario in its own process vs inline".into(),
        value: cost,
        unit: "ms",
        goal: "<= 30 ms".into(),
        met: cost <= 30.0,
        detail: format!(
            "median wall of the whole test binary: {:.1} ms isolated, {:.1} ms inline",
            median(&mut isolated),
            median(&mut inline)
        ),
    });

    let host = json!({
        "cpus": std::thread::available_parallelism().map_or(1, usize::from),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
    });
    let doc = json!({
        "date": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        "host": host,
        "runs": runs,
        "figures": figures.iter().map(|f| json!({
            "name": f.name, "value": f.value, "unit": f.unit,
            "goal": f.goal, "met": f.met, "detail": f.detail,
        })).collect::<Vec<_>>(),
    });
    std::fs::create_dir_all(&out)?;
    let path = out.join("bench.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")?;
    eprintln!();
    for f in &figures {
        eprintln!(
            "{} {:<78} {:>10.3} {:<14} goal {}\n      {}",
            if f.met { "ok  " } else { "MISS" },
            f.name,
            f.value,
            f.unit,
            f.goal,
            f.detail
        );
    }
    eprintln!("\nbench: wrote {}", path.display());
    Ok(figures.iter().all(|f| f.met))
}
