//! `BRUNT_*` environment variables. An invalid value is an error that names
//! the variable, the value and what would have been accepted; it is never
//! silently ignored.

use std::path::PathBuf;

use crate::parse_size;

/// An environment variable with a value Brunt cannot use.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvError {
    /// The variable's name.
    pub var: &'static str,
    /// The value found.
    pub value: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

impl std::fmt::Display for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid {}={:?}: expected {}",
            self.var, self.value, self.expected
        )
    }
}

impl std::error::Error for EnvError {}

/// The largest `BRUNT_SCALE`: a million times any declared duration still
/// fits a duration, and no run is meant to last longer.
pub const MAX_SCALE: f64 = 1e6;

/// The settings the environment gives, each `None` when unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvSettings {
    /// `BRUNT_SCALE`: multiplies durations and iteration counts (never rates
    /// or thresholds). Positive.
    pub scale: Option<f64>,
    /// `BRUNT_SEED`: overrides every scenario's seed.
    pub seed: Option<u64>,
    /// `BRUNT_REPORT_DIR`: where reports go.
    pub report_dir: Option<PathBuf>,
    /// `BRUNT_INLINE`: run scenarios in the test process, for debugging.
    pub inline: Option<bool>,
    /// `BRUNT_MEMORY_LIMIT`: a size (`512MiB`) overriding `memory_limit`.
    pub memory_limit: Option<u64>,
    /// `BRUNT_SNAPSHOT_DIR`: where report-structure snapshots live.
    pub snapshot_dir: Option<PathBuf>,
    /// `BRUNT_SNAPSHOTS`: `0` turns snapshot checks off (e.g. for runner
    /// fixtures whose reports are not meant to be pinned).
    pub snapshots: Option<bool>,
    /// `BRUNT_REPLAY`: a chaos schedule file (written by shrinking) to run
    /// instead of drawing a schedule; its seed and scale are used.
    pub replay: Option<PathBuf>,
    /// `BRUNT_CHECK_DETERMINISM`: draw every chaos schedule twice and report
    /// whether the two are identical.
    pub check_determinism: Option<bool>,
    /// `BRUNT_SHRINK_RUNS`: most child runs shrinking a failed chaos
    /// schedule may take; `0` turns shrinking off.
    pub shrink_runs: Option<u32>,
    /// `BRUNT_SHRINK_TIME`: most wall time shrinking may take (`5m`).
    pub shrink_time: Option<std::time::Duration>,
    /// `BRUNT_LOCK`: how scenarios of different processes take turns
    /// (`off`, or the path of the lock file to share).
    pub lock: Option<LockSetting>,
    /// `BRUNT_RETRIES`: reruns of a failed scenario, up to this many; one
    /// that fails then passes is flaky.
    pub retries: Option<u32>,
    /// `BRUNT_SEGMENT=I/N`, or `BRUNT_SEGMENTS=N` with Kubernetes'
    /// `JOB_COMPLETION_INDEX`: this process runs segment I of N of each
    /// scenario's load.
    pub segment: Option<SegmentSetting>,
}

/// The most segments one scenario's load is split into.
pub const MAX_SEGMENTS: u32 = 10_000;

/// One segment of a scenario's load: the `index`-th of `count` (1-based, as
/// written in `BRUNT_SEGMENT=I/N`). Its processes together run the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSetting {
    /// Which segment, 1 ..= `count`.
    pub index: u32,
    /// How many segments the load is split into.
    pub count: u32,
}

impl std::fmt::Display for SegmentSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for SegmentSetting {
    type Err = &'static str;

    /// `I/N` with `1 <= I <= N <=` [`MAX_SEGMENTS`].
    fn from_str(text: &str) -> Result<SegmentSetting, &'static str> {
        const EXPECTED: &str = "I/N with 1 <= I <= N <= 10000, such as 2/4";
        let (index, count) = text.trim().split_once('/').ok_or(EXPECTED)?;
        let index: u32 = index.trim().parse().map_err(|_| EXPECTED)?;
        let count: u32 = count.trim().parse().map_err(|_| EXPECTED)?;
        if index == 0 || index > count || count > MAX_SEGMENTS {
            return Err(EXPECTED);
        }
        Ok(SegmentSetting { index, count })
    }
}

/// The most reruns `BRUNT_RETRIES` may ask for: a scenario that needs more
/// is broken, not flaky.
pub const MAX_RETRIES: u32 = 10;

/// `BRUNT_LOCK`: scenarios measure the machine, so by default one runs at a
/// time across every process that uses the same lock file.
#[derive(Debug, Clone, PartialEq)]
pub enum LockSetting {
    /// `BRUNT_LOCK=off` (or `0`, `false`, `no`): run without waiting for
    /// anyone, e.g. when the machine is known to be the scenario's alone.
    Off,
    /// `BRUNT_LOCK=1` (or `on`, `true`, `yes`): the default lock file,
    /// `<target dir>/brunt.lock`.
    Default,
    /// `BRUNT_LOCK=/path/brunt.lock`: a lock file shared with other
    /// workspaces or users of the machine.
    File(PathBuf),
}

impl EnvSettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<EnvSettings, EnvError> {
        EnvSettings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process
    /// environment. An empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<EnvSettings, EnvError> {
        let get = |var: &'static str| {
            lookup(var)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (var, v))
        };
        let mut settings = EnvSettings::default();
        if let Some((var, value)) = get("BRUNT_SCALE") {
            let scale = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= MAX_SCALE);
            settings.scale = Some(scale.ok_or(EnvError {
                var,
                value,
                expected: "a positive number up to 1000000, such as 0.1 or 2",
            })?);
        }
        if let Some((var, value)) = get("BRUNT_SEED") {
            settings.seed = Some(value.trim().parse::<u64>().map_err(|_| EnvError {
                var,
                value: value.clone(),
                expected: "a whole number from 0 to 18446744073709551615",
            })?);
        }
        if let Some((_, value)) = get("BRUNT_REPORT_DIR") {
            settings.report_dir = Some(PathBuf::from(value));
        }
        if let Some((var, value)) = get("BRUNT_INLINE") {
            settings.inline = Some(flag(var, value)?);
        }
        if let Some((var, value)) = get("BRUNT_SNAPSHOTS") {
            settings.snapshots = Some(flag(var, value)?);
        }
        if let Some((var, value)) = get("BRUNT_MEMORY_LIMIT") {
            let bytes = parse_size(&value).ok().filter(|b| *b > 0);
            settings.memory_limit = Some(bytes.ok_or(EnvError {
                var,
                value,
                expected: "a size above zero such as 512MiB or 2GiB",
            })?);
        }
        if let Some((_, value)) = get("BRUNT_SNAPSHOT_DIR") {
            settings.snapshot_dir = Some(PathBuf::from(value));
        }
        if let Some((_, value)) = get("BRUNT_REPLAY") {
            settings.replay = Some(PathBuf::from(value));
        }
        if let Some((var, value)) = get("BRUNT_CHECK_DETERMINISM") {
            settings.check_determinism = Some(flag(var, value)?);
        }
        if let Some((var, value)) = get("BRUNT_SHRINK_RUNS") {
            settings.shrink_runs = Some(value.trim().parse::<u32>().map_err(|_| EnvError {
                var,
                value: value.clone(),
                expected: "a whole number of runs, 0 to turn shrinking off",
            })?);
        }
        if let Some((var, value)) = get("BRUNT_SHRINK_TIME") {
            let time = crate::parse_duration(value.trim())
                .ok()
                .filter(|d| !d.is_zero());
            settings.shrink_time = Some(time.ok_or(EnvError {
                var,
                value,
                expected: "a duration above zero such as 90s or 5m",
            })?);
        }
        if let Some((var, value)) = get("BRUNT_RETRIES") {
            let retries = value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_RETRIES);
            settings.retries = Some(retries.ok_or(EnvError {
                var,
                value,
                expected: "a whole number of reruns from 0 to 10",
            })?);
        }
        settings.segment = segment(&get)?;
        if let Some((_, value)) = get("BRUNT_LOCK") {
            settings.lock = Some(match value.trim() {
                "0" | "false" | "no" | "off" => LockSetting::Off,
                "1" | "true" | "yes" | "on" => LockSetting::Default,
                path => LockSetting::File(PathBuf::from(path)),
            });
        }
        Ok(settings)
    }
}

/// `BRUNT_SEGMENT=I/N`, or `BRUNT_SEGMENTS=N` with `JOB_COMPLETION_INDEX`
/// (0-based, as a Kubernetes Indexed Job sets it). `JOB_COMPLETION_INDEX`
/// alone means nothing: any Indexed Job has it.
fn segment(
    get: &impl Fn(&'static str) -> Option<(&'static str, String)>,
) -> Result<Option<SegmentSetting>, EnvError> {
    match (get("BRUNT_SEGMENT"), get("BRUNT_SEGMENTS")) {
        (Some(_), Some((var, value))) => Err(EnvError {
            var,
            value,
            expected: "unset when BRUNT_SEGMENT is set (one of the two names the segment)",
        }),
        (Some((var, value)), None) => match value.parse::<SegmentSetting>() {
            Ok(segment) => Ok(Some(segment)),
            Err(expected) => Err(EnvError {
                var,
                value,
                expected,
            }),
        },
        (None, Some((var, value))) => {
            let count = value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_SEGMENTS).contains(n))
                .ok_or_else(|| EnvError {
                    var,
                    value: value.clone(),
                    expected: "a whole number of segments from 1 to 10000",
                })?;
            let Some((index_var, index)) = get("JOB_COMPLETION_INDEX") else {
                return Err(EnvError {
                    var,
                    value,
                    expected: "a count with JOB_COMPLETION_INDEX set (a Kubernetes Indexed Job's completion index); else use BRUNT_SEGMENT=I/N",
                });
            };
            let index = index
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|i| *i < count)
                .ok_or(EnvError {
                    var: index_var,
                    value: index,
                    expected: "a whole number from 0 to BRUNT_SEGMENTS - 1",
                })?;
            Ok(Some(SegmentSetting {
                index: index + 1,
                count,
            }))
        }
        (None, None) => Ok(None),
    }
}

fn flag(var: &'static str, value: String) -> Result<bool, EnvError> {
    match value.trim() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(EnvError {
            var,
            value,
            expected: "1 or 0 (true/false, yes/no, on/off)",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<EnvSettings, EnvError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvSettings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn reads_valid_values() {
        let s = read(&[
            ("BRUNT_SCALE", "0.25"),
            ("BRUNT_SEED", "7"),
            ("BRUNT_INLINE", "1"),
            ("BRUNT_MEMORY_LIMIT", "1GiB"),
            ("BRUNT_RETRIES", "2"),
        ])
        .unwrap();
        assert_eq!(s.retries, Some(2));
        assert_eq!(s.scale, Some(0.25));
        assert_eq!(s.seed, Some(7));
        assert_eq!(s.inline, Some(true));
        assert_eq!(s.memory_limit, Some(1 << 30));
    }

    #[test]
    fn invalid_values_name_variable_and_value() {
        for (var, value) in [
            ("BRUNT_SCALE", "fast"),
            ("BRUNT_SCALE", "-1"),
            ("BRUNT_SCALE", "0"),
            ("BRUNT_SCALE", "1e30"),
            ("BRUNT_SCALE", "inf"),
            ("BRUNT_SEED", "-3"),
            ("BRUNT_INLINE", "maybe"),
            ("BRUNT_SNAPSHOTS", "sometimes"),
            ("BRUNT_MEMORY_LIMIT", "lots"),
            ("BRUNT_RETRIES", "-1"),
            ("BRUNT_RETRIES", "11"),
            ("BRUNT_RETRIES", "twice"),
        ] {
            let err = read(&[(var, value)]).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(var) && text.contains(value), "{text}");
        }
    }

    #[test]
    fn the_lock_is_off_on_or_a_file() {
        let lock = |v| read(&[("BRUNT_LOCK", v)]).unwrap().lock;
        assert_eq!(lock("off"), Some(LockSetting::Off));
        assert_eq!(lock("0"), Some(LockSetting::Off));
        assert_eq!(lock("on"), Some(LockSetting::Default));
        assert_eq!(
            lock("/tmp/shared.lock"),
            Some(LockSetting::File("/tmp/shared.lock".into()))
        );
    }

    #[test]
    fn a_segment_is_named_one_way_or_the_kubernetes_way() {
        let segment = |pairs: &[(&str, &str)]| read(pairs).map(|s| s.segment);
        let second = SegmentSetting { index: 2, count: 4 };
        let two_of_four = Some(second);
        assert_eq!(segment(&[("BRUNT_SEGMENT", "2/4")]), Ok(two_of_four));
        assert_eq!(
            segment(&[("BRUNT_SEGMENTS", "4"), ("JOB_COMPLETION_INDEX", "1")]),
            Ok(two_of_four)
        );
        assert_eq!(segment(&[("JOB_COMPLETION_INDEX", "1")]), Ok(None));
        assert_eq!(second.to_string(), "2/4");
        for (pairs, names) in [
            (&[("BRUNT_SEGMENT", "0/4")][..], "BRUNT_SEGMENT"),
            (&[("BRUNT_SEGMENT", "5/4")][..], "BRUNT_SEGMENT"),
            (&[("BRUNT_SEGMENT", "2")][..], "BRUNT_SEGMENT"),
            (&[("BRUNT_SEGMENT", "1/20000")][..], "BRUNT_SEGMENT"),
            (&[("BRUNT_SEGMENTS", "4")][..], "JOB_COMPLETION_INDEX"),
            (
                &[("BRUNT_SEGMENTS", "0"), ("JOB_COMPLETION_INDEX", "0")][..],
                "BRUNT_SEGMENTS",
            ),
            (
                &[("BRUNT_SEGMENTS", "4"), ("JOB_COMPLETION_INDEX", "4")][..],
                "JOB_COMPLETION_INDEX",
            ),
            (
                &[("BRUNT_SEGMENT", "1/2"), ("BRUNT_SEGMENTS", "2")][..],
                "BRUNT_SEGMENT",
            ),
        ] {
            let text = read(pairs).unwrap_err().to_string();
            assert!(text.contains(names), "{pairs:?}: {text}");
        }
    }

    #[test]
    fn empty_values_count_as_unset() {
        assert_eq!(
            read(&[("BRUNT_SCALE", "")]).unwrap(),
            EnvSettings::default()
        );
    }
}
