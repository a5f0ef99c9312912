//! The readers of files from disk against hostile files (issue 21): a
//! property test mutates a real report, a baseline and a chaos schedule —
//! bytes overwritten, cut short, values swapped for hostile ones (histogram
//! bombs, times far past the run, names that are paths, numbers at their
//! limits) — and feeds each to its reader, and what a reader accepts to
//! everything computed from it (histograms merged, a comparison, every
//! renderer). Each case ends in an error or a result, within a memory bound
//! and a time bound.
//!
//! `BRUNT_FUZZ_CASES` sets the cases per property (default 64).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use brunt_report::ScheduleFile;
use brunt_suite::{
    BASELINE_SCHEMA, CompareOptions, Suite, SuiteMeta, compare, load_reports, load_suite,
    render_html, render_json, render_junit, render_markdown,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// Live heap bytes and their peak since the last reset.
struct PeakAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// A case may raise the heap by this much over where it started.
const CASE_BOUND: usize = 512 << 20;
/// Past this the allocator refuses (the case aborts the test loudly instead
/// of taking the machine).
const HARD_LIMIT: usize = 2 << 30;

// SAFETY: forwards to the system allocator; only counts, and refuses past
// the hard limit (a null return, which callers handle as allocation failure).
unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        if live > HARD_LIMIT {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if ptr.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocator = PeakAllocator;

/// Cases whose file a reader accepted (and so went on to be used).
static ACCEPTED: AtomicUsize = AtomicUsize::new(0);

/// Only one case measures at a time (the counts are process-wide).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `work`, then fails the case if it raised the heap's peak by more
/// than [`CASE_BOUND`] or took more than 20 s.
fn bounded(what: &str, work: impl FnOnce()) -> Result<(), TestCaseError> {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let began = Instant::now();
    work();
    let took = began.elapsed();
    let raised = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    prop_assert!(
        raised <= CASE_BOUND,
        "{what}: the heap rose by {} MiB",
        raised >> 20
    );
    prop_assert!(took <= Duration::from_secs(20), "{what}: took {took:?}");
    Ok(())
}

fn cases() -> u32 {
    std::env::var("BRUNT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

const REPORT: &str = include_str!("../../tests/data/report.json");

/// The test report, with a real latency histogram (the file has none).
fn report_value() -> Value {
    use base64::Engine as _;
    use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
    let mut report: Value = serde_json::from_str(REPORT).unwrap();
    let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    for v in [90_000u64, 150_000, 240_000, 330_000] {
        h.record_n(v, 1000).unwrap();
    }
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&h, &mut bytes)
        .unwrap();
    report["samples"]["histograms"] =
        json!({ "latency": base64::engine::general_purpose::STANDARD.encode(bytes) });
    report
}

/// A histogram header claiming 0xFFFFFFF0 compressed bytes, one of 5
/// digits up to 2^62, one with a payload claimed past its end.
fn bombs() -> &'static [String; 3] {
    static BOMBS: std::sync::OnceLock<[String; 3]> = std::sync::OnceLock::new();
    BOMBS.get_or_init(|| {
        use base64::Engine as _;
        use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let mut claim = vec![0x1c, 0x84, 0x93, 0x14, 0xff, 0xff, 0xff, 0xf0];
        claim.extend_from_slice(&[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        let wide = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 1 << 62, 5).unwrap();
        let mut encoded = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&wide, &mut encoded)
            .unwrap();
        let mut payload = Vec::new();
        payload.extend_from_slice(&0x1c84_9313u32.to_be_bytes());
        payload.extend_from_slice(&0xffff_fff0u32.to_be_bytes());
        payload.extend_from_slice(&[0; 4]);
        payload.extend_from_slice(&3u32.to_be_bytes());
        payload.extend_from_slice(&1u64.to_be_bytes());
        payload.extend_from_slice(&1000u64.to_be_bytes());
        payload.extend_from_slice(&1f64.to_be_bytes());
        [b64(&claim), b64(&encoded), b64(&payload)]
    })
}

/// Values a hostile file puts where numbers, strings and times go.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(1e300)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(u64::MAX)),
        Just(json!(1e13)),
        Just(json!(f64::MIN_POSITIVE)),
        Just(json!("/tmp/x/PWNED")),
        Just(json!("../../escape")),
        Just(json!("")),
        Just(json!("x".repeat(1 << 20))),
        Just(json!(bombs()[0])),
        Just(json!(bombs()[1])),
        Just(json!(bombs()[2])),
        Just(json!([])),
        Just(json!({})),
        Just(Value::Null),
    ]
}

/// Every leaf's path in `value`.
fn leaves(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                at.push(k.clone());
                leaves(v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                leaves(v, at, out);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn set(value: &mut Value, path: &[String], to: Value) {
    let mut here = value;
    for key in path {
        here = match here {
            Value::Object(map) => map.get_mut(key).unwrap(),
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    *here = to;
}

/// A mutation of a JSON document.
#[derive(Debug, Clone)]
enum Mutation {
    /// Leaves (chosen by index modulo their count) set to hostile values.
    Values(Vec<(usize, Value)>),
    /// Numeric leaves (chosen by index modulo their count) set to numbers
    /// at the limits of their kind, so that the file still parses.
    Numbers(Vec<(usize, usize)>),
    /// A histogram of the report replaced by a bomb.
    Histogram(usize),
    /// A load point appended far past the run.
    SeriesGap(f64),
    /// Bytes overwritten.
    Bytes(Vec<(usize, u8)>),
    /// Cut at a fraction of its length.
    Cut(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => prop::collection::vec((any::<usize>(), hostile_value()), 1..4).prop_map(Mutation::Values),
        4 => prop::collection::vec((any::<usize>(), any::<usize>()), 1..4).prop_map(Mutation::Numbers),
        1 => (0..3usize).prop_map(Mutation::Histogram),
        1 => prop_oneof![Just(1e13), Just(-5.0), Just(f64::MAX)].prop_map(Mutation::SeriesGap),
        2 => prop::collection::vec((any::<usize>(), any::<u8>()), 1..16).prop_map(Mutation::Bytes),
        1 => (0.0..1.0f64).prop_map(Mutation::Cut),
    ]
}

/// `doc` mutated; `report` says where a report's histograms and load are
/// (a JSON pointer prefix).
fn apply(doc: &Value, report: Option<&str>, m: &Mutation) -> Vec<u8> {
    let mut doc = doc.clone();
    match m {
        Mutation::Values(changes) => {
            let mut paths = Vec::new();
            leaves(&doc, &mut Vec::new(), &mut paths);
            for (i, v) in changes {
                let path = paths[i % paths.len()].clone();
                set(&mut doc, &path, v.clone());
            }
        }
        Mutation::Numbers(changes) => {
            let mut paths = Vec::new();
            leaves(&doc, &mut Vec::new(), &mut paths);
            paths.retain(|p| doc.pointer(&pointer(p)).is_some_and(Value::is_number));
            for (i, k) in changes {
                let path = paths[i % paths.len()].clone();
                let old = doc.pointer(&pointer(&path)).unwrap();
                let to = if old.is_u64() {
                    let limits = [0, 1, u64::from(u32::MAX), u64::MAX / 2, u64::MAX];
                    json!(limits[k % limits.len()])
                } else {
                    let limits = [0.0, -1.0, 1e-300, 1e13, 1e300, f64::MAX, 0.5];
                    json!(limits[k % limits.len()])
                };
                set(&mut doc, &path, to);
            }
        }
        Mutation::Histogram(k) => {
            if let Some(at) = report
                && let Some(Value::Object(h)) = doc.pointer_mut(&format!("{at}/samples/histograms"))
            {
                if let Some(first) = h.keys().next().cloned() {
                    h.insert(first, json!(bombs()[*k]));
                }
                for i in 0..40 {
                    h.insert(format!("op.wide{i}.latency"), json!(bombs()[1]));
                }
            }
        }
        Mutation::SeriesGap(t) => {
            if let Some(at) = report
                && let Some(Value::Array(load)) = doc.pointer_mut(&format!("{at}/samples/load"))
            {
                load.push(json!({"t_ms": t, "ops": 1, "errors": 0}));
            }
        }
        Mutation::Bytes(_) | Mutation::Cut(_) => {}
    }
    let mut bytes = serde_json::to_vec(&doc).unwrap();
    match m {
        Mutation::Bytes(edits) => {
            let n = bytes.len();
            for (at, b) in edits {
                bytes[at % n] = *b;
            }
        }
        Mutation::Cut(share) => bytes.truncate((bytes.len() as f64 * share) as usize),
        _ => {}
    }
    bytes
}

/// Everything a loaded suite is used for.
fn use_suite(suite: &Suite) {
    let _ = suite.merged_histograms();
    let comparison = compare("base", suite, suite, CompareOptions::default());
    let _ = render_markdown(suite, Some(&comparison));
    let _ = render_json(suite, Some(&comparison));
    let _ = render_junit(suite, Some(&comparison));
    let _ = render_html(suite, Some(&comparison));
}

fn suite_of(reports: Vec<brunt_report::Report>) -> Suite {
    Suite {
        meta: SuiteMeta {
            scale: 1.0,
            ..SuiteMeta::default()
        },
        reports,
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_mutated_report_is_read_or_refused_within_bounds() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let doc = report_value();
    runner()
        .run(&mutation(), |m| {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), "r.json", &apply(&doc, Some(""), &m));
            bounded("a report", || {
                if let Ok(reports) = load_reports(dir.path()) {
                    ACCEPTED.fetch_add(1, Ordering::Relaxed);
                    use_suite(&suite_of(reports));
                }
            })
        })
        .unwrap();
    let accepted = ACCEPTED.swap(0, Ordering::Relaxed);
    eprintln!("reports: {accepted} of {} accepted", cases());
    assert!(
        accepted > 0,
        "every mutated report was refused: the property tests nothing"
    );
}

#[test]
fn a_mutated_baseline_is_read_or_refused_within_bounds() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let doc = json!({
        "schema": BASELINE_SCHEMA,
        "suite": { "meta": SuiteMeta::default(), "reports": [report_value()] },
    });
    runner()
        .run(&mutation(), |m| {
            let dir = tempfile::tempdir().unwrap();
            let path = write(
                dir.path(),
                "baseline.json",
                &apply(&doc, Some("/suite/reports/0"), &m),
            );
            bounded("a baseline", || {
                if let Ok(suite) = load_suite(&path) {
                    ACCEPTED.fetch_add(1, Ordering::Relaxed);
                    use_suite(&suite);
                }
            })
        })
        .unwrap();
    let accepted = ACCEPTED.swap(0, Ordering::Relaxed);
    eprintln!("baselines: {accepted} of {} accepted", cases());
    assert!(
        accepted > 0,
        "every mutated baseline was refused: the property tests nothing"
    );
}

#[test]
fn a_mutated_schedule_is_read_or_refused_within_bounds() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let doc = json!({
        "schema": brunt_report::SCHEDULE_SCHEMA,
        "scenario": "chaos::monkey",
        "seed": 7,
        "scale": 1.0,
        "faults": [{"index": 0, "fault": "kill"}, {"index": 1, "fault": "pause"}],
    });
    runner()
        .run(&mutation(), |m| {
            let dir = tempfile::tempdir().unwrap();
            let path = write(dir.path(), "s.json", &apply(&doc, None, &m));
            bounded("a schedule", || {
                if let Ok(file) = ScheduleFile::load(&path) {
                    assert!(file.scale > 0.0 && file.scale <= 1e6, "{}", file.scale);
                }
            })
        })
        .unwrap();
}

/// The unmutated files load: the properties above do not pass by refusing
/// everything.
#[test]
fn the_unmutated_files_load() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "r.json",
        &serde_json::to_vec(&report_value()).unwrap(),
    );
    let reports = load_reports(dir.path()).expect("the test report loads");
    assert!(
        suite_of(reports.clone())
            .merged_histograms()
            .unwrap()
            .contains_key("latency"),
        "the histogram reads back"
    );
    let suite = suite_of(reports);
    let path = write(
        dir.path(),
        "baseline.json",
        &serde_json::to_vec(&brunt_suite::baseline_file_json(&suite)).unwrap(),
    );
    load_suite(&path).expect("a baseline of it loads");
}
