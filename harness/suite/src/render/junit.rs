//! `junit.xml`: one test case per scenario, for CI systems' test views.
//! A missed criterion is a `<failure>` whose message lists the criteria
//! that failed; a scenario that errored, crashed or timed out is an
//! `<error>`. A scenario rerun under `--retries` keeps its earlier runs as
//! nextest writes them: `<flakyFailure>`/`<flakyError>` inside a case that
//! passed on a rerun (flaky), `<rerunFailure>`/`<rerunError>` inside one
//! that failed every time. A baseline comparison adds a suite with one case per
//! compared scenario, failed when one of its metrics regressed.

use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report as JunitReport, TestCase, TestCaseStatus, TestRerun,
    TestSuite, XmlString,
};

use crate::baseline::Comparison;
use crate::model::Suite;
use crate::view::{criterion_actual, criterion_target, is_error, reproduce_command};
use brunt_report::{Outcome, Report};

/// Renders the suite as JUnit XML.
pub fn render_junit(suite: &Suite, comparison: Option<&Comparison>) -> String {
    let mut junit = JunitReport::new("brunt stress suite");
    let mut scenarios = TestSuite::new(format!("stress ({})", suite.meta.test_target));
    let mut total = Duration::ZERO;
    for report in &suite.reports {
        let time = Duration::from_secs_f64((report.run.wall_ms / 1000.0).max(0.0));
        total += time;
        scenarios.add_test_case(scenario_case(suite, report, time));
    }
    if let Some(why) = &suite.meta.runner_failed {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(why.as_str());
        status.set_type("runner");
        let mut case = TestCase::new("runner", status);
        case.set_classname("brunt");
        scenarios.add_test_case(case);
    }
    scenarios.set_time(total);
    scenarios.add_property(Property::new("scale", suite.meta.scale.to_string()));
    if let Some(commit) = &suite.meta.git_commit {
        scenarios.add_property(Property::new("git_commit", commit.as_str()));
    }
    junit.add_test_suite(scenarios);
    if let Some(c) = comparison {
        junit.add_test_suite(regression_suite(suite, c));
    }
    junit.set_time(total);
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit serialisation failed: {e} -->"))
}

fn scenario_case(suite: &Suite, report: &Report, time: Duration) -> TestCase {
    let status = match report.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        outcome => {
            let kind = if is_error(outcome) {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            };
            let mut status = TestCaseStatus::non_success(kind);
            let failed: Vec<String> = report
                .criteria
                .iter()
                .filter(|v| !v.passed)
                .map(|v| {
                    format!(
                        "`{}` failed: target {}, actual {}",
                        v.expr,
                        criterion_target(v),
                        criterion_actual(v)
                    )
                })
                .collect();
            let message = if failed.is_empty() || is_error(outcome) {
                format!(
                    "{}: {}",
                    outcome.as_str(),
                    report.reason.as_deref().unwrap_or("no reason recorded")
                )
            } else {
                failed.join("; ")
            };
            status.set_message(message);
            status.set_type(outcome.as_str());
            status.set_description(report.reason.clone().unwrap_or_default());
            status
        }
    };
    let mut status = status;
    status.add_reruns(report.attempts.iter().map(|attempt| {
        let kind = if is_error(attempt.outcome) {
            NonSuccessKind::Error
        } else {
            NonSuccessKind::Failure
        };
        let mut rerun = TestRerun::new(kind);
        rerun.set_type(attempt.outcome.as_str());
        rerun.set_time(Duration::from_secs_f64((attempt.wall_ms / 1000.0).max(0.0)));
        rerun.set_message(format!(
            "{}: {}",
            attempt.outcome.as_str(),
            attempt.reason.as_deref().unwrap_or("no reason recorded")
        ));
        let figures: Vec<String> = attempt
            .criteria
            .iter()
            .map(|v| {
                format!(
                    "{} {} (actual {})",
                    if v.passed { "ok  " } else { "FAIL" },
                    v.expr,
                    criterion_actual(v)
                )
            })
            .collect();
        rerun.set_system_out(figures.join("\n"));
        rerun
    }));
    let mut case = TestCase::new(report.scenario.name.as_str(), status);
    case.set_classname(report.scenario.module.as_str());
    case.set_time(time);
    case.extra.insert(
        XmlString::new("file"),
        XmlString::new(report.scenario.file.as_str()),
    );
    case.extra.insert(
        XmlString::new("line"),
        XmlString::new(report.scenario.line.to_string()),
    );
    let mut out = format!("reproduce: {}\n", reproduce_command(&suite.meta, report));
    for v in &report.criteria {
        out.push_str(&format!(
            "{} {} (actual {})\n",
            if v.passed { "ok  " } else { "FAIL" },
            v.expr,
            criterion_actual(v)
        ));
    }
    case.set_system_out(out);
    case
}

fn regression_suite(suite: &Suite, c: &Comparison) -> TestSuite {
    let mut regressions = TestSuite::new(format!("regressions against baseline {}", c.baseline));
    for report in &suite.reports {
        let name = &report.scenario.name;
        let status = if let Some(refused) = c.refused.iter().find(|r| &r.scenario == name) {
            let mut s = TestCaseStatus::skipped();
            s.set_message(refused.reason.as_str());
            s
        } else if c.new_scenarios.contains(name) {
            let mut s = TestCaseStatus::skipped();
            s.set_message("not in the baseline");
            s
        } else {
            let regressed: Vec<String> = c
                .regressions()
                .filter(|m| &m.scenario == name)
                .map(|m| {
                    format!(
                        "{} regressed by {}",
                        m.metric,
                        m.sampled.as_ref().map_or("?".to_string(), |s| format!(
                            "{:+.1}% (CI {:+.1}% … {:+.1}%)",
                            s.change_pct, s.ci_pct.0, s.ci_pct.1
                        ))
                    )
                })
                .collect();
            if regressed.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(regressed.join("; "));
                s.set_type("regression");
                s
            }
        };
        let mut case = TestCase::new(name.as_str(), status);
        case.set_classname(format!("baseline.{}", c.baseline));
        regressions.add_test_case(case);
    }
    regressions
}
