//! Statistics the suite's analyses share: mean, standard deviation and
//! coefficient of variation, and the bootstrap confidence interval of a
//! relative change in the mean, as criterion estimates one — and the series
//! they read: a run's load second by second.

use brunt_report::Report;
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

/// Mean, sample standard deviation and coefficient of variation (percent)
/// of `values`; `None` for fewer than two values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub sd: f64,
    /// `sd / mean`, percent; `None` when the mean is 0.
    pub cv_pct: Option<f64>,
}

/// The [`Spread`] of `values`.
pub fn spread(values: &[f64]) -> Option<Spread> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let sd = var.sqrt();
    let cv_pct = (mean != 0.0).then(|| 100.0 * sd / mean.abs());
    Some(Spread { mean, sd, cv_pct })
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// A relative change of a mean with its confidence interval, as fractions
/// (0.1 = 10 % more).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RelativeChange {
    /// `mean(new) / mean(base) − 1`.
    pub point: f64,
    /// Lower bound of the confidence interval.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// Resamples drawn, as criterion's default `nresamples`.
pub const RESAMPLES: usize = 100_000;

/// Most values one side of a bootstrap resamples. A longer series (a
/// day's soak is 86,400 seconds) is cut into this many runs of consecutive
/// samples and their means are resampled instead: the cost stays
/// `resamples × MAX_BLOCKS` whatever the series' length, where resampling
/// every second took tens of minutes for a day; and seconds next to each
/// other are not independent draws, so resampling blocks of them (a block
/// bootstrap) gives the more honest interval.
pub const MAX_BLOCKS: usize = 512;

/// `xs` as at most [`MAX_BLOCKS`] means of consecutive runs, their lengths
/// differing by at most one; `xs` itself when short enough.
fn block_means(xs: &[f64]) -> std::borrow::Cow<'_, [f64]> {
    let n = xs.len();
    if n <= MAX_BLOCKS {
        return std::borrow::Cow::Borrowed(xs);
    }
    let block = |i: usize| &xs[i * n / MAX_BLOCKS..(i + 1) * n / MAX_BLOCKS];
    std::borrow::Cow::Owned((0..MAX_BLOCKS).map(|i| mean(block(i))).collect())
}

/// The bootstrap confidence interval (percentile method, `1 − alpha`) of
/// the relative change in the mean from `base` to `new`, resampling both
/// with replacement `resamples` times from a fixed seed (the same samples
/// give the same interval); series longer than [`MAX_BLOCKS`] are
/// resampled as block means. `None` with fewer than two samples on a side
/// or a base mean of 0.
pub fn relative_change(
    base: &[f64],
    new: &[f64],
    alpha: f64,
    resamples: usize,
) -> Option<RelativeChange> {
    if base.len() < 2 || new.len() < 2 {
        return None;
    }
    let base_mean = mean(base);
    if base_mean == 0.0 {
        return None;
    }
    let point = mean(new) / base_mean - 1.0;
    let (base, new) = (block_means(base), block_means(new));
    let (base, new) = (&base[..], &new[..]);
    let mut rng = ChaCha8Rng::seed_from_u64(0x0062_7275_6e74);
    let mut draws = Vec::with_capacity(resamples);
    let resample_mean = |rng: &mut ChaCha8Rng, xs: &[f64]| {
        let mut sum = 0.0;
        for _ in 0..xs.len() {
            sum += xs[rng.random_range(0..xs.len())];
        }
        sum / xs.len() as f64
    };
    for _ in 0..resamples {
        let b = resample_mean(&mut rng, base);
        let n = resample_mean(&mut rng, new);
        if b != 0.0 {
            draws.push(n / b - 1.0);
        }
    }
    if draws.is_empty() {
        return None;
    }
    draws.sort_by(f64::total_cmp);
    let at = |q: f64| draws[((draws.len() - 1) as f64 * q).round() as usize];
    Some(RelativeChange {
        point,
        lower: at(alpha / 2.0),
        upper: at(1.0 - alpha / 2.0),
    })
}

/// The run's load second by second, `(t_ms, ops, errors)`, from its first
/// second with a finished op to its last, a second in which no op finished
/// (a stall) included as zero: the report lists only seconds that saw an
/// op finish, and leaving the stalls out would overstate throughput.
pub fn load_seconds(report: &Report) -> Vec<(f64, u64, u64)> {
    let mut out: Vec<(f64, u64, u64)> = Vec::new();
    for p in &report.samples.load {
        if let Some(&(last, _, _)) = out.last() {
            let mut t = last + 1000.0;
            while t < p.t_ms - 1.0 {
                out.push((t, 0, 0));
                t += 1000.0;
            }
        }
        out.push((p.t_ms, p.ops, p.errors));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_series_are_resampled_as_block_means_of_the_same_mean() {
        let xs: Vec<f64> = (0..86_400).map(|i| (i % 7) as f64).collect();
        let blocks = block_means(&xs);
        assert_eq!(blocks.len(), MAX_BLOCKS);
        let m = mean(&blocks);
        assert!((m - mean(&xs)).abs() < 1e-2, "{m} vs {}", mean(&xs));
        let short = [1.0, 2.0, 3.0];
        assert_eq!(&*block_means(&short), &short);
        // A day against a day, 10 % up: found, and the interval holds it.
        let up: Vec<f64> = xs.iter().map(|x| 1.1 * (x + 1.0)).collect();
        let base: Vec<f64> = xs.iter().map(|x| x + 1.0).collect();
        let c = relative_change(&base, &up, 0.05, 10_000).unwrap();
        assert!((c.point - 0.1).abs() < 1e-9, "{c:?}");
        assert!(c.lower <= 0.1 && 0.1 <= c.upper, "{c:?}");
    }

    #[test]
    fn spread_of_seed_003_like_throughputs() {
        let s = spread(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.mean, 5.0);
        assert!((s.sd - 2.138).abs() < 1e-3, "{}", s.sd);
        assert!((s.cv_pct.unwrap() - 42.76).abs() < 0.01);
        assert!(spread(&[1.0]).is_none());
    }

    #[test]
    fn the_interval_holds_the_change_and_excludes_zero_only_when_it_is_real() {
        let base: Vec<f64> = (0..30).map(|i| 100.0 + (i % 5) as f64).collect();
        let slower: Vec<f64> = base.iter().map(|v| v * 1.3).collect();
        let c = relative_change(&base, &slower, 0.05, 10_000).unwrap();
        assert!((c.point - 0.3).abs() < 1e-9);
        assert!(c.lower > 0.25 && c.upper < 0.35, "{c:?}");
        let same = relative_change(&base, &base, 0.05, 10_000).unwrap();
        assert!(same.lower < 0.0 && same.upper > 0.0, "{same:?}");
        assert!(relative_change(&base[..1], &base, 0.05, 100).is_none());
    }
}
