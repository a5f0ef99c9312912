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
    let (mut args, filters) = parse_arguments(std::env::args_os());
    let env = match EnvSettings::from_env() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    // Orphans of a scenario's child are re-parented here, where the runner
    // can still kill them; Ctrl-C stops the scenario's processes too.
    super::processes::become_subreaper();
    if !env.inline.unwrap_or(false) {
        super::processes::catch_interrupts();
    }
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
    warn_on_empty_filters(&args, &filters, &scenarios);
    let full_run = filters.is_empty()
        && args.skip.is_empty()
        && (args.ignored || args.include_ignored)
        && !args.list;
    let trials: Vec<Trial> = scenarios
        .iter()
        .filter_map(|&entry| {
            let name = entry.trial_name();
            let selected = filters.len() < 2 || filters.iter().any(|f| matches(&args, f, &name));
            // With several filters Brunt selects (libtest-mimic takes one).
            // Under `--ignored`, a trial not selected is passed as not
            // ignored, so libtest-mimic leaves it out and counts it as
            // filtered out; otherwise it is dropped here.
            if !selected && !args.ignored {
                return None;
            }
            let env = env.clone();
            Some(
                Trial::test(name, move || run_trial(entry, &env, options))
                    .with_ignored_flag(selected),
            )
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if full_run && !check_unreferenced(&scenarios, &env) {
        std::process::exit(101);
    }
    conclusion.exit();
}

/// libtest options that take a value (`--skip NAME`, `--format terse`, …):
/// the word after them is that value, never a filter.
const VALUE_OPTIONS: &[&str] = &[
    "--skip",
    "--test-threads",
    "--logfile",
    "--color",
    "--format",
    "-Z",
];

/// Reads libtest's command line, taking every positional word as a filter
/// (libtest runs the tests matching any of them; libtest-mimic reads one).
/// With one filter libtest-mimic applies it as usual; with several, Brunt
/// selects the trials and libtest-mimic gets none. A bad option exits with
/// libtest-mimic's usage error (code 2).
fn parse_arguments(argv: impl IntoIterator<Item = std::ffi::OsString>) -> (Arguments, Vec<String>) {
    let mut kept = Vec::new();
    let mut filters = Vec::new();
    let mut argv = argv.into_iter();
    kept.extend(argv.next());
    let mut positional_only = false;
    while let Some(word) = argv.next() {
        let text = word.to_string_lossy();
        if positional_only || !text.starts_with('-') || text == "-" {
            filters.push(text.into_owned());
        } else if text == "--" {
            positional_only = true;
        } else {
            let takes_value = VALUE_OPTIONS.contains(&text.as_ref());
            kept.push(word);
            if takes_value {
                kept.extend(argv.next());
            }
        }
    }
    let mut args = Arguments::from_iter(kept);
    if filters.len() == 1 {
        args.filter = filters.pop();
    }
    (args, filters)
}

/// Whether `name` matches `filter` as libtest matches: a substring, or the
/// whole name with `--exact`.
fn matches(args: &Arguments, filter: &str, name: &str) -> bool {
    if args.exact {
        name == filter
    } else {
        name.contains(filter)
    }
}

/// A filter that selects no scenario is almost always a typo: say so for
/// each, with the closest names. (Not an error: `cargo test FILTER` passes
/// the filter to every test target, and most will have nothing to match.)
fn warn_on_empty_filters(args: &Arguments, filters: &[String], scenarios: &[&ScenarioEntry]) {
    if args.list {
        return;
    }
    let names: Vec<String> = scenarios.iter().map(|e| e.trial_name()).collect();
    let all: Vec<&str> = match &args.filter {
        Some(one) => vec![one.as_str()],
        None => filters.iter().map(String::as_str).collect(),
    };
    for filter in all {
        if names.iter().any(|n| matches(args, filter, n)) {
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> (Arguments, Vec<String>) {
        parse_arguments(
            std::iter::once("stress")
                .chain(words.iter().copied())
                .map(Into::into),
        )
    }

    #[test]
    fn every_positional_word_is_a_filter() {
        let (args, filters) = parse(&["--ignored", "kernel::", "--skip", "slow", "agentic::"]);
        assert!(args.ignored);
        assert_eq!(args.skip, ["slow"]);
        assert_eq!(args.filter, None);
        assert_eq!(filters, ["kernel::", "agentic::"]);
    }

    #[test]
    fn one_filter_is_left_to_libtest_mimic() {
        let (args, filters) = parse(&["--exact", "echo", "--format", "terse", "--skip=kv"]);
        assert_eq!(args.filter.as_deref(), Some("echo"));
        assert!(filters.is_empty());
        assert!(args.exact);
        assert_eq!(args.skip, ["kv"]);
    }
}
