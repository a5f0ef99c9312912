//! The stress report's aggregation and renderers on a fixed suite (real
//! reports of the fixture scenarios, in `tests/data/suite/`): the Markdown
//! and JSON aggregate structure pinned with insta, numbers redacted; shards
//! merged exactly through the reports' histograms.

use std::path::{Path, PathBuf};

use brunt::suite::{
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

#[test]
fn markdown_structure() {
    let suite = suite();
    let comparison = compare("main", &suite, &suite, CompareOptions::default());
    insta::assert_snapshot!(
        "stress-report.md",
        redact_numbers(&render_markdown(&suite, Some(&comparison)))
    );
}

#[test]
fn json_structure() {
    let suite = suite();
    let mut json = render_json(&suite, None);
    // The metrics of one scenario, not of all four: the report snapshots
    // pin each scenario's metric names.
    for scenario in json["scenarios"].as_array_mut().unwrap() {
        let names: Vec<String> = scenario["metrics"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        scenario["metrics"] = Value::from(names.len());
        scenario["findings"] = Value::from(scenario["findings"].as_array().unwrap().len());
    }
    insta::assert_yaml_snapshot!("stress-report.json", redact_json(&json));
}

#[test]
fn the_html_is_one_file_with_a_chart_per_series() {
    let html = render_html(&suite(), None);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("src=") && !html.contains("<script"));
    // steady, misses_its_latency_goal, escalates and periods each have
    // load and resource samples: four charts each.
    assert_eq!(html.matches("<figure class=\"chart\"><svg").count(), 16);
    // periods is a chaos run: its faults are marked on its charts.
    assert!(html.contains("red lines are chaos faults"));
    let junit = render_junit(&suite(), None);
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
    assert!(!a.is_empty() && !b.is_empty());
    let shard = |reports, index| {
        let mut s = suite();
        s.reports = reports;
        s.meta.shard = Some(brunt::suite::Shard { index, count: 2 });
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
