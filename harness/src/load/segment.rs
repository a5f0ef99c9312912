//! A segment of a scenario's load (`BRUNT_SEGMENT=I/N`): one of N processes,
//! each on its own machine, that together run exactly the declared load.
//!
//! As k6's execution segments, the split is by position, striped: of a run's
//! workers, ops or arrivals numbered 0, 1, 2, …, segment `i` (0-based) takes
//! those whose number modulo N is `i`. So the union of the N segments is the
//! whole, whatever the count (a rate or a worker count that N does not
//! divide still sums exactly), every segment's arrivals keep the whole's
//! spacing (arrival `k` is due at the whole's `k / rate`, whichever segment
//! sends it), and an op keeps its index — and the mix draw made from it — as
//! it has in one run.

use serde::{Deserialize, Serialize};

/// Which of the N stripes of a run this process runs (`index` 0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Segment {
    pub(crate) index: u32,
    pub(crate) count: u32,
}

impl Default for Segment {
    fn default() -> Segment {
        Segment::WHOLE
    }
}

impl Segment {
    /// The whole load: one segment of one.
    pub(crate) const WHOLE: Segment = Segment { index: 0, count: 1 };

    /// Whether this is the whole load.
    pub(crate) fn is_whole(self) -> bool {
        self.count <= 1
    }

    /// How many of the positions `0..total` are this segment's.
    pub(crate) fn share(self, total: u64) -> u64 {
        let (index, count) = (u64::from(self.index), u64::from(self.count.max(1)));
        if total <= index {
            0
        } else {
            (total - index - 1) / count + 1
        }
    }

    /// [`Segment::share`] of a worker count or a bound.
    pub(crate) fn share_u32(self, total: u32) -> u32 {
        self.share(u64::from(total)) as u32
    }

    /// The position, in the whole run, of this segment's `local`-th item.
    pub(crate) fn position(self, local: u64) -> u64 {
        local * u64::from(self.count.max(1)) + u64::from(self.index)
    }

    /// How far apart this segment's positions are.
    pub(crate) fn stride(self) -> u64 {
        u64::from(self.count.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(n: u32) -> impl Iterator<Item = Segment> {
        (0..n).map(move |index| Segment { index, count: n })
    }

    #[test]
    fn the_segments_of_a_run_are_exactly_the_whole() {
        for n in [1, 2, 3, 4, 7, 10] {
            for total in [0u64, 1, 2, 3, 5, 99, 1_000, 1_003] {
                let shares: u64 = segments(n).map(|s| s.share(total)).sum();
                assert_eq!(shares, total, "{total} over {n}");
                let mut positions: Vec<u64> = segments(n)
                    .flat_map(|s| (0..s.share(total)).map(move |l| s.position(l)))
                    .collect();
                positions.sort_unstable();
                assert_eq!(
                    positions,
                    (0..total).collect::<Vec<_>>(),
                    "{total} over {n}"
                );
            }
        }
    }

    #[test]
    fn workers_that_do_not_divide_still_sum() {
        let shares: Vec<u32> = segments(4).map(|s| s.share_u32(10)).collect();
        assert_eq!(shares, [3, 3, 2, 2]);
        assert_eq!(Segment::WHOLE.share(17), 17);
        assert_eq!(Segment::WHOLE.position(5), 5);
    }
}
