//! The stress report's aggregation and renderers on a fixed suite (real
//! reports of the fixture scenarios, in `tests/data/suite/`): the Markdown
//! and JSON aggregate structure pinned with insta, numbers redacted; shards
//! merged exactly through the reports' histograms.

use std::path::{Path, PathBuf};

use brunt_suite::{
    CompareOptions, Suite, SuiteMeta, compare, load_reports, render_html, render_json,
    render_junit, render_markdown,
};
use serde_json::Value;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/suite")
}

fn suite() -> Suite {
    Suite {
        meta: SuiteMeta {
            started_at: "2026-11-23T10:51:10.880Z".to_string(),
            git_commit: Some("0123abcd".to_string()),
            scale: 1.0,
            test_target: "stress".to_string(),
            runner: "cargo test --test stress --".to_string(),
            brunt_version: "0.1.0".to_string(),
            ..SuiteMeta::default()
        },
        reports: load_reports(&data()).unwrap(),
    }
}

/// Every number (digits, with their separators) as `N`: the structure
/// stays, the measurements go.
fn redact_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (matches!(chars[i], '.' | ',')
                        && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                i += 1;
            }
            out.push('N');
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Numbers as 0 and long runs of free text kept: the JSON's shape.
fn redact_json(value: &Value) -> Value {
    match value {
        Value::Number(_) => Value::from(0),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), redact_json(v)))
                .collect(),
        ),
        Value::String(s) => Value::String(redact_numbers(s)),
        other => other.clone(),
    }
}

#[test]
fn numbers_are_redacted_and_text_kept() {
    assert_eq!(
        redact_numbers("p99 1.144ms, 5,000 ops at 954.7/s. Done."),
        "pN Nms, N ops at N/s. Done."
    );
}

/// The suite with `steady` 30 % slower: fewer ops each second, each op
/// 30 % longer.
fn slower(suite: &Suite) -> Suite {
    let mut slow = suite.clone();
    for r in &mut slow.reports {
        if r.scenario.name == "steady" {
            for p in &mut r.samples.load {
                p.ops = (p.ops as f64 / 1.3) as u64;
                p.latency_p50_ns = p.latency_p50_ns.map(|v| v * 1.3);
                p.latency_p90_ns = p.latency_p90_ns.map(|v| v * 1.3);
                p.latency_p99_ns = p.latency_p99_ns.map(|v| v * 1.3);
            }
        }
    }
    slow
}

#[test]
fn markdown_structure() {
    let suite = suite();
    let comparison = compare("main", &suite, &slower(&suite), CompareOptions::default());
    let regressed: Vec<&str> = comparison
        .regressions()
        .map(|c| c.metric.as_str())
        .collect();
    assert_eq!(
        regressed,
        ["latency.p50", "latency.p90", "latency.p99", "throughput"]
    );
    insta::assert_snapshot!(
        "stress-report.md",
        redact_numbers(&render_markdown(&slower(&suite), Some(&comparison)))
    );
}

#[test]
fn a_run_with_other_load_settings_is_refused_not_compared() {
    let suite = suite();
    let mut other = suite.clone();
    other.reports[0].scenario.declared.concurrency = Some(64);
    other.reports[1].scenario.declared.min_duration_ms = Some(1000.0);
    other.reports[2].run.scale = 0.5;
    let c = compare("main", &suite, &other, CompareOptions::default());
    let refused: Vec<(&str, &str)> = c
        .refused
        .iter()
        .map(|r| (r.scenario.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(refused[0].1.contains("concurrency"), "{refused:?}");
    // A key only the new run declares differs too.
    assert!(
        refused[1].1.contains("min_duration_ms null vs 1000.0"),
        "{refused:?}"
    );
    assert!(refused[2].1.contains("scale 1 vs 0.5"), "{refused:?}");
    assert!(
        c.changes
            .iter()
            .all(|m| m.scenario == suite.reports[3].scenario.name),
        "{:?}",
        c.changes.iter().map(|m| &m.scenario).collect::<Vec<_>>()
    );
}

#[test]
fn merges_of_mismatched_or_incomplete_shards_are_refused() {
    let shard = |index: u32, count: u32, edit: fn(&mut Suite)| {
        let mut s = suite();
        s.reports
            .retain(|r| r.scenario.name.len() % 2 == (index as usize) % 2);
        s.meta.shard = Some(brunt_suite::Shard { index, count });
        edit(&mut s);
        (PathBuf::from(format!("shard{index}")), s)
    };
    let e = |runs| Suite::merge(runs).unwrap_err().to_string();
    let msg = e(vec![
        shard(1, 2, |_| {}),
        shard(2, 2, |s| s.meta.scale = 0.5),
    ]);
    assert!(
        msg.contains("shard1 and shard2 cannot be merged: scale 1 vs 0.5"),
        "{msg}"
    );
    let msg = e(vec![
        shard(1, 2, |_| {}),
        shard(2, 2, |s| s.meta.seed = Some(3)),
    ]);
    assert!(msg.contains("seed None vs Some(3)"), "{msg}");
    let msg = e(vec![
        shard(1, 2, |_| {}),
        shard(2, 2, |s| s.meta.git_commit = None),
    ]);
    assert!(msg.contains("commit 0123abcd vs unknown"), "{msg}");
    let msg = e(vec![shard(1, 3, |_| {}), shard(2, 3, |_| {})]);
    assert!(
        msg.contains("the merge is incomplete: shard 3/3 missing (merged: 1/3, 2/3)"),
        "{msg}"
    );
    let msg = e(vec![shard(1, 2, |_| {}), shard(2, 3, |_| {})]);
    assert!(msg.contains("different partitions"), "{msg}");
}

#[test]
fn json_structure() {
    let suite = suite();
    let file = render_json(&suite, None);
    // The file is what `--merge` reads back.
    let text = serde_json::to_string(&file).unwrap();
    assert_eq!(
        serde_json::from_str::<brunt_suite::SuiteFile>(&text).unwrap(),
        file
    );
    let mut json = serde_json::to_value(&file).unwrap();
    // Metric names and finding titles, not their values.
    for scenario in json["scenarios"].as_array_mut().unwrap() {
        let names: Vec<String> = scenario["metrics"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        scenario["metrics"] = Value::from(names);
        let titles: Vec<Value> = scenario["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["title"].clone())
            .collect();
        scenario["findings"] = Value::from(titles);
    }
    insta::assert_yaml_snapshot!("stress-report.json", redact_json(&json));
}

#[test]
fn the_html_is_one_file_with_a_chart_per_series() {
    let html = render_html(&suite(), None);
    assert!(html.starts_with("<!DOCTYPE html>"), "{:.200}", html);
    assert!(
        !html.contains("src=") && !html.contains("<script"),
        "the page fetches or runs something"
    );
    // steady, misses_its_latency_goal, escalates and periods each have
    // load and resource samples: four charts each.
    assert_eq!(html.matches("<figure class=\"chart\">").count(), 16);
    // periods is a chaos run: its faults are marked on its charts.
    assert!(
        html.contains("red lines are chaos faults"),
        "no chaos caption"
    );
    let mut crashed = suite();
    crashed.reports[0].outcome = brunt_report::Outcome::Crashed;
    crashed.reports[0].reason = Some("killed by signal 9 (SIGKILL)".to_string());
    let junit = render_junit(&crashed, None);
    // A crash is an error, not a failure.
    assert!(
        junit
            .contains("<error message=\"crashed: killed by signal 9 (SIGKILL)\" type=\"crashed\">"),
        "{junit}"
    );
    assert!(
        junit.contains("<testcase name=\"misses_its_latency_goal\""),
        "{junit}"
    );
    assert!(
        junit.contains("<failure message=\"`latency.p99 &lt;= 10us` failed"),
        "{junit}"
    );
}

#[test]
fn shards_merge_exactly_through_the_histograms() {
    let whole = suite();
    let (a, b): (Vec<_>, Vec<_>) = whole
        .reports
        .iter()
        .cloned()
        .partition(|r| r.scenario.name.len() % 2 == 0);
    assert!(!a.is_empty() && !b.is_empty(), "a: {a:?}, b: {b:?}");
    let shard = |reports, index| {
        let mut s = suite();
        s.reports = reports;
        s.meta.shard = Some(brunt_suite::Shard { index, count: 2 });
        (PathBuf::from(format!("shard{index}")), s)
    };
    let merged = Suite::merge(vec![shard(b, 2), shard(a, 1)]).unwrap();
    let names =
        |s: &Suite| -> Vec<String> { s.reports.iter().map(|r| r.scenario.name.clone()).collect() };
    assert_eq!(names(&merged), names(&whole));
    let (m, w) = (
        merged.merged_histograms().unwrap(),
        whole.merged_histograms().unwrap(),
    );
    assert_eq!(m, w);
    let latency = &m["latency"];
    let ops: f64 = whole
        .reports
        .iter()
        .filter_map(|r| r.metrics["ops"].value)
        .sum();
    assert_eq!(latency.len() as f64, ops, "every op of every shard");
    // Exact: the suite's p99 is the p99 of all ops, not an average of the
    // scenarios' p99s.
    let mean_p99: f64 = whole
        .reports
        .iter()
        .filter_map(|r| r.metrics["latency.p99"].value)
        .sum::<f64>()
        / whole.reports.len() as f64;
    assert_ne!(latency.value_at_quantile(0.99) as f64, mean_p99);
    // Overlapping shards are refused.
    let e = Suite::merge(vec![
        shard(whole.reports.clone(), 1),
        shard(whole.reports.clone(), 2),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("is in both shard1 and shard2"), "{e}");
}
