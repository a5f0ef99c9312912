//! `cargo xtask stress-report`: runs the stress suite (or one shard of
//! it), reads back every scenario's report, compares with a baseline and
//! writes `stress-report.md`, `stress-report.json`, `junit.xml` and
//! `stress-report.html`. Exit codes: 0 all passed, 1 a scenario did not
//! pass or a metric regressed, 2 a usage or input error.
//!
//! The whole command lives here, so any repository gets it from a
//! three-line xtask calling [`xtask_main`].

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use clap::Parser;

use crate::baseline::{BaselineStore, CompareOptions, Comparison, compare};
use crate::model::{Shard, Suite, SuiteMeta, load_reports};
use crate::render::{render_html, render_json, render_junit, render_markdown};
use crate::suite_file::load_run_dir;
use crate::view::{exit_code, verdict_line};
use brunt_grammar::env::{EnvSettings, SegmentSetting};

/// The command's arguments.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Run the stress suite and write its reports: Markdown, JSON, JUnit, HTML")]
pub struct StressReportArgs {
    /// Run only scenarios whose name contains FILTER (repeat for several).
    #[arg(long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// BRUNT_SCALE for every scenario (default: the environment's, else 1).
    #[arg(long)]
    pub scale: Option<f64>,
    /// BRUNT_SEED for every scenario (default: each scenario's own seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where the artifacts go [default: <target dir>/stress-report].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Rerun a failed scenario up to N times (BRUNT_RETRIES); one that
    /// fails then passes passes the run, marked flaky in every artifact.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: Option<u32>,
    /// Run the I-th of N deterministic partitions of the scenarios.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Run segment I of N of every scenario's load (BRUNT_SEGMENT).
    #[arg(long, value_name = "I/N")]
    pub segment: Option<SegmentSetting>,
    /// Merge the output directories of shard runs instead of running.
    #[arg(long, value_name = "DIR", num_args = 1.., conflicts_with_all = ["shard", "segment", "filters", "scale", "seed", "retries"])]
    pub merge: Vec<PathBuf>,
    /// Save this run as baseline NAME (under <target dir>/stress-baselines).
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Compare this run with baseline NAME.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Exit 1 on a regression [default: true when CI is set, else false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub fail_on_regression: Option<bool>,
    /// Relative change, percent, below which a metric never regresses.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub tolerance: f64,
    /// Noise threshold, percent: a change's confidence interval must lie
    /// outside ±this.
    #[arg(long, value_name = "PERCENT", default_value_t = 1.0)]
    pub noise: f64,
    /// The test target holding the scenarios (`cargo test --test NAME`).
    #[arg(long = "test", value_name = "NAME", default_value = "stress")]
    pub test_target: String,
    /// Run this built test executable instead of `cargo test --test NAME`.
    #[arg(long, value_name = "PATH")]
    pub test_binary: Option<PathBuf>,
    /// Where baselines live [default: <target dir>/stress-baselines].
    #[arg(long, value_name = "DIR")]
    pub baseline_dir: Option<PathBuf>,
}

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
enum XtaskCli {
    /// Run the stress suite and write its reports.
    StressReport(StressReportArgs),
}

/// The whole of an xtask that offers `cargo xtask stress-report`:
/// `fn main() -> std::process::ExitCode { brunt_suite::xtask_main() }`.
pub fn xtask_main() -> ExitCode {
    let XtaskCli::StressReport(args) = XtaskCli::parse();
    stress_report(args)
}

/// Runs the command; prints errors and maps them to exit code 2.
pub fn stress_report(args: StressReportArgs) -> ExitCode {
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &StressReportArgs) -> anyhow::Result<u8> {
    for (flag, value) in [("--tolerance", args.tolerance), ("--noise", args.noise)] {
        if !(value.is_finite() && value >= 0.0) {
            bail!("{flag} {value}: expected a percentage >= 0, e.g. 10");
        }
    }
    // `cargo metadata` is asked at most once, and only when a default
    // needs it.
    let target = std::cell::OnceCell::new();
    let target = || target.get_or_init(target_dir);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| target().join("stress-report"));
    // Absolute: cargo runs the test binary in its package's directory, so a
    // relative `--out` handed on as BRUNT_REPORT_DIR would land there.
    let out = std::path::absolute(&out).with_context(|| format!("--out {}", out.display()))?;
    let reports_dir = out.join("reports");
    let store = BaselineStore::new(
        args.baseline_dir
            .clone()
            .unwrap_or_else(|| target().join("stress-baselines")),
    );
    // The seed every scenario runs under: `--seed`, else `BRUNT_SEED`, read
    // (and rejected when invalid) as the runner reads it.
    let seed = match args.seed {
        Some(seed) => Some(seed),
        None => EnvSettings::from_env()?.seed,
    };
    // A baseline that cannot be read is an input error: say so before a
    // long run, not after.
    let baseline = match &args.baseline {
        Some(name) => Some((name.clone(), store.load(name)?)),
        None => None,
    };
    if let Some(name) = &args.save_baseline {
        store.path(name)?;
    }
    if let Some((name, base)) = &baseline
        && args.merge.is_empty()
        && base.meta.seed != seed
    {
        bail!(
            "baseline `{name}` ran with BRUNT_SEED {}, this run would use {}: not comparable",
            seed_text(base.meta.seed),
            seed_text(seed)
        );
    }
    // Shards are read before anything in `--out` is cleared, and `--out`
    // may not be one of them: merging never destroys its input.
    let merged_runs = if args.merge.is_empty() {
        None
    } else {
        // Compared as the file system resolves them (`a/../shard`, links),
        // not as spelled.
        std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
        let out_real = out
            .canonicalize()
            .with_context(|| format!("--out {}", out.display()))?;
        let mut runs = Vec::new();
        for dir in &args.merge {
            // A directory that does not resolve is reported by its reader.
            if let Ok(real) = dir.canonicalize()
                && (real == out_real || real.starts_with(&out_real))
            {
                bail!(
                    "--out {} is {} merged ({}): writing there would clear its input; choose another --out",
                    out.display(),
                    if real == out_real {
                        "one of the directories"
                    } else {
                        "a directory holding one of the directories"
                    },
                    dir.display()
                );
            }
            runs.push((dir.clone(), load_run_dir(dir)?));
        }
        Some(runs)
    };
    prepare_out(&out)?;

    let suite = match merged_runs {
        None => run_suite(args, seed, &reports_dir)?,
        Some(runs) => {
            let merged = Suite::merge(runs)?;
            std::fs::create_dir_all(&reports_dir)
                .with_context(|| format!("creating {}", reports_dir.display()))?;
            for r in &merged.reports {
                // Names were checked as the shards were read: a name is
                // Rust path segments, never a path, so this stays in --out.
                let path =
                    reports_dir.join(format!("{}.json", r.scenario.name.replace("::", "__")));
                std::fs::write(&path, serde_json::to_vec_pretty(r)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            merged
        }
    };
    // Every report's histograms must read back: a corrupt one is an input
    // error naming its scenario, not a silent hole in the suite's latency.
    suite.merged_histograms().map_err(anyhow::Error::msg)?;
    if let Some((name, base)) = &baseline
        && base.meta.seed != suite.meta.seed
    {
        bail!(
            "baseline `{name}` ran with BRUNT_SEED {}, these shards with {}: not comparable",
            seed_text(base.meta.seed),
            seed_text(suite.meta.seed)
        );
    }
    let comparison: Option<Comparison> = baseline.map(|(name, base)| {
        compare(
            &name,
            &base,
            &suite,
            CompareOptions {
                tolerance_pct: args.tolerance,
                noise_pct: args.noise,
                ..CompareOptions::default()
            },
        )
    });
    let markdown = render_markdown(&suite, comparison.as_ref());
    write(&out.join("stress-report.md"), markdown.as_bytes())?;
    write(
        &out.join("stress-report.json"),
        &serde_json::to_vec_pretty(&render_json(&suite, comparison.as_ref()))?,
    )?;
    write(
        &out.join("junit.xml"),
        render_junit(&suite, comparison.as_ref()).as_bytes(),
    )?;
    write(
        &out.join("stress-report.html"),
        render_html(&suite, comparison.as_ref()).as_bytes(),
    )?;
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .with_context(|| {
                format!("opening GITHUB_STEP_SUMMARY {}", summary.to_string_lossy())
            })?;
        file.write_all(markdown.as_bytes()).with_context(|| {
            format!(
                "appending to GITHUB_STEP_SUMMARY {}",
                summary.to_string_lossy()
            )
        })?;
    }
    let regressed = comparison
        .as_ref()
        .is_some_and(|c| c.regressions().next().is_some());
    if let Some(name) = &args.save_baseline {
        // A run that regressed never becomes the baseline it is compared
        // with: the next run would measure against the regression.
        if regressed && args.baseline.as_deref() == Some(name.as_str()) {
            eprintln!("baseline `{name}` kept: this run regressed against it");
        } else {
            let path = store.save(name, &suite)?;
            eprintln!("baseline `{name}` saved to {}", path.display());
        }
    }
    if let Some(c) = comparison.as_ref().filter(|c| !c.refused.is_empty()) {
        for r in &c.refused {
            eprintln!("error: `{}` not compared: {}", r.scenario, r.reason);
        }
        eprintln!(
            "error: baseline `{}` ran other load settings: save it again with `--save-baseline {}`",
            c.baseline, c.baseline
        );
        return Ok(2);
    }
    let fail_on_regression = args
        .fail_on_regression
        .unwrap_or_else(|| std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false"));
    eprintln!("{}", verdict_line(&suite, comparison.as_ref()));
    if let Some(c) = &comparison {
        for m in c.regressions() {
            eprintln!(
                "  regressed: {} {} {}",
                m.scenario,
                m.metric,
                m.sampled
                    .as_ref()
                    .map_or(String::new(), |s| format!("{:+.1}%", s.change_pct))
            );
        }
    }
    eprintln!("reports in {}", out.display());
    Ok(exit_code(&suite, comparison.as_ref(), fail_on_regression))
}

fn seed_text(seed: Option<u64>) -> String {
    seed.map_or("unset".to_string(), |s| s.to_string())
}

/// Removes the artifacts and reports of an earlier run, so nothing stale
/// is aggregated.
fn prepare_out(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for name in [
        "stress-report.md",
        "stress-report.json",
        "junit.xml",
        "stress-report.html",
    ] {
        let _ = std::fs::remove_file(out.join(name));
    }
    let reports = out.join("reports");
    if reports.exists() {
        std::fs::remove_dir_all(&reports)
            .with_context(|| format!("clearing {}", reports.display()))?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// The runner: the built test binary, or `cargo test --test <target> --`.
fn runner(args: &StressReportArgs) -> Command {
    match &args.test_binary {
        Some(bin) => Command::new(bin),
        None => {
            let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
            c.args(["test", "--test", &args.test_target, "--"]);
            c
        }
    }
}

/// Builds the test target first, in the open: `cargo test --no-run` with
/// cargo's own progress on the terminal, so the minutes a cold build takes
/// are never a blank screen (listing the scenarios would build it silently).
fn build_runner(args: &StressReportArgs) -> anyhow::Result<()> {
    if args.test_binary.is_some() {
        return Ok(());
    }
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.args(["test", "--test", &args.test_target, "--no-run"]);
    eprintln!(
        "building the test target `{}` (cargo test --test {} --no-run)",
        args.test_target, args.test_target
    );
    let status = c.status().with_context(|| format!("running {c:?}"))?;
    if !status.success() {
        bail!(
            "building the test target `{}` failed ({status}); see cargo's output above",
            args.test_target
        );
    }
    Ok(())
}

/// The runner as a person would type it.
fn runner_text(args: &StressReportArgs) -> String {
    match &args.test_binary {
        Some(bin) => bin.display().to_string(),
        None => format!("cargo test --test {} --", args.test_target),
    }
}

/// Every scenario name the runner lists (`--ignored --list`), matching
/// the filters if any.
fn list_scenarios(args: &StressReportArgs) -> anyhow::Result<Vec<String>> {
    let mut c = runner(args);
    c.args(["--ignored", "--list"]).args(&args.filters);
    let output = c.output().with_context(|| format!("running {c:?}"))?;
    if !output.status.success() {
        bail!(
            "listing the scenarios failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect())
}

fn run_suite(
    args: &StressReportArgs,
    seed: Option<u64>,
    reports_dir: &Path,
) -> anyhow::Result<Suite> {
    if let Some(scale) = args.scale
        && !(scale.is_finite() && scale > 0.0)
    {
        bail!("--scale {scale}: expected a number > 0");
    }
    build_runner(args)?;
    let listed = list_scenarios(args)?;
    if listed.is_empty() {
        if args.filters.is_empty() {
            bail!("the test target lists no scenario");
        }
        bail!(
            "no scenario matches {}",
            args.filters
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        );
    }
    let selected = match args.shard {
        Some(shard) => shard.select(&listed),
        None => listed.clone(),
    };
    let started_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    if selected.is_empty() {
        bail!(
            "shard {} of {} scenarios is empty: use fewer shards",
            args.shard.map(|s| s.to_string()).unwrap_or_default(),
            listed.len()
        );
    }
    std::fs::create_dir_all(reports_dir)
        .with_context(|| format!("creating {}", reports_dir.display()))?;
    let mut c = runner(args);
    c.arg("--ignored");
    if args.shard.is_some() {
        c.arg("--exact").args(&selected);
    } else {
        c.args(&args.filters);
    }
    c.env("BRUNT_REPORT_DIR", reports_dir);
    if let Some(scale) = args.scale {
        c.env("BRUNT_SCALE", scale.to_string());
    }
    if let Some(seed) = args.seed {
        c.env("BRUNT_SEED", seed.to_string());
    }
    if let Some(retries) = args.retries {
        c.env("BRUNT_RETRIES", retries.to_string());
    }
    if let Some(segment) = args.segment {
        // One way of naming the segment, so the runner never sees two.
        c.env("BRUNT_SEGMENT", segment.to_string())
            .env_remove("BRUNT_SEGMENTS");
    }
    eprintln!(
        "running {} scenario{}{} one at a time: {}",
        selected.len(),
        if selected.len() == 1 { "" } else { "s" },
        args.shard
            .map_or(String::new(), |s| format!(" (shard {s})")),
        runner_text(args)
    );
    let status = c.status().with_context(|| format!("running {c:?}"))?;
    let mut reports = match load_reports(reports_dir) {
        Ok(r) => r,
        Err(e) => bail!("the suite ran ({status}) and wrote no report: {e}"),
    };
    reports.retain(|r| selected.contains(&r.scenario.name));
    let missing: Vec<&String> = selected
        .iter()
        .filter(|n| !reports.iter().any(|r| &r.scenario.name == *n))
        .collect();
    if !missing.is_empty() {
        bail!(
            "the runner ({status}) wrote no report for {}",
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let (git_commit, git_dirty) = git_state();
    let passed = reports
        .iter()
        .all(|r| r.outcome == brunt_report::Outcome::Passed);
    let runner_failed = (!status.success() && passed).then(|| {
        format!(
            "the runner exited with {status} although every scenario passed: a changed or unreferenced snapshot fails the run too (see its output above)"
        )
    });
    let first = &reports[0];
    Ok(Suite {
        meta: SuiteMeta {
            started_at,
            git_commit,
            git_dirty,
            host: Some(first.run.host.clone()),
            scale: first.run.scale,
            seed,
            test_target: args.test_target.clone(),
            runner: runner_text(args),
            filters: args.filters.clone(),
            shard: args.shard,
            runner_failed,
            merged_shards: Vec::new(),
            brunt_version: env!("CARGO_PKG_VERSION").to_string(),
        },
        reports,
    })
}

/// `git rev-parse HEAD` and whether the work tree has changes; `None`
/// outside a repository.
fn git_state() -> (Option<String>, bool) {
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let dirty = head.is_some()
        && Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    (head, dirty)
}

/// The target directory: `CARGO_TARGET_DIR`, else cargo's own answer for
/// the workspace, else `target`.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v["target_directory"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}
