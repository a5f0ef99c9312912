//! Stages: a load that ramps linearly from one target to the next, as k6's
//! ramping executors do. With the closed model the target is the number of
//! active workers; with the open model, arrivals per second.

use std::time::Duration;

/// One stage as declared: ramp linearly to `target` over `duration`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stage {
    /// How long the ramp lasts (scaled by `BRUNT_SCALE`).
    pub duration: Duration,
    /// Workers (closed model) or arrivals per second (open model) at its end.
    pub target: f64,
}

/// A piecewise-linear load profile: `start`, then each stage in turn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ramp {
    start: f64,
    stages: Vec<Stage>,
}

impl Ramp {
    pub(crate) fn new(start: f64, stages: &[Stage]) -> Ramp {
        Ramp {
            start,
            stages: stages.to_vec(),
        }
    }

    /// The whole profile's length.
    pub(crate) fn total(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// The highest level reached.
    pub(crate) fn max_level(&self) -> f64 {
        self.stages
            .iter()
            .map(|s| s.target)
            .fold(self.start, f64::max)
    }

    /// The level `elapsed` into the profile (the last target after its end).
    pub(crate) fn level_at(&self, elapsed: Duration) -> f64 {
        let mut from = self.start;
        let mut left = elapsed.as_secs_f64();
        for stage in &self.stages {
            let length = stage.duration.as_secs_f64();
            if left < length {
                return from + (stage.target - from) * left / length;
            }
            left -= length;
            from = stage.target;
        }
        from
    }

    /// Arrivals the whole profile holds, when levels are rates per second.
    pub(crate) fn arrivals(&self) -> u64 {
        let mut from = self.start;
        let mut total = 0.0;
        for stage in &self.stages {
            total += (from + stage.target) / 2.0 * stage.duration.as_secs_f64();
            from = stage.target;
        }
        total.floor() as u64
    }

    /// When arrival `k` (0-based) is due: the time at which the integral of
    /// the rate reaches `k`. `None` past the profile's end.
    pub(crate) fn time_of(&self, k: u64) -> Option<Duration> {
        let mut from = self.start;
        let mut before = 0.0;
        let mut offset = 0.0;
        let k = k as f64;
        for stage in &self.stages {
            let length = stage.duration.as_secs_f64();
            let within = (from + stage.target) / 2.0 * length;
            if k < before + within || (k == 0.0 && within > 0.0) {
                let n = k - before;
                // N(t) = from·t + a·t², a = (target − from) / (2·length);
                // t = 2n / (from + √(from² + 4an)), stable for any sign of a.
                let a = (stage.target - from) / (2.0 * length);
                let root = (from * from + 4.0 * a * n).max(0.0).sqrt();
                let t = if n == 0.0 {
                    0.0
                } else {
                    2.0 * n / (from + root)
                };
                return Some(Duration::from_secs_f64(offset + t.min(length)));
            }
            before += within;
            offset += length;
            from = stage.target;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(secs: u64, target: f64) -> Stage {
        Stage {
            duration: Duration::from_secs(secs),
            target,
        }
    }

    #[test]
    fn levels_ramp_linearly() {
        let ramp = Ramp::new(0.0, &[stage(10, 100.0), stage(10, 100.0), stage(10, 0.0)]);
        assert_eq!(ramp.total(), Duration::from_secs(30));
        assert_eq!(ramp.level_at(Duration::from_secs(5)), 50.0);
        assert_eq!(ramp.level_at(Duration::from_secs(15)), 100.0);
        assert_eq!(ramp.level_at(Duration::from_secs(25)), 50.0);
        assert_eq!(ramp.level_at(Duration::from_secs(40)), 0.0);
        assert_eq!(ramp.max_level(), 100.0);
    }

    #[test]
    fn arrival_times_follow_the_integral_of_the_rate() {
        // 0 → 100/s over 10 s holds 500 arrivals; 100/s for 10 s holds 1000.
        let ramp = Ramp::new(0.0, &[stage(10, 100.0), stage(10, 100.0)]);
        assert_eq!(ramp.arrivals(), 1500);
        // Half the first stage's arrivals (250) are due at 10·√½ ≈ 7.07 s.
        let t = ramp.time_of(250).unwrap().as_secs_f64();
        assert!((t - 7.0711).abs() < 1e-3, "{t}");
        let t = ramp.time_of(1000).unwrap().as_secs_f64();
        assert!((t - 15.0).abs() < 1e-9, "{t}");
        assert_eq!(ramp.time_of(1500), None);
        // A constant rate matches the open model's k / rate.
        let flat = Ramp::new(500.0, &[stage(3, 500.0)]);
        assert_eq!(flat.arrivals(), 1500);
        assert!((flat.time_of(750).unwrap().as_secs_f64() - 1.5).abs() < 1e-9);
        // Ramping down: still monotonic and inside the stage.
        let down = Ramp::new(100.0, &[stage(10, 0.0)]);
        let times: Vec<f64> = (0..down.arrivals())
            .map(|k| down.time_of(k).unwrap().as_secs_f64())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(*times.last().unwrap() <= 10.0);
    }
}
