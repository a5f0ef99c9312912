//! Report-structure snapshots. Each scenario's report is reduced to what is
//! stable from run to run — report keys, metric names with units and scopes,
//! criteria expressions, phase names, sampled process kinds — and pinned with
//! insta. Numbers, times, host fields and counts of events or samples never
//! enter a snapshot, so a snapshot cannot flake; renaming a metric or adding
//! a criterion changes it, and `cargo insta review` accepts the change.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::settings::EnvSettings;
use brunt_report::Report;

/// Whether and where snapshots are checked.
#[derive(Debug, Clone)]
pub(crate) enum SnapshotCheck {
    /// No snapshot directory: nothing is checked.
    Off,
    /// Check against `<dir>/<name>.snap`.
    In(PathBuf),
}

impl SnapshotCheck {
    /// Off with `BRUNT_SNAPSHOTS=0`; `BRUNT_SNAPSHOT_DIR` if set; else the
    /// nearest `snapshots/` directory from the scenario crate's manifest up
    /// to its workspace root; else off.
    pub(crate) fn locate(env: &EnvSettings, manifest_dir: &Path) -> SnapshotCheck {
        if env.snapshots == Some(false) {
            return SnapshotCheck::Off;
        }
        if let Some(dir) = env.snapshot_dir.as_deref() {
            return SnapshotCheck::In(dir.to_path_buf());
        }
        // Look no higher than the crate's workspace root; a crate outside
        // any workspace looks only beside its own manifest.
        let root = manifest_dir
            .ancestors()
            .find(|d| is_workspace_root(d))
            .unwrap_or(manifest_dir);
        for dir in manifest_dir.ancestors() {
            let candidate = dir.join("snapshots");
            if candidate.is_dir() {
                return SnapshotCheck::In(candidate);
            }
            if dir == root {
                break;
            }
        }
        SnapshotCheck::Off
    }
}

fn is_workspace_root(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
}

fn keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Array(map.keys().map(|k| Value::String(k.clone())).collect()),
        _ => Value::Null,
    }
}

/// The stable shape of a report.
pub(crate) fn shape(report: &Report) -> Value {
    let full = serde_json::to_value(report).unwrap_or(Value::Null);
    let metrics: Map<String, Value> = report
        .metrics
        .iter()
        .map(|(name, m)| {
            (
                name.clone(),
                json!({ "unit": m.unit.symbol(), "scope": m.scope }),
            )
        })
        .collect();
    let mut processes: Vec<&str> = report
        .samples
        .series
        .iter()
        .map(|s| s.process.as_str())
        .collect();
    processes.sort_unstable();
    processes.dedup();
    let mut phases: Vec<&str> = Vec::new();
    for phase in &report.phases {
        if !phases.contains(&phase.name.as_str()) {
            phases.push(&phase.name);
        }
    }
    let mut shape = json!({
        "schema": report.schema,
        "report_keys": keys(&full),
        "scenario": {
            "name": report.scenario.name,
            "module": report.scenario.module,
            "tags": report.scenario.tags,
            "declared": keys(&full["scenario"]["declared"]),
        },
        "run_keys": keys(&full["run"]),
        "metrics": metrics,
        "criteria": report.criteria.iter().map(|c| json!({"expr": c.expr, "metric": c.metric})).collect::<Vec<_>>(),
        "phases": phases,
        "sampled_processes": processes,
    });
    // Only reports with series of their own carry the key, so snapshots of
    // scenarios without any stay as they were.
    if !report.samples.custom.is_empty() {
        shape["custom_series"] = report
            .samples
            .custom
            .iter()
            .map(|s| json!({ "name": s.name, "unit": s.unit.symbol() }))
            .collect();
    }
    // Likewise chaos: its keys and faults (never the log, which the seed
    // decides).
    if let Some(chaos) = &report.chaos {
        shape["chaos"] = json!({
            "keys": keys(&full["chaos"]),
            "faults": chaos.faults.iter().map(|f| json!({"fault": f.fault, "weight": f.weight})).collect::<Vec<_>>(),
        });
    }
    shape
}

/// Asserts the report's shape against its snapshot; an `Err` carries
/// insta's message.
pub(crate) fn check_snapshot(
    check: &SnapshotCheck,
    stem: &str,
    report: &Report,
) -> Result<(), String> {
    let SnapshotCheck::In(dir) = check else {
        return Ok(());
    };
    let value = shape(report);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!(
        "Report structure of scenario `{}`",
        report.scenario.name
    ));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_yaml_snapshot!(stem, value));
    }));
    let path = dir.join(format!("{stem}.snap"));
    let existed = path.is_file();
    outcome.map_err(|payload| {
        let message = super::panic_message(payload.as_ref());
        let what = if existed {
            "the report's structure no longer matches snapshot"
        } else {
            "the report's structure has no snapshot yet at"
        };
        format!(
            "{what} {} ({message});\n\
             review with `cargo insta review` (see README, \"Snapshots\")",
            path.display()
        )
    })
}

/// Snapshot files in `dir` whose scenario no longer exists.
pub(crate) fn unreferenced_snapshots(dir: &Path, stems: &[String]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stale: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "snap"))
        .filter(|p| {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
            !stem.is_some_and(|s| stems.contains(&s))
        })
        .collect();
    stale.sort();
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn snapshots_are_found_up_to_the_workspace_root_and_no_higher() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path();
        std::fs::create_dir_all(top.join("snapshots")).unwrap();
        write(&top.join("ws/Cargo.toml"), "[workspace]\n");
        write(&top.join("ws/crate/Cargo.toml"), "[package]\n");
        let env = EnvSettings::default();
        // Inside a workspace without snapshots/: off, although an ancestor
        // of the workspace has one.
        assert!(matches!(
            SnapshotCheck::locate(&env, &top.join("ws/crate")),
            SnapshotCheck::Off
        ));
        std::fs::create_dir_all(top.join("ws/snapshots")).unwrap();
        match SnapshotCheck::locate(&env, &top.join("ws/crate")) {
            SnapshotCheck::In(dir) => assert_eq!(dir, top.join("ws/snapshots")),
            SnapshotCheck::Off => panic!("workspace snapshots not found"),
        }
        let off = EnvSettings {
            snapshots: Some(false),
            ..EnvSettings::default()
        };
        assert!(matches!(
            SnapshotCheck::locate(&off, &top.join("ws/crate")),
            SnapshotCheck::Off
        ));
        // A crate outside any workspace looks beside its manifest only.
        write(&top.join("lone/Cargo.toml"), "[package]\n");
        assert!(matches!(
            SnapshotCheck::locate(&env, &top.join("lone")),
            SnapshotCheck::Off
        ));
    }
}
