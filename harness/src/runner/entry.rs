//! `brunt::main()`: the test binary's entry point. As a parent it turns the
//! registered scenarios into ignored libtest-mimic trials and runs them one
//! at a time; as a child (re-executed by a trial) it runs one scenario.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, FormatSetting, Trial};

use super::CHILD_ENV;
use super::child::run_child;
use super::parent::{TrialOptions, run_trial};
use super::progress::progress_wanted;
use super::snapshot::{SnapshotCheck, unreferenced_snapshots};
use crate::registry::{ScenarioEntry, all_scenarios};
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
    // Scenarios run only under `--ignored` / `--include-ignored`: then a
    // filter that selects nothing is a mistake, and nothing runs.
    let runs_scenarios = (args.ignored || args.include_ignored) && !args.list;
    if runs_scenarios {
        let unmatched = unmatched_filters(&args, &filters, &scenarios);
        if !unmatched.is_empty() {
            for line in &unmatched {
                eprintln!("error: {line}");
            }
            eprintln!(
                "error: nothing was run; fix the filter (unlike libtest, Brunt refuses a filter that selects no scenario: a typo would otherwise pass having measured nothing)"
            );
            std::process::exit(2);
        }
        // A replay file is input like a `BRUNT_*` value: checked before
        // anything runs, an error naming the field, exit 2. It is read
        // without blocking (a FIFO is refused, not waited on), so the
        // runner's SIGINT and SIGTERM hold while it reads.
        if let Some(path) = &env.replay {
            let loaded = crate::chaos::ScheduleFile::load(path);
            if let Some(signal) = super::processes::interrupted() {
                std::process::exit(128 + signal);
            }
            if let Err(e) = loaded {
                eprintln!("error: BRUNT_REPLAY={}: {e}", path.display());
                std::process::exit(2);
            }
        }
    } else if !args.list {
        let selected = scenarios
            .iter()
            .filter(|e| selects(&args, &filters, &e.trial_name()))
            .count();
        if selected > 0 {
            eprintln!(
                "brunt: {selected} stress scenario{} ignored, as scenarios are by default; run {} with `cargo test --test {} -- --ignored`",
                if selected == 1 { " is" } else { "s are" },
                if selected == 1 { "it" } else { "them" },
                test_target_name()
            );
        }
    }
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

/// Whether the command line selects the trial `name`: no filter, or any
/// filter matching, and no `--skip` matching.
fn selects(args: &Arguments, filters: &[String], name: &str) -> bool {
    let mut all: Vec<&str> = filters.iter().map(String::as_str).collect();
    all.extend(args.filter.as_deref());
    (all.is_empty() || all.iter().any(|f| matches(args, f, name)))
        && !args.skip.iter().any(|s| name.contains(s.as_str()))
}

/// The name of this test target as `cargo test --test NAME` takes it: the
/// executable's name without the hash cargo appends (`stress-0a1b…`).
fn test_target_name() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stress".to_string());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            name.to_string()
        }
        _ => stem,
    }
}

/// A filter that selects no scenario is almost always a typo: one line for
/// each, with the closest names.
fn unmatched_filters(
    args: &Arguments,
    filters: &[String],
    scenarios: &[&ScenarioEntry],
) -> Vec<String> {
    let mut lines = Vec::new();
    let names: Vec<String> = scenarios.iter().map(|e| e.trial_name()).collect();
    let all: Vec<&str> = match &args.filter {
        Some(one) => vec![one.as_str()],
        None => filters.iter().map(String::as_str).collect(),
    };
    for filter in all {
        if names.iter().any(|n| matches(args, filter, n)) {
            continue;
        }
        // A filter is a substring: judge it against the part of each name
        // it comes closest to (`kernal::` is one edit from `kernel::…`).
        let allowed = (filter.chars().count() / 4).max(1);
        let mut near: Vec<(usize, &String)> = names
            .iter()
            .map(|n| (substring_distance(&filter.to_lowercase(), n), n))
            .filter(|(d, _)| *d <= allowed)
            .collect();
        near.sort_by_key(|(d, _)| *d);
        let near: Vec<&String> = near.into_iter().take(5).map(|(_, n)| n).collect();
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
        lines.push(format!(
            "filter `{filter}`{} matches no scenario in this binary; {hint}",
            if args.exact { " (--exact)" } else { "" }
        ));
    }
    lines
}

/// The fewest edits that turn `filter` into some substring of `name`:
/// the edit distance to the closest window of the filter's length, give or
/// take one character.
fn substring_distance(filter: &str, name: &str) -> usize {
    let chars: Vec<char> = name.chars().collect();
    let len = filter.chars().count();
    let mut best = brunt_grammar::edit_distance(filter, name);
    for width in len.saturating_sub(1)..=len + 1 {
        for start in 0..=chars.len().saturating_sub(width) {
            let end = (start + width).min(chars.len());
            let window: String = chars[start..end].iter().collect();
            best = best.min(brunt_grammar::edit_distance(filter, &window));
        }
    }
    best
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
    fn a_misspelt_filter_is_near_the_names_it_meant() {
        assert_eq!(substring_distance("kernal::", "kernel::rapid_tool_list"), 1);
        assert_eq!(substring_distance("echo", "stress::echo_soak"), 0);
        assert!(substring_distance("chaos", "kernel::rapid_tool_list") > 1);
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
