//! `stress-report.html`: one self-contained page (inline CSS and SVG, no
//! script, nothing fetched) with, per scenario, charts of throughput,
//! latency percentiles, RSS and CPU over time — chaos faults marked on the
//! load charts — escalation steps and chaos tables, and failed criteria
//! in red. Charts are drawn with plotters' SVG backend at their own size
//! (13 px text at 100 % zoom), units on every tick label, each legend an
//! HTML list under its plot so it never hides data. Throughput and latency
//! come from the report's uniform load bins: sub-second where a run is
//! short, throughput per second of the part of a bin the load covered.

use std::fmt::Write;

use plotters::prelude::*;

use crate::baseline::{ChangeVerdict, Comparison};
use crate::model::Suite;
use crate::view::{
    ChartBin, chart_load, criterion_actual, criterion_target, failed_criteria, limits, metric_text,
    ns_text, report_metric, reproduce_command, step_held, step_level, throughput_consistency,
    trimmed, verdict_line, width_text,
};
use brunt_report::Report;

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
.charts { display: flex; flex-wrap: wrap; gap: 1.2em 20px; margin: 1em 0; }
figure.chart { margin: 0; width: 540px; }
figure.chart svg { display: block; }
.chart-title { font-weight: 600; font-size: 15px; margin: 0 0 0.2em; }
ul.legend { list-style: none; margin: 0.3em 0 0.2em; padding: 0; display: flex; flex-wrap: wrap; gap: 0.2em 1.4em; font-size: 13px; }
ul.legend .swatch { display: inline-block; width: 20px; height: 3px; vertical-align: middle; margin-right: 0.4em; }
figcaption { font-size: 13px; color: #555; }
code, pre { background: #f5f5f5; padding: 0.1em 0.3em; }
pre { padding: 0.5em; overflow-x: auto; }
";

/// A chart's size in CSS pixels: two side by side in the page's 1,100 px.
/// The page never scales a chart, so its text keeps the size set here.
const CHART_SIZE: (u32, u32) = (540, 300);

/// Tick labels and axis descriptions, CSS pixels at 100 % zoom.
const TEXT_PX: f64 = 13.0;

/// The font size to ask plotters for so that its SVG backend, which
/// rounds the size asked to whole pixels and writes it divided by 1.24,
/// writes at least `px`.
fn font(px: f64) -> f64 {
    (px * 1.24).ceil()
}

/// Most points of a line still marked with a dot each: fewer are far
/// enough apart to tell one from the next.
const MOST_DOTTED_POINTS: usize = 30;

/// One line of a chart: its points in ms since the run started and the
/// quantity's base unit, in segments (a line breaks where the load
/// paused).
struct Line {
    label: String,
    color: RGBColor,
    segments: Vec<Vec<(f64, f64)>>,
}

impl Line {
    fn new(label: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Line {
        Line {
            label: label.into(),
            color,
            segments: vec![points],
        }
    }

    fn points(&self) -> impl Iterator<Item = &(f64, f64)> {
        self.segments.iter().flatten()
    }
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

/// The colour of chaos faults' marks.
const FAULT: RGBColor = RGBColor(211, 47, 47);

/// Most chaos faults drawn as lines across a chart; more are ticks along
/// its top, off the data.
const MOST_FAULT_LINES: usize = 40;

/// How a chart's caption names its fault marks.
fn fault_marks(faults: usize) -> String {
    if faults > MOST_FAULT_LINES {
        format!("the {faults} red ticks along the top are chaos faults")
    } else {
        format!("the {faults} red lines are chaos faults")
    }
}

/// What a chart's y axis shows, which sets its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Quantity {
    /// Ops per second.
    Throughput,
    /// ns.
    Latency,
    /// bytes.
    Memory,
    /// % of one core.
    Cpu,
}

/// How an axis shows values: plotted divided by `divisor`, so plotters'
/// round tick values are round in the unit shown, and labelled by `label`.
struct Scale {
    divisor: f64,
    label: fn(f64) -> String,
}

impl Scale {
    /// The time axis for a chart spanning `span_ms`: ms under 2 s, s under
    /// 10 minutes, minutes beyond.
    fn time(span_ms: f64) -> Scale {
        if span_ms < 2e3 {
            Scale {
                divisor: 1.0,
                label: |v| format!("{} ms", trimmed(v)),
            }
        } else if span_ms < 600e3 {
            Scale {
                divisor: 1e3,
                label: |v| format!("{} s", trimmed(v)),
            }
        } else {
            Scale {
                divisor: 60e3,
                label: |v| format!("{} min", trimmed(v)),
            }
        }
    }

    /// The y axis of `quantity` for values up to `max` (base unit).
    fn of(quantity: Quantity, max: f64) -> Scale {
        match quantity {
            Quantity::Throughput => Scale {
                divisor: 1.0,
                label: |v| format!("{}/s", compact(v)),
            },
            Quantity::Cpu => Scale {
                divisor: 1.0,
                label: |v| format!("{} %", trimmed(v)),
            },
            Quantity::Latency if max < 1e3 => Scale {
                divisor: 1.0,
                label: |v| format!("{} ns", trimmed(v)),
            },
            Quantity::Latency if max < 1e6 => Scale {
                divisor: 1e3,
                label: |v| format!("{} µs", trimmed(v)),
            },
            Quantity::Latency if max < 1e9 => Scale {
                divisor: 1e6,
                label: |v| format!("{} ms", trimmed(v)),
            },
            Quantity::Latency => Scale {
                divisor: 1e9,
                label: |v| format!("{} s", trimmed(v)),
            },
            Quantity::Memory if max < 1024.0 * 1024.0 => Scale {
                divisor: 1024.0,
                label: |v| format!("{} KiB", trimmed(v)),
            },
            Quantity::Memory if max < 1024.0 * 1024.0 * 1024.0 => Scale {
                divisor: 1024.0 * 1024.0,
                label: |v| format!("{} MiB", trimmed(v)),
            },
            Quantity::Memory => Scale {
                divisor: 1024.0 * 1024.0 * 1024.0,
                label: |v| format!("{} GiB", trimmed(v)),
            },
        }
    }
}

/// A count for a tick label: `950`, `1.5k`, `120k`, `2M`.
fn compact(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1e6 {
        format!("{}M", trimmed(value / 1e6))
    } else if abs >= 1e3 {
        format!("{}k", trimmed(value / 1e3))
    } else {
        trimmed(value)
    }
}

/// One chart: what it shows and over which stretch of the run.
struct Chart<'a> {
    title: &'a str,
    quantity: Quantity,
    y_desc: &'a str,
    lines: Vec<Line>,
    /// Chaos faults, ms since the run started: red vertical lines.
    marks: &'a [f64],
    /// The x range, ms since the run started.
    x_range: (f64, f64),
}

/// A chart as a `<figure>`: its title, the SVG (axes with units in every
/// tick label, the lines marked `class="series"` with their name in
/// `data-series`), a legend under the plot (never over the data) and
/// `caption`. `None` when there is nothing to draw.
fn figure(chart: &Chart, caption: &str) -> Option<String> {
    let lines: Vec<&Line> = chart
        .lines
        .iter()
        .filter(|l| l.points().next().is_some())
        .collect();
    if lines.is_empty() {
        return None;
    }
    let svg = plot(chart, &lines)?;
    let mut legend = String::new();
    for line in &lines {
        let _ = write!(
            legend,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            hex(line.color),
            esc(&line.label)
        );
    }
    if !chart.marks.is_empty() {
        let _ = write!(
            legend,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>chaos fault</li>",
            hex(FAULT)
        );
    }
    Some(format!(
        "<figure class=\"chart\"><div class=\"chart-title\">{}</div>{svg}<ul class=\"legend\">{legend}</ul><figcaption>{}</figcaption></figure>",
        esc(chart.title),
        esc(caption)
    ))
}

/// A colour as CSS and SVG write it: `#1F77B4`.
fn hex(color: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2)
}

/// The largest axis top drawn, in the axis's unit (a scale already picked
/// kilo, mega, giga…: no real chart comes near).
const MAX_AXIS: f64 = 1e12;

/// The SVG of a chart's plot: axes from 0 (a chart of throughput or memory
/// that starts elsewhere exaggerates every change), units on every tick.
fn plot(chart: &Chart, lines: &[&Line]) -> Option<String> {
    let y_max = lines
        .iter()
        .flat_map(|l| l.points())
        .map(|p| p.1)
        .fold(0.0f64, f64::max);
    let y_scale = Scale::of(chart.quantity, y_max);
    let y_top = if y_max > 0.0 {
        y_max * 1.1 / y_scale.divisor
    } else {
        1.0
    };
    // Past what any measurement reaches (a report edited by hand or by an
    // attacker: 1e300 bytes), plotters' search for tick positions never
    // ends; such a chart is not drawn. A top too small to divide is 1.
    if !(y_top.is_finite() && y_top <= MAX_AXIS) {
        return None;
    }
    let y_top = if y_top < 1e-9 { 1.0 } else { y_top };
    let (x0, mut x1) = chart.x_range;
    if !(x0.is_finite() && x1.is_finite()) {
        return None;
    }
    if x1 - x0 < 1e-6 {
        x1 = x0 + 1.0;
    }
    let x_scale = Scale::time(x1 - x0);
    let (x0, x1) = (x0 / x_scale.divisor, x1 / x_scale.divisor);
    let x_label = |v: &f64| (x_scale.label)(*v);
    let y_label = |v: &f64| (y_scale.label)(*v);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut plot = ChartBuilder::on(&root)
            .margin_top(10)
            .margin_right(24)
            .margin_left(6)
            .margin_bottom(4)
            .x_label_area_size(46)
            .y_label_area_size(84)
            .build_cartesian_2d(x0..x1, 0.0..y_top)
            .ok()?;
        plot.configure_mesh()
            .x_desc("time since the run started")
            .y_desc(chart.y_desc)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style(("sans-serif", font(TEXT_PX)))
            .axis_desc_style(("sans-serif", font(TEXT_PX)))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .ok()?;
        // Few faults: a line each across the plot. Many (a storm's
        // hundreds would paint the data over): a tick each in the headroom
        // above the highest point, which the y axis leaves free.
        let from = if chart.marks.len() > MOST_FAULT_LINES {
            y_top * 0.95
        } else {
            0.0
        };
        for &m in chart.marks {
            let x = m / x_scale.divisor;
            plot.draw_series(LineSeries::new(vec![(x, from), (x, y_top)], FAULT.mix(0.5)))
                .ok()?;
        }
        for line in lines {
            let dotted = line.points().count() <= MOST_DOTTED_POINTS;
            for segment in &line.segments {
                let points: Vec<(f64, f64)> = segment
                    .iter()
                    .map(|&(x, y)| (x / x_scale.divisor, y / y_scale.divisor))
                    .collect();
                // A lone point draws no line: a dot shows it.
                let dot = if dotted || points.len() == 1 { 3 } else { 0 };
                plot.draw_series(
                    LineSeries::new(points, line.color.stroke_width(2)).point_size(dot),
                )
                .ok()?;
            }
        }
        root.present().ok()?;
    }
    Some(mark_series(&svg, chart.title, lines))
}

/// Names the data lines of a plotters SVG: each `<polyline>` drawn 2 px wide
/// (only data lines are; grid, axes and fault marks are 1 px) gets
/// `class="series"` and `data-series` with its line's label, found by its
/// colour, and the `<svg>` an accessible name. Readers of the page (and its
/// tests) can then tell data from grid.
fn mark_series(svg: &str, title: &str, lines: &[&Line]) -> String {
    let mut out = String::with_capacity(svg.len() + 64 * lines.len());
    let mut rest = svg;
    if let Some(at) = rest.find("<svg ") {
        out.push_str(&rest[..at + 5]);
        let _ = write!(out, "role=\"img\" aria-label=\"{}\" ", esc(title));
        rest = &rest[at + 5..];
    }
    while let Some(at) = rest.find("<polyline ") {
        let (before, tag) = rest.split_at(at);
        out.push_str(before);
        let end = tag.find("/>").map_or(tag.len(), |e| e + 2);
        let (tag, after) = tag.split_at(end);
        let label = tag.contains("stroke-width=\"2\"").then(|| {
            lines
                .iter()
                .find(|l| tag.contains(&format!("stroke=\"{}\"", hex(l.color))))
                .map_or("", |l| l.label.as_str())
        });
        match label {
            Some(label) => {
                let _ = write!(
                    out,
                    "<polyline class=\"series\" data-series=\"{}\" {}",
                    esc(label),
                    &tag["<polyline ".len()..]
                );
            }
            None => out.push_str(tag),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Splits points into segments where consecutive ones are more than
/// `gap_ms` apart: a line does not bridge a pause in the load.
fn segments(points: Vec<(f64, f64)>, gap_ms: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for point in points {
        match out.last_mut() {
            Some(segment)
                if segment
                    .last()
                    .is_some_and(|last| point.0 - last.0 <= gap_ms) =>
            {
                segment.push(point)
            }
            _ => out.push(vec![point]),
        }
    }
    out
}

/// The charts of one scenario, each a `<figure>`.
fn charts(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let faults: Vec<f64> = report
        .events
        .iter()
        .filter(|e| e.kind == "fault")
        .map(|e| e.t_ms)
        .collect();
    if let Some(load) = chart_load(report) {
        let width = load.width_ms;
        // Each bin drawn at its middle; the load charts span the load
        // (and the faults), so a 100 ms run after a 5 s set-up fills them.
        let mid = |t_ms: f64| t_ms + width / 2.0;
        let first = load.bins.first().map_or(0.0, |b| b.t_ms);
        let last = load.bins.last().map_or(0.0, |b| b.t_ms + width);
        let x_range = faults
            .iter()
            .fold((first, last), |(a, b), &m| (a.min(m), b.max(m)));
        let gap = 1.5 * width;
        let throughput = Line {
            label: "ops finished per second".to_string(),
            color: PALETTE[0],
            segments: segments(
                load.bins
                    .iter()
                    .filter_map(|b| b.throughput.map(|v| (mid(b.t_ms), v)))
                    .collect(),
                gap,
            ),
        };
        let left_out = match load.partial_left_out {
            0 => String::new(),
            1 => "; the one bin the load ran less than half of is left out".to_string(),
            n => format!("; the {n} bins the load ran less than half of are left out"),
        };
        let too_short = if throughput.points().count() < 3 {
            format!(" The load ran only {} ms.", trimmed(load.load_ms.round()))
        } else {
            String::new()
        };
        let marks = if faults.is_empty() {
            String::new()
        } else {
            format!("; {}", fault_marks(faults.len()))
        };
        let caption = format!(
            "Ops finished per second in each {} bin, over the part of the bin the load ran (a bin where a drive started or ended is not a drop){left_out}{marks}.{too_short}",
            width_text(width)
        );
        let chart = Chart {
            title: "Throughput",
            quantity: Quantity::Throughput,
            y_desc: "throughput",
            lines: vec![throughput],
            marks: &faults,
            x_range,
        };
        out.extend(figure(&chart, &caption));
        let pct = |label: &str, color, f: fn(&ChartBin) -> Option<f64>| {
            Line::new(
                label,
                color,
                load.bins
                    .iter()
                    .filter_map(|b| f(b).map(|v| (mid(b.t_ms), v)))
                    .collect(),
            )
        };
        let chart = Chart {
            title: "Latency percentiles",
            quantity: Quantity::Latency,
            y_desc: "latency",
            lines: vec![
                pct("p50", PALETTE[2], |b| b.latency_p50_ns),
                pct("p90", PALETTE[1], |b| b.latency_p90_ns),
                pct("p99", PALETTE[3], |b| b.latency_p99_ns),
            ],
            marks: &faults,
            x_range,
        };
        let caption = if faults.is_empty() {
            format!(
                "Latency percentiles of the ops finished in each {} bin.",
                width_text(width)
            )
        } else {
            format!(
                "Latency percentiles of the ops finished in each {} bin; {}.",
                width_text(width),
                fault_marks(faults.len())
            )
        };
        out.extend(figure(&chart, &caption));
    }
    let series_lines = |f: fn(&brunt_report::SamplePoint) -> Option<f64>| -> Vec<Line> {
        report
            .samples
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Line::new(
                    format!("{} (pid {})", s.process, s.pid),
                    PALETTE[(i + 4) % PALETTE.len()],
                    s.points
                        .iter()
                        .filter_map(|p| f(p).map(|v| (p.t_ms, v)))
                        .collect(),
                )
            })
            .collect()
    };
    // Resource charts span the whole run, set-up included.
    let sampled_end = report
        .samples
        .series
        .iter()
        .filter_map(|s| s.points.last().map(|p| p.t_ms))
        .fold(0.0f64, f64::max);
    let x_range = (0.0, sampled_end);
    let interval = trimmed(report.samples.interval_ms);
    let chart = Chart {
        title: "Resident memory",
        quantity: Quantity::Memory,
        y_desc: "RSS",
        lines: series_lines(|p| Some(p.rss_bytes as f64)),
        marks: &[],
        x_range,
    };
    out.extend(figure(
        &chart,
        &format!("Resident set size, sampled every {interval} ms."),
    ));
    let chart = Chart {
        title: "CPU",
        quantity: Quantity::Cpu,
        y_desc: "CPU, % of one core",
        lines: series_lines(|p| p.cpu_percent),
        marks: &[],
        x_range,
    };
    out.extend(figure(
        &chart,
        &format!(
            "CPU over each {interval} ms sampling interval; {} CPUs, so at most {} %.",
            report.run.host.cpus,
            100u64.saturating_mul(report.run.host.cpus as u64)
        ),
    ));
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
        let failed = r.outcome != brunt_report::Outcome::Passed;
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
            if r.flaky {
                format!("passed, flaky ({} failed run(s) before)", r.attempts.len())
            } else {
                r.outcome.as_str().to_string()
            }
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
        if r.outcome == brunt_report::Outcome::Passed {
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
        for figure in charts {
            h.push_str(&figure);
            h.push('\n');
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
                esc(&step_level(r, s)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn label(scale: &Scale, value: f64) -> String {
        (scale.label)(value)
    }

    #[test]
    fn tick_labels_carry_units_and_no_trailing_zero() {
        let throughput = Scale::of(Quantity::Throughput, 130_000.0);
        assert_eq!(
            [0.0, 500.0, 1_500.0, 120_000.0, 2_000_000.0].map(|v| label(&throughput, v)),
            ["0/s", "500/s", "1.5k/s", "120k/s", "2M/s"]
        );
        let latency = Scale::of(Quantity::Latency, 3.2e6);
        assert_eq!(latency.divisor, 1e6);
        assert_eq!(label(&latency, 2.5), "2.5 ms");
        assert_eq!(label(&Scale::of(Quantity::Latency, 800e3), 250.0), "250 µs");
        let memory = Scale::of(Quantity::Memory, 600.0 * 1024.0 * 1024.0);
        assert_eq!(label(&memory, 512.0), "512 MiB");
        assert_eq!(label(&Scale::of(Quantity::Memory, 3e9), 1.5), "1.5 GiB");
        assert_eq!(label(&Scale::of(Quantity::Cpu, 150.0), 50.0), "50 %");
        assert_eq!(label(&Scale::time(900.0), 250.0), "250 ms");
        assert_eq!(label(&Scale::time(30e3), 1.5), "1.5 s");
        assert_eq!(label(&Scale::time(3_600e3), 30.0), "30 min");
    }

    fn polyline_points(svg: &str, series: &str) -> Vec<usize> {
        let tag = format!("<polyline class=\"series\" data-series=\"{series}\"");
        svg.match_indices(&tag)
            .map(|(at, _)| {
                let rest = &svg[at..];
                let points = rest.split("points=\"").nth(1).unwrap();
                points[..points.find('"').unwrap()]
                    .split_whitespace()
                    .count()
            })
            .collect()
    }

    #[test]
    fn a_chart_names_its_lines_and_keeps_its_legend_off_the_data() {
        let line = Line {
            label: "p99".to_string(),
            color: PALETTE[3],
            segments: segments((0..12).map(|i| (f64::from(i) * 10.0, 1e6)).collect(), 15.0),
        };
        let chart = Chart {
            title: "Latency percentiles",
            quantity: Quantity::Latency,
            y_desc: "latency",
            lines: vec![line],
            marks: &[55.0],
            x_range: (0.0, 120.0),
        };
        let html = figure(&chart, "caption").unwrap();
        assert_eq!(polyline_points(&html, "p99"), [12]);
        // Grid, axes and the fault mark are not series.
        assert_eq!(html.matches("class=\"series\"").count(), 1);
        assert!(html.matches("<polyline").count() > 1);
        // The legend is HTML under the plot, with the fault mark's colour.
        let legend = &html[html.find("</svg>").unwrap()..];
        assert!(legend.contains("<ul class=\"legend\">"), "{legend}");
        assert!(legend.contains("p99</li>") && legend.contains("chaos fault</li>"));
        // Text of at least 13 px, ticks with units.
        let sizes: Vec<f64> = html
            .split("font-size=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
            .collect();
        assert!(
            sizes.len() > 5 && sizes.iter().all(|s| *s >= TEXT_PX),
            "{sizes:?}"
        );
        assert!(html.contains("\n1 ms\n</text>"), "{html}");
        assert!(html.contains("\n100 ms\n</text>"), "{html}");
    }

    /// The heights, px, of a chart's fault marks.
    fn fault_heights(html: &str) -> Vec<i64> {
        html.split(&format!("stroke=\"{}\"", hex(FAULT)))
            .skip(1)
            .filter_map(|rest| {
                let points = rest.split("points=\"").nth(1)?;
                let ys: Vec<i64> = points[..points.find('"')?]
                    .split_whitespace()
                    .filter_map(|p| p.split(',').nth(1)?.parse().ok())
                    .collect();
                Some(ys.iter().max()? - ys.iter().min()?)
            })
            .collect()
    }

    #[test]
    fn a_storm_of_faults_is_ticks_off_the_data_not_a_red_wall() {
        let chart = |marks: &[f64]| {
            let line = Line::new(
                "p99",
                PALETTE[3],
                (0..60).map(|i| (f64::from(i) * 1e3, 1e6)).collect(),
            );
            let chart = Chart {
                title: "Latency percentiles",
                quantity: Quantity::Latency,
                y_desc: "latency",
                lines: vec![line],
                marks,
                x_range: (0.0, 60e3),
            };
            figure(&chart, "caption").unwrap()
        };
        let few: Vec<f64> = (0..5).map(|i| f64::from(i) * 10e3).collect();
        let heights = fault_heights(&chart(&few));
        assert_eq!(heights.len(), 5);
        assert!(
            heights.iter().all(|h| *h > 200),
            "lines across: {heights:?}"
        );
        let storm: Vec<f64> = (0..700).map(|i| f64::from(i) * 80.0).collect();
        let heights = fault_heights(&chart(&storm));
        assert_eq!(heights.len(), 700);
        assert!(heights.iter().all(|h| *h < 20), "ticks: {heights:?}");
        assert_eq!(
            fault_marks(700),
            "the 700 red ticks along the top are chaos faults"
        );
    }

    #[test]
    fn a_pause_breaks_a_line_and_a_lone_point_gets_a_dot() {
        let points = vec![(0.0, 1.0), (10.0, 1.0), (500.0, 1.0)];
        let parts = segments(points, 15.0);
        assert_eq!(parts.len(), 2);
        let chart = Chart {
            title: "Throughput",
            quantity: Quantity::Throughput,
            y_desc: "throughput",
            lines: vec![Line {
                label: "ops".to_string(),
                color: PALETTE[0],
                segments: parts,
            }],
            marks: &[],
            x_range: (0.0, 510.0),
        };
        let html = figure(&chart, "caption").unwrap();
        assert_eq!(polyline_points(&html, "ops"), [2, 1]);
        assert!(html.contains("<circle"), "a dot shows the lone point");
        // The y axis starts at 0.
        assert!(html.contains("\n0/s\n</text>"), "{html}");
    }
}
