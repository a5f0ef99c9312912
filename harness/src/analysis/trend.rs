//! Trends over samples, so growth is judged from every sample, never from
//! two points.
//!
//! [`growth_trend`] is what leak findings use: a Theil–Sen slope (the median
//! of every pair's slope, which a one-time jump or a few outliers cannot
//! move) with a Mann–Kendall test of whether the samples rise at all, its
//! variance corrected for ties and for the autocorrelation that resource
//! samples always have. A leak is a rise that goes on: the later half of
//! the samples must still rise. A one-time allocation (a step), a
//! garbage-collector sawtooth and noise are not leaks.

/// Most points a growth trend looks at; longer series are thinned evenly
/// (Theil–Sen compares every pair: 2,000 points are 2 million slopes).
const MAX_POINTS: usize = 2_000;

/// One-sided z for a rise at 97.5 % confidence (two-sided 95 %).
const Z_95: f64 = 1.959_964;

/// A robust growth trend over samples `(x, y)`: Theil–Sen slope, its 95 %
/// interval, and Mann–Kendall significance over the whole and over the
/// later half.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthTrend {
    /// Median of every pair's slope: units of y per unit of x.
    pub slope: f64,
    /// The slope's 95 % interval (Sen's rank method).
    pub slope_low: f64,
    /// Upper end of the interval.
    pub slope_high: f64,
    /// What grew: the level at the end less the level at the start, each
    /// the median of a stretch of samples at that end (a tenth of them, at
    /// least 3), carried to the very end by its half's Theil–Sen slope. A
    /// leak that stopped early grew by what it grew, not by its slope
    /// extrapolated over the whole run.
    pub growth: f64,
    /// Mann–Kendall z of a rise over all the samples (positive: rising),
    /// corrected for ties and autocorrelation.
    pub z: f64,
    /// The same over the later half of the samples.
    pub z_late: f64,
    /// Theil–Sen slope over the later half.
    pub slope_late: f64,
    /// Points fitted (after thinning).
    pub n: usize,
}

impl GrowthTrend {
    /// Whether the samples rise significantly and go on rising through
    /// their later half: a leak's shape, not a step's, a sawtooth's or
    /// noise's.
    pub fn keeps_rising(&self) -> bool {
        self.z > Z_95
            && self.slope > 0.0
            && self.z_late > 1.0
            && self.slope_late >= 0.25 * self.slope
    }
}

/// Fits a robust growth trend; `None` for fewer than 3 points or when every
/// x is the same.
pub fn growth_trend(points: &[(f64, f64)]) -> Option<GrowthTrend> {
    let points = thin(points);
    let n = points.len();
    if n < 3 {
        return None;
    }
    let span = points[n - 1].0 - points[0].0;
    if span <= 0.0 {
        return None;
    }
    let (slope, low, high) = theil_sen(&points)?;
    let z = mann_kendall_z(&points, slope);
    let late = &points[n / 2..];
    let (slope_late, z_late) = if late.len() >= 3 {
        let s = theil_sen(late).map_or(0.0, |t| t.0);
        (s, mann_kendall_z(late, s))
    } else {
        (0.0, 0.0)
    };
    let early = &points[..n / 2];
    let slope_early = if early.len() >= 3 {
        theil_sen(early).map_or(0.0, |t| t.0)
    } else {
        0.0
    };
    Some(GrowthTrend {
        slope,
        slope_low: low,
        slope_high: high,
        growth: level_growth(&points, slope_early, slope_late),
        z,
        z_late,
        slope_late,
        n,
    })
}

/// Share of the samples at each end whose median is that end's level.
const LEVEL_STRETCH: f64 = 0.1;

/// The end level less the start level (see [`GrowthTrend::growth`]). A
/// stretch's median is the level at its middle while the level moves; the
/// half-stretch to the outer end is carried by the slope of that half of
/// the samples (zero where that half is flat, as after a leak that
/// stopped).
fn level_growth(points: &[(f64, f64)], slope_early: f64, slope_late: f64) -> f64 {
    let n = points.len();
    let stretch = ((n as f64 * LEVEL_STRETCH).round() as usize)
        .max(3)
        .min(n / 2)
        .max(1);
    let level = |part: &[(f64, f64)]| {
        let mut ys: Vec<f64> = part.iter().map(|p| p.1).collect();
        ys.sort_by(f64::total_cmp);
        let m = ys.len() / 2;
        if ys.len() % 2 == 1 {
            ys[m]
        } else {
            (ys[m - 1] + ys[m]) / 2.0
        }
    };
    let half = |part: &[(f64, f64)]| (part[part.len() - 1].0 - part[0].0) / 2.0;
    let (first, last) = (&points[..stretch], &points[n - stretch..]);
    let start = level(first) - slope_early * half(first);
    let end = level(last) + slope_late * half(last);
    end - start
}

fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let step = points.len() as f64 / MAX_POINTS as f64;
    (0..MAX_POINTS)
        .map(|k| points[((k as f64 * step) as usize).min(points.len() - 1)])
        .collect()
}

/// Theil–Sen slope and its 95 % interval by Sen's rank method.
fn theil_sen(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let mut slopes: Vec<f64> = Vec::with_capacity(points.len() * (points.len() - 1) / 2);
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            let dx = b.0 - a.0;
            if dx > 0.0 {
                slopes.push((b.1 - a.1) / dx);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    let count = slopes.len();
    let mut at = |k: usize| -> f64 {
        let k = k.min(count - 1);
        *slopes.select_nth_unstable_by(k, f64::total_cmp).1
    };
    let median = if count % 2 == 1 {
        at(count / 2)
    } else {
        (at(count / 2 - 1) + at(count / 2)) / 2.0
    };
    let n = points.len() as f64;
    let reach = Z_95 * (n * (n - 1.0) * (2.0 * n + 5.0) / 18.0).sqrt();
    let low = at(((count as f64 - reach) / 2.0).floor().max(0.0) as usize);
    let high = at(((count as f64 + reach) / 2.0).ceil() as usize);
    Some((median, low, high))
}

/// Mann–Kendall z for a rise: S over every pair, variance corrected for
/// tied values and inflated for lag-1 autocorrelation of the residuals
/// about `slope` (resource samples are never independent).
fn mann_kendall_z(points: &[(f64, f64)], slope: f64) -> f64 {
    let n = points.len();
    let mut s = 0i64;
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            s += match b.1.partial_cmp(&a.1) {
                Some(std::cmp::Ordering::Greater) => 1,
                Some(std::cmp::Ordering::Less) => -1,
                _ => 0,
            };
        }
    }
    let nf = n as f64;
    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    ys.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut run = 1.0f64;
    for w in ys.windows(2) {
        if w[0] == w[1] {
            run += 1.0;
        } else {
            ties += run * (run - 1.0) * (2.0 * run + 5.0);
            run = 1.0;
        }
    }
    ties += run * (run - 1.0) * (2.0 * run + 5.0);
    let mut variance = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    if variance <= 0.0 {
        return 0.0;
    }
    let x0 = points[0].0;
    let residuals: Vec<f64> = points.iter().map(|p| p.1 - slope * (p.0 - x0)).collect();
    let mean = residuals.iter().sum::<f64>() / nf;
    let denominator: f64 = residuals.iter().map(|r| (r - mean).powi(2)).sum();
    if denominator > 0.0 {
        let numerator: f64 = residuals
            .windows(2)
            .map(|w| (w[0] - mean) * (w[1] - mean))
            .sum();
        let rho = (numerator / denominator).clamp(0.0, 0.95);
        variance *= (1.0 + rho) / (1.0 - rho);
    }
    let s = s as f64;
    let corrected = if s > 0.0 {
        s - 1.0
    } else if s < 0.0 {
        s + 1.0
    } else {
        0.0
    };
    corrected / variance.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic noise in [-1, 1].
    fn noise(i: usize) -> f64 {
        let x = (i as u64)
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
    }

    fn series(n: usize, f: impl Fn(usize) -> f64) -> Vec<(f64, f64)> {
        (0..n).map(|i| (i as f64 * 0.1, f(i))).collect()
    }

    const MIB: f64 = 1024.0 * 1024.0;

    #[test]
    fn a_ramp_is_a_leak_and_its_growth_is_measured() {
        // 64 MiB over 3 s, with 1 MiB of noise.
        let ramp = series(31, |i| {
            100.0 * MIB + 64.0 * MIB * i as f64 / 30.0 + MIB * noise(i)
        });
        let t = growth_trend(&ramp).unwrap();
        assert!(t.keeps_rising(), "{t:?}");
        assert!((t.growth / MIB - 64.0).abs() < 3.0, "{}", t.growth / MIB);
        assert!(t.slope_low <= t.slope && t.slope <= t.slope_high);
    }

    #[test]
    fn a_one_time_allocation_is_not_a_leak() {
        // 64 MiB allocated once, at 10 %, 50 % and 90 % of a 3 s run.
        for at in [3, 15, 27] {
            let step = series(31, |i| {
                100.0 * MIB + if i >= at { 64.0 * MIB } else { 0.0 } + 0.2 * MIB * noise(i)
            });
            let t = growth_trend(&step).unwrap();
            assert!(!t.keeps_rising(), "step at {at}: {t:?}");
        }
        let early = series(31, |i| if i >= 3 { 64.0 * MIB } else { 0.0 });
        let growth = growth_trend(&early).unwrap().growth;
        assert!(
            (growth / MIB - 64.0).abs() < 1.0,
            "a step at 10% grew by its height: {}",
            growth / MIB
        );
    }

    #[test]
    fn a_sawtooth_and_noise_are_not_leaks() {
        // A collector: +8 MiB a sample, freed back every 8 samples.
        let sawtooth = series(80, |i| 100.0 * MIB + 8.0 * MIB * (i % 8) as f64);
        let t = growth_trend(&sawtooth).unwrap();
        assert!(!t.keeps_rising(), "{t:?}");
        let flat = series(80, |i| 100.0 * MIB + 4.0 * MIB * noise(i));
        let t = growth_trend(&flat).unwrap();
        assert!(!t.keeps_rising(), "{t:?}");
        assert!(t.growth.abs() < 4.0 * MIB, "{}", t.growth / MIB);
        // Constant counts (threads, fds) tie everywhere: no rise, no error.
        let constant = series(20, |_| 12.0);
        let t = growth_trend(&constant).unwrap();
        assert_eq!((t.slope, t.z), (0.0, 0.0));
    }

    /// `growth` within ±10 % of the planted rise, for a 4 s run sampled
    /// every 100 ms with 0.5 MiB of noise.
    fn assert_growth(name: &str, truth: f64, level: impl Fn(f64) -> f64) {
        let points = series(41, |i| level(i as f64 / 40.0) + 0.5 * MIB * noise(i));
        let growth = growth_trend(&points).unwrap().growth;
        assert!(
            (growth - truth).abs() <= 0.1 * truth,
            "{name}: growth {:.1} MiB, planted {:.1} MiB",
            growth / MIB,
            truth / MIB
        );
    }

    #[test]
    fn growth_is_what_grew_whatever_its_shape() {
        let base = 100.0 * MIB;
        let rise = 64.0 * MIB;
        assert_growth("ramp over the whole run", rise, |f| base + rise * f);
        for stop in [0.4, 0.65] {
            assert_growth(&format!("ramp stopping at {stop}"), rise, |f| {
                base + rise * (f / stop).min(1.0)
            });
        }
        assert_growth("step at half", rise, |f| {
            base + if f >= 0.5 { rise } else { 0.0 }
        });
        // Ten teeth rising 16 MiB then freed by 9.6: a net rise of 64 MiB.
        assert_growth("rising sawtooth", rise, |f| {
            let tooth = (f * 10.0).min(9.999);
            let (k, phase) = (tooth.floor(), tooth.fract());
            base + k * 6.4 * MIB + phase * 16.0 * MIB
        });
    }

    #[test]
    fn long_series_are_thinned() {
        let long = series(50_000, |i| i as f64);
        let t = growth_trend(&long).unwrap();
        assert_eq!(t.n, MAX_POINTS);
        assert!((t.slope - 10.0).abs() < 1e-6, "{}", t.slope);
    }

    #[test]
    fn too_few_points() {
        assert_eq!(growth_trend(&[(0.0, 1.0), (1.0, 2.0)]), None);
    }
}
