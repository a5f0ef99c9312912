//! `brunt::main()`: the test binary's entry point. As a parent it turns the
//! registered scenarios into ignored libtest-mimic trials and runs them one
//! at a time; as a child (re-executed by a trial) it runs one scenario.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, FormatSetting, Trial};

use super::CHILD_ENV;
use super::child::run_child;
use super::parent::{TrialOptions, run_trial};
use super::progress::progress_wanted;
use crate::registry::{ScenarioEntry, all_scenarios};
use crate::report::{SnapshotCheck, unreferenced_snapshots};
use crate::settings::EnvSettings;

/// Runs the stress scenarios of this test binary, with libtest's command
/// line: `--ignored`, `--include-ignored`, filters, `--exact`, `--skip`,
/// `--list`, `--format terse`, `--nocapture`.
///
/// Call it from the `main` of a test target with `harness = false`
/// (`fn main() { brunt::main() }`).
pub fn main() {
    if let Ok(name) = std::env::var(CHILD_ENV) {
        run_child(&name);
    }
    let mut args = Arguments::from_args();
    let env = match EnvSettings::from_env() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    // One scenario at a time: measurements must not share the machine.
    args.test_threads = Some(1);
    let quiet = args.quiet || matches!(args.format, Some(FormatSetting::Terse));
    let options = TrialOptions {
        nocapture: args.nocapture,
        quiet,
        progress: !quiet && progress_wanted(),
    };
    let scenarios = all_scenarios();
    if scenarios.is_empty() && !args.list {
        eprintln!(
            "warning: brunt::main() found no scenario; mark functions with #[brunt::stress(...)] in this test target"
        );
    }
    warn_on_empty_filter(&args, &scenarios);
    let trials: Vec<Trial> = scenarios
        .iter()
        .map(|&entry| {
            let env = env.clone();
            Trial::test(entry.trial_name(), move || run_trial(entry, &env, options))
                .with_ignored_flag(true)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    let full_run = args.filter.is_none()
        && args.skip.is_empty()
        && (args.ignored || args.include_ignored)
        && !args.list;
    if full_run && !check_unreferenced(&scenarios, &env) {
        std::process::exit(101);
    }
    conclusion.exit();
}

fn matches_filter(args: &Arguments, name: &str) -> bool {
    let Some(filter) = &args.filter else {
        return true;
    };
    if args.exact {
        name == filter
    } else {
        name.contains(filter.as_str())
    }
}

/// A filter that selects no scenario is almost always a typo: say so, with
/// the closest names. (Not an error: `cargo test FILTER` passes the filter to
/// every test target, and most will have nothing to match.)
fn warn_on_empty_filter(args: &Arguments, scenarios: &[&ScenarioEntry]) {
    let Some(filter) = &args.filter else { return };
    if args.list
        || scenarios
            .iter()
            .any(|e| matches_filter(args, &e.trial_name()))
    {
        return;
    }
    let names: Vec<String> = scenarios.iter().map(|e| e.trial_name()).collect();
    let mut near: Vec<&String> = names
        .iter()
        .filter(|n| {
            brunt_grammar::edit_distance(filter, n) <= 3 || n.contains(&filter.to_lowercase())
        })
        .collect();
    near.truncate(5);
    let hint = if near.is_empty() {
        format!(
            "{} scenarios exist; list them with --list --ignored",
            names.len()
        )
    } else {
        format!(
            "closest: {}",
            near.iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    eprintln!(
        "warning: filter `{filter}`{} matches no scenario in this binary; {hint}",
        if args.exact { " (--exact)" } else { "" }
    );
}

/// After a full run, every snapshot must belong to a scenario: a stale one
/// means a scenario was renamed or removed without its snapshot.
fn check_unreferenced(scenarios: &[&ScenarioEntry], env: &EnvSettings) -> bool {
    let mut dirs: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for entry in scenarios {
        if let SnapshotCheck::In(dir) = SnapshotCheck::locate(env, Path::new(entry.manifest_dir)) {
            match dirs.iter_mut().find(|(d, _)| *d == dir) {
                Some((_, stems)) => stems.push(entry.file_stem()),
                None => dirs.push((dir, vec![entry.file_stem()])),
            }
        }
    }
    let mut clean = true;
    for (dir, stems) in dirs {
        for stale in unreferenced_snapshots(&dir, &stems) {
            eprintln!(
                "error: snapshot {} belongs to no scenario; delete it (or restore its scenario)",
                stale.display()
            );
            clean = false;
        }
    }
    clean
}
