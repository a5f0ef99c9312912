//! Repository rules, checked by `cargo xtask tidy` and, as plain tests, by
//! `cargo test`: they keep the README true and the library quiet.

use std::path::{Path, PathBuf};

/// The workspace root, from this crate's manifest directory.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // trybuild cases are user code, not ours.
            if !path.ends_with("tests/ui") && !path.ends_with("target") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `BRUNT_*` variable named in `text`.
fn env_vars(text: &str) -> Vec<String> {
    let mut vars: Vec<String> = Vec::new();
    for (i, _) in text.match_indices("\"BRUNT_") {
        let name: String = text[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        if !vars.contains(&name) {
            vars.push(name);
        }
    }
    vars
}

/// Quoted names in the first `const NAME: &[…] = &[ … ];` list of `text`.
fn const_list(text: &str, name: &str) -> Vec<String> {
    let Some(start) = text.find(&format!("const {name}")) else {
        return Vec::new();
    };
    let body = &text[start..];
    let end = body.find("];").unwrap_or(body.len());
    body[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Whether `text` calls `print!`/`println!` (not `eprint!`/`eprintln!`).
fn prints_to_stdout(text: &str) -> bool {
    ["print!(", "println!("].iter().any(|needle| {
        text.match_indices(needle)
            .any(|(i, _)| !text[..i].ends_with('e'))
    })
}

/// Every rule broken, as a sentence naming the file and the fix.
pub fn check(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for dir in ["harness", "stress-tests", "fixtures", "xtask"] {
        rust_files(&root.join(dir), &mut files);
    }
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let rel = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        if !text.starts_with("//!") {
            problems.push(format!(
                "{rel} does not start with a `//!` line saying what it owns"
            ));
        }
        let library = rel.starts_with("harness/src")
            || rel.starts_with("harness/grammar/src")
            || rel.starts_with("harness/suite/src");
        if library && prints_to_stdout(&text) {
            problems.push(format!(
                "{rel} prints to stdout; the library reports through eprintln!/the report model"
            ));
        }
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let head: String = readme.lines().take(30).collect::<Vec<_>>().join("\n");
    for command in ["cargo test --test stress -- --ignored", "cargo test"] {
        if !head.contains(command) {
            problems.push(format!(
                "README.md does not show `{command}` in its first 30 lines"
            ));
        }
    }
    let env_path = root.join("harness/grammar/src/env.rs");
    let env_source = std::fs::read_to_string(&env_path).unwrap_or_else(|e| {
        problems.push(format!(
            "cannot read {} (where BRUNT_* variables are read): {e}",
            env_path.display()
        ));
        String::new()
    });
    for var in env_vars(&env_source) {
        if !readme.contains(&var) {
            problems.push(format!(
                "README.md does not document the environment variable {var}"
            ));
        }
    }
    let options =
        std::fs::read_to_string(root.join("harness/macros/src/options.rs")).unwrap_or_default();
    for key in const_list(&options, "KEYS") {
        if !readme.contains(&format!("`{key}`")) {
            problems.push(format!(
                "README.md does not document the attribute key `{key}`"
            ));
        }
    }
    for command in [
        "cargo xtask stress-report",
        "cargo xtask bench",
        "cargo xtask tidy",
    ] {
        if !readme.contains(command) {
            problems.push(format!("README.md does not document `{command}`"));
        }
    }
    let stress_report =
        std::fs::read_to_string(root.join("harness/suite/src/command.rs")).unwrap_or_default();
    for flag in long_flags(&stress_report) {
        if !readme.contains(&format!("`--{flag}")) {
            problems.push(format!(
                "README.md does not document the stress-report flag `--{flag}`"
            ));
        }
    }
    // The README's example of a bad environment value is the error itself.
    let scale_error = brunt_grammar::env::EnvSettings::from_lookup(|var| {
        (var == "BRUNT_SCALE").then(|| "lots".to_string())
    })
    .map_or_else(|e| e.to_string(), |_| String::new());
    if !readme.contains(&format!("`error: {scale_error}`")) {
        problems.push(format!(
            "README.md does not quote the error of BRUNT_SCALE=lots as the code has it: `error: {scale_error}`"
        ));
    }
    // The units the README lists are the grammar's, each list as one span:
    // `ns us ms s m h`.
    for (what, list) in [
        ("duration", brunt_grammar::DURATION_UNITS),
        ("size", brunt_grammar::SIZE_UNITS),
        ("rate", brunt_grammar::RATE_UNITS),
        ("criterion", brunt_grammar::CRITERION_UNITS),
    ] {
        let span = format!("`{}`", list.replace('`', ""));
        if !readme.contains(&span) {
            problems.push(format!(
                "README.md does not list the {what} units as the grammar has them: {span}"
            ));
        }
    }
    for metric in brunt_grammar::METRICS.iter().map(|m| m.name) {
        let documented = readme.contains(&format!("`{metric}`"))
            || metric
                .rsplit_once('.')
                .is_some_and(|(family, _)| readme.contains(&format!("`{family}.")));
        if !documented && !metric.starts_with("target.") {
            problems.push(format!("README.md does not document the metric `{metric}`"));
        }
    }
    problems.extend(scenario_binary_dependencies(root));
    problems
}

/// Crates a scenario binary must not compile: the suite's command line,
/// charts and JUnit writer belong to `brunt-suite`, which only the xtask
/// that aggregates a suite depends on.
const SUITE_ONLY: [&str; 3] = ["clap", "plotters", "quick-junit"];

/// What `brunt`'s normal dependency tree holds that only the suite needs:
/// none of [`SUITE_ONLY`], except clap through libtest-mimic (the libtest
/// argument parser every scenario binary runs).
fn scenario_binary_dependencies(root: &Path) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let tree = std::process::Command::new(cargo)
        .current_dir(root)
        .args([
            "tree",
            "--offline",
            "-p",
            "brunt",
            "-e",
            "normal",
            "--prefix",
            "depth",
        ])
        .output();
    let tree = match tree {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => {
            return vec![format!(
                "`cargo tree -p brunt` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )];
        }
        Err(e) => return vec![format!("`cargo tree -p brunt` did not run: {e}")],
    };
    suite_only_in(&tree)
}

/// The [`SUITE_ONLY`] crates in `tree` (`cargo tree --prefix depth`), each
/// as a sentence naming the crate that pulls it in.
fn suite_only_in(tree: &str) -> Vec<String> {
    // Each line is `DEPTH NAME vVERSION …`; a crate's parent is the nearest
    // line above it one level shallower.
    let mut path: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for line in tree.lines() {
        let digits = line.chars().take_while(char::is_ascii_digit).count();
        let Ok(depth) = line[..digits].parse::<usize>() else {
            continue;
        };
        let name = line[digits..].split_whitespace().next().unwrap_or_default();
        path.truncate(depth);
        let parent = path.last().cloned().unwrap_or_default();
        path.push(name.to_string());
        let through_libtest = name == "clap" && parent == "libtest-mimic";
        if SUITE_ONLY.contains(&name) && !through_libtest && depth > 0 {
            problems.push(format!(
                "a scenario binary compiles {name} (through {parent}): it belongs to brunt-suite"
            ));
        }
    }
    problems
}

/// The long flags a clap `Args` struct declares: `#[arg(long)]` fields'
/// names in kebab case, or the `long = "..."` given.
fn long_flags(source: &str) -> Vec<String> {
    let mut flags = Vec::new();
    let mut pending: Option<Option<String>> = None;
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[arg(") && line.contains("long") {
            let named = line
                .split("long = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(str::to_string);
            pending = Some(named);
        } else if let Some(named) = pending.take() {
            if line.starts_with("#[") || line.starts_with("///") {
                pending = Some(named);
                continue;
            }
            let field = line
                .trim_start_matches("pub ")
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .replace('_', "-");
            flags.push(named.unwrap_or(field));
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_rules_hold() {
        let problems = check(&project_root());
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_suite_crate_in_the_scenario_tree_is_named_with_what_pulls_it_in() {
        let tree = "0brunt v0.1.0\n1libtest-mimic v0.8.2\n2clap v4.6.9\n1plotters v0.3.7\n1clap v4.6.9\n1insta v1.49.0\n2console v0.16.0\n";
        assert_eq!(
            suite_only_in(tree),
            [
                "a scenario binary compiles plotters (through brunt): it belongs to brunt-suite",
                "a scenario binary compiles clap (through brunt): it belongs to brunt-suite",
            ]
        );
        assert!(suite_only_in("0brunt v0.1.0\n1libtest-mimic v0.8.2\n2clap v4.6.9\n").is_empty());
    }

    #[test]
    fn stdout_printing_is_told_from_stderr_printing() {
        assert!(prints_to_stdout("println!(\"x\")"));
        assert!(prints_to_stdout("print!(\"x\")"));
        assert!(!prints_to_stdout("eprintln!(\"x\"); eprint!(\"y\")"));
    }

    #[test]
    fn finds_clap_long_flags() {
        let source = "#[arg(long)]\n    pub save_baseline: Option<String>,\n    /// doc\n    #[arg(long = \"filter\", value_name = \"F\")]\n    /// more\n    pub filters: Vec<String>,";
        assert_eq!(long_flags(source), ["save-baseline", "filter"]);
    }

    #[test]
    fn finds_env_vars_and_lists() {
        assert_eq!(
            env_vars(r#"get("BRUNT_SCALE") x "BRUNT_SEED""#),
            ["BRUNT_SCALE", "BRUNT_SEED"]
        );
        assert_eq!(
            const_list("const KEYS: &[&str] = &[\"a\", \"b\"];", "KEYS"),
            ["a", "b"]
        );
    }
}
