//! Least-squares trends over samples: a resource's slope with its standard
//! error, so growth is judged from every sample, never from two points.

/// A fitted line `y = intercept + slope · x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Units of y per unit of x.
    pub slope: f64,
    /// y at x = 0.
    pub intercept: f64,
    /// Standard error of the slope.
    pub slope_stderr: f64,
    /// Points fitted.
    pub n: usize,
}

impl Trend {
    /// Half-width of the slope's ≈95 % confidence interval (normal
    /// approximation; generous enough for the sample counts we fit).
    pub fn slope_ci95(&self) -> f64 {
        1.96 * self.slope_stderr
    }
}

/// Fits a line through `(x, y)` points; `None` for fewer than 3 points or
/// when every x is the same.
pub fn linear_trend(points: &[(f64, f64)]) -> Option<Trend> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let residual_ss: f64 = points
        .iter()
        .map(|p| (p.1 - (intercept + slope * p.0)).powi(2))
        .sum();
    let slope_stderr = (residual_ss / (nf - 2.0) / sxx).sqrt();
    Some(Trend {
        slope,
        intercept,
        slope_stderr,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line() {
        let points: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 + 2.0 * i as f64)).collect();
        let t = linear_trend(&points).unwrap();
        assert!((t.slope - 2.0).abs() < 1e-12);
        assert!((t.intercept - 3.0).abs() < 1e-9);
        assert!(t.slope_stderr < 1e-9);
    }

    #[test]
    fn too_few_points() {
        assert_eq!(linear_trend(&[(0.0, 1.0), (1.0, 2.0)]), None);
    }
}
