//! `stress-report.html`: one self-contained page (inline CSS and SVG, no
//! script, nothing fetched) with, per scenario, charts of throughput,
//! latency percentiles, RSS and CPU over time — chaos faults marked on the
//! latency chart — escalation steps and chaos tables, and failed criteria
//! in red. Charts are drawn with plotters' SVG backend.

use std::fmt::Write;

use plotters::prelude::*;

use crate::report::Report;
use crate::suite::baseline::{ChangeVerdict, Comparison};
use crate::suite::model::Suite;
use crate::suite::view::{
    criterion_actual, criterion_target, failed_criteria, limits, load_seconds, metric_text,
    ns_text, report_metric, reproduce_command, step_held, throughput_consistency, verdict_line,
};

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; }
.meta { color: #555; }
.verdict { font-size: 1.2em; font-weight: bold; padding: 0.4em 0.6em; border-radius: 4px; display: inline-block; }
.verdict.pass { background: #e3f6e3; color: #1b5e20; }
.verdict.fail { background: #fde4e4; color: #b71c1c; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td, span.fail { color: #b71c1c; font-weight: bold; }
tr.fail { background: #fff3f3; }
section.scenario { border-top: 2px solid #ddd; margin-top: 2em; }
.charts { display: flex; flex-wrap: wrap; gap: 0.5em; }
figure { margin: 0; }
figcaption { font-size: 0.85em; color: #555; }
code, pre { background: #f5f5f5; padding: 0.1em 0.3em; }
pre { padding: 0.5em; overflow-x: auto; }
";

/// One line of a chart.
struct Line {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

/// A line chart as an SVG element; `None` when there is nothing to draw.
/// `marks` are x positions drawn as red vertical lines (chaos faults).
fn line_chart(title: &str, y_desc: &str, lines: &[Line], marks: &[f64]) -> Option<String> {
    let points = lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        return None;
    }
    for &m in marks {
        x0 = x0.min(m);
        x1 = x1.max(m);
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    let y1 = if y1 > 0.0 { y1 * 1.1 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (520, 260)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, 0.0..y1)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("time since start (s)")
            .y_desc(y_desc)
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .ok()?;
        for (i, &m) in marks.iter().enumerate() {
            let series = chart
                .draw_series(LineSeries::new(vec![(m, 0.0), (m, y1)], RED.mix(0.45)))
                .ok()?;
            if i == 0 {
                series
                    .label("fault")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED.mix(0.45)));
            }
        }
        for line in lines {
            let color = line.color;
            chart
                .draw_series(
                    LineSeries::new(line.points.clone(), color.stroke_width(2))
                        // Dots where the points are few enough to tell
                        // apart (a one-second run has one).
                        .point_size(if line.points.len() <= 60 { 2 } else { 0 }),
                )
                .ok()?
                .label(line.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .draw()
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// The charts of one scenario, each with its caption.
fn charts(report: &Report) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let load = &report.samples.load;
    let secs = |t_ms: f64| t_ms / 1000.0;
    let faults: Vec<f64> = report
        .events
        .iter()
        .filter(|e| e.kind == "fault")
        .map(|e| secs(e.t_ms))
        .collect();
    if !load.is_empty() {
        let throughput = Line {
            label: "ops finished per second".to_string(),
            color: PALETTE[0],
            points: load_seconds(report)
                .into_iter()
                .map(|(t, ops, _)| (secs(t), ops as f64))
                .collect(),
        };
        if let Some(svg) = line_chart("Throughput", "ops/s", &[throughput], &faults) {
            out.push((svg, "Ops finished in each second of the run.".to_string()));
        }
        let pct = |label: &str, color, f: fn(&crate::report::LoadPoint) -> Option<f64>| Line {
            label: label.to_string(),
            color,
            points: load
                .iter()
                .filter_map(|p| f(p).map(|v| (secs(p.t_ms), v / 1e6)))
                .collect(),
        };
        let lines = [
            pct("p50", PALETTE[2], |p| p.latency_p50_ns),
            pct("p90", PALETTE[1], |p| p.latency_p90_ns),
            pct("p99", PALETTE[3], |p| p.latency_p99_ns),
        ];
        if let Some(svg) = line_chart("Latency percentiles", "latency (ms)", &lines, &faults) {
            let caption = if faults.is_empty() {
                "Per-second latency percentiles of the ops finished in that second.".to_string()
            } else {
                format!(
                    "Per-second latency percentiles; the {} red lines are chaos faults.",
                    faults.len()
                )
            };
            out.push((svg, caption));
        }
    }
    let series_lines = |f: fn(&crate::report::SamplePoint) -> Option<f64>| -> Vec<Line> {
        report
            .samples
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| Line {
                label: format!("{} (pid {})", s.process, s.pid),
                color: PALETTE[(i + 4) % PALETTE.len()],
                points: s
                    .points
                    .iter()
                    .filter_map(|p| f(p).map(|v| (secs(p.t_ms), v)))
                    .collect(),
            })
            .filter(|l| !l.points.is_empty())
            .collect()
    };
    let rss = series_lines(|p| Some(p.rss_bytes as f64 / (1024.0 * 1024.0)));
    if let Some(svg) = line_chart("Resident memory", "RSS (MiB)", &rss, &[]) {
        out.push((
            svg,
            format!("RSS sampled every {} ms.", report.samples.interval_ms),
        ));
    }
    let cpu = series_lines(|p| p.cpu_percent);
    if let Some(svg) = line_chart("CPU", "CPU (% of one core)", &cpu, &[]) {
        out.push((
            svg,
            format!(
                "CPU per sampling interval; {} CPUs, so at most {} %.",
                report.run.host.cpus,
                100 * report.run.host.cpus
            ),
        ));
    }
    out
}

/// Renders the suite as one self-contained HTML page.
pub fn render_html(suite: &Suite, comparison: Option<&Comparison>) -> String {
    let mut h = String::new();
    let passed = suite.passed() && comparison.is_none_or(|c| c.regressions().next().is_none());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Stress report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>Stress report</h1>\n"
    );
    let _ = writeln!(
        h,
        "<p class=\"verdict {}\" id=\"verdict\">{}</p>",
        if passed { "pass" } else { "fail" },
        esc(&verdict_line(suite, comparison))
    );
    let m = &suite.meta;
    let _ = writeln!(
        h,
        "<p class=\"meta\">Commit <code>{}</code>{} · scale {} · started {}{}</p>",
        esc(m.git_commit.as_deref().unwrap_or("unknown")),
        if m.git_dirty {
            " (uncommitted changes)"
        } else {
            ""
        },
        m.scale,
        esc(&m.started_at),
        m.host.as_ref().map_or(String::new(), |host| format!(
            " · {}, {} CPUs",
            esc(&host.os),
            host.cpus
        ))
    );

    if let Some(why) = &m.runner_failed {
        let _ = writeln!(
            h,
            "<p class=\"fail\"><span class=\"fail\">{}</span></p>",
            esc(why)
        );
    }
    let _ = writeln!(
        h,
        "<h2>Results</h2>\n<table id=\"results\">\n<tr><th>Scenario</th><th>Ops</th><th>Duration</th><th>Ops/s</th><th>Success rate</th><th>p99 latency</th><th>Outcome</th></tr>"
    );
    for r in &suite.reports {
        let failed = r.outcome != crate::report::Outcome::Passed;
        let _ = writeln!(
            h,
            "<tr{}><td><a href=\"#{}\">{}</a></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            if failed { " class=\"fail\"" } else { "" },
            anchor(&r.scenario.name),
            esc(&r.scenario.name),
            report_metric(r, "ops"),
            report_metric(r, "duration"),
            report_metric(r, "throughput"),
            if r.tainted { " (tainted)" } else { "" },
            report_metric(r, "success_rate"),
            report_metric(r, "latency.p99"),
            r.outcome.as_str()
        );
    }
    h.push_str("</table>\n");

    let failed = failed_criteria(suite);
    if !failed.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Failed criteria</h2>\n<table id=\"failed-criteria\">\n<tr><th>Scenario</th><th>Criterion</th><th>Target</th><th>Actual</th><th>Why</th></tr>"
        );
        for f in &failed {
            let _ = writeln!(
                h,
                "<tr class=\"fail\"><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                esc(f.scenario),
                esc(&f.verdict.expr),
                esc(&criterion_target(f.verdict)),
                esc(&criterion_actual(f.verdict)),
                esc(&f.verdict.reason)
            );
        }
        h.push_str("</table>\n");
    }

    if let Some(c) = comparison {
        let _ = writeln!(
            h,
            "<h2>Against baseline <code>{}</code></h2>\n<p>A metric regresses when it moves the wrong way by more than {}% and the {}% bootstrap confidence interval of the change lies outside ±{}% noise.</p>",
            esc(&c.baseline),
            c.tolerance_pct,
            100.0 * (1.0 - c.significance),
            c.noise_pct
        );
        let judged = c.changed();
        let any = !judged.is_empty();
        if !any {
            let _ = writeln!(
                h,
                "<p id=\"regressions\">No regression and no improvement among {} judged metrics.</p>",
                c.unchanged()
            );
        } else {
            let _ = writeln!(
                h,
                "<table id=\"regressions\">\n<tr><th>Scenario</th><th>Metric</th><th>Change of the per-second mean</th><th>95% CI</th><th>Verdict</th></tr>"
            );
        }
        for ch in judged {
            let s = ch.sampled.as_ref();
            let _ = writeln!(
                h,
                "<tr{}><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                if ch.verdict == ChangeVerdict::Regressed {
                    " class=\"fail\""
                } else {
                    ""
                },
                esc(&ch.scenario),
                esc(&ch.metric),
                s.map_or("–".to_string(), |s| format!("{:+.1}%", s.change_pct)),
                s.map_or("–".to_string(), |s| format!(
                    "{:+.1}% … {:+.1}%",
                    s.ci_pct.0, s.ci_pct.1
                )),
                ch.verdict.as_str()
            );
        }
        if any {
            h.push_str("</table>\n");
        }
        for r in &c.refused {
            let _ = writeln!(
                h,
                "<p><code>{}</code> not compared: {}</p>",
                esc(&r.scenario),
                esc(&r.reason)
            );
        }
    }

    if let Some((s, n)) = throughput_consistency(suite) {
        let _ = writeln!(
            h,
            "<h2>Throughput consistency</h2>\n<p>Across {n} scenarios: mean {:.1}/s, standard deviation {:.1}/s, coefficient of variation {}.</p>",
            s.mean,
            s.sd,
            s.cv_pct.map_or("–".to_string(), |cv| format!("{cv:.1}%"))
        );
    }

    for r in &suite.reports {
        scenario_section(&mut h, suite, r);
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn anchor(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn scenario_section(h: &mut String, suite: &Suite, r: &Report) {
    let _ = writeln!(
        h,
        "<section class=\"scenario\" id=\"{}\">\n<h2>{} <span class=\"{}\">{}</span></h2>",
        anchor(&r.scenario.name),
        esc(&r.scenario.name),
        if r.outcome == crate::report::Outcome::Passed {
            "pass"
        } else {
            "fail"
        },
        r.outcome.as_str()
    );
    let _ = writeln!(
        h,
        "<p class=\"meta\"><code>{}:{}</code> · seed {} · scale {}</p>\n<pre>{}</pre>",
        esc(&r.scenario.file),
        r.scenario.line,
        r.run.seed,
        r.run.scale,
        esc(&reproduce_command(&suite.meta, r))
    );
    if let Some(reason) = &r.reason {
        let _ = writeln!(
            h,
            "<pre class=\"fail\"><span class=\"fail\">{}</span></pre>",
            esc(reason)
        );
    }
    if !r.criteria.is_empty() {
        h.push_str("<table class=\"criteria\">\n<tr><th>Criterion</th><th>Target</th><th>Actual</th><th>Status</th></tr>\n");
        for v in &r.criteria {
            let _ = writeln!(
                h,
                "<tr{}><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                if v.passed { "" } else { " class=\"fail\"" },
                esc(&v.expr),
                esc(&criterion_target(v)),
                esc(&criterion_actual(v)),
                if v.passed { "pass" } else { "FAIL" }
            );
        }
        h.push_str("</table>\n");
    }
    let charts = charts(r);
    if !charts.is_empty() {
        h.push_str("<div class=\"charts\">\n");
        for (svg, caption) in charts {
            let _ = writeln!(
                h,
                "<figure class=\"chart\">{svg}<figcaption>{}</figcaption></figure>",
                esc(&caption)
            );
        }
        h.push_str("</div>\n");
    }
    if !r.steps.is_empty() {
        h.push_str("<table class=\"steps\">\n<tr><th>Level</th><th>Ops</th><th>Throughput</th><th>p50</th><th>p99</th><th>Held</th><th>Broken</th></tr>\n");
        for s in &r.steps {
            let _ = writeln!(
                h,
                "<tr{}><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}/s</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                if s.held { "" } else { " class=\"fail\"" },
                s.level,
                s.ops,
                s.throughput_per_s,
                ns_text(s.latency_p50_ns),
                ns_text(s.latency_p99_ns),
                step_held(s),
                esc(&s.broken.join("; "))
            );
        }
        h.push_str("</table>\n");
    }
    let limits = limits(r);
    if !limits.is_empty() {
        let _ = writeln!(
            h,
            "<p>Limits: {}</p>",
            limits
                .iter()
                .map(|(n, m)| format!("<code>{}</code> {}", esc(n), esc(&metric_text(Some(m)))))
                .collect::<Vec<_>>()
                .join(" · ")
        );
    }
    if let Some(chaos) = &r.chaos {
        let _ = writeln!(
            h,
            "<h3>Chaos</h3>\n<p>Seed {}, {} faults planned, {} ran, survival {}.</p>",
            chaos.seed,
            chaos.planned,
            chaos.log.len(),
            esc(&report_metric(r, "chaos.survival_rate"))
        );
        if !chaos.distribution.is_empty() {
            h.push_str("<table class=\"chaos\">\n<tr><th>Fault</th><th>Weight</th><th>Ran</th><th>Share</th><th>Not recovered</th></tr>\n");
            for d in &chaos.distribution {
                let _ = writeln!(
                    h,
                    "<tr{}><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}%</td><td class=\"num\">{}</td></tr>",
                    if d.failures > 0 {
                        " class=\"fail\""
                    } else {
                        ""
                    },
                    esc(&d.fault),
                    d.weight,
                    d.count,
                    d.share_pct,
                    d.failures
                );
            }
            h.push_str("</table>\n");
        }
        if let Some(minimal) = &chaos.minimal {
            let _ = writeln!(
                h,
                "<p class=\"fail\">Minimal failing schedule ({} faults):</p>\n<ol class=\"minimal\">",
                minimal.len()
            );
            for e in minimal {
                let _ = writeln!(
                    h,
                    "<li><code>{}</code> {}</li>",
                    esc(&e.fault),
                    esc(&e.detail)
                );
            }
            h.push_str("</ol>\n");
        }
        if let Some(replay) = &chaos.replay {
            let _ = writeln!(
                h,
                "<p>Replay the minimal failing schedule:</p><pre>{}</pre>",
                esc(replay)
            );
        }
    }
    if !r.findings.is_empty() {
        h.push_str("<ul class=\"findings\">\n");
        for f in &r.findings {
            let _ = writeln!(
                h,
                "<li><b>{}</b> {}: {}</li>",
                f.severity.as_str(),
                esc(&f.title),
                esc(&f.detail)
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</section>\n");
}
