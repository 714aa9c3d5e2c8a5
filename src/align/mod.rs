//! Alignment of a performance to the score reference: offline DTW and online time warping.

pub mod cost;
pub mod dtw;
pub mod evidence;
pub mod multiscale;
pub mod oltw;
pub mod refine;
pub mod tempo_filter;
#[cfg(test)]
pub(crate) mod test_support;

use crate::features::{FRAME_CENTRE_S, HOP_S};

/// A warping path: `(performance frame, reference frame)` pairs, both non-decreasing.
pub type Path = Vec<(usize, usize)>;

/// Maps score times to performance times: linear interpolation between points, each a score
/// time and the performance time it was played at.
#[derive(Debug, Clone, PartialEq)]
pub struct PathMap {
    /// (score s, performance s), strictly increasing in the score time.
    points: Vec<(f64, f64)>,
}

impl PathMap {
    /// The map of a warping path: each reference frame on the path at the mean of its performance
    /// frames. A frame's sound lies at the centre of its window, [`FRAME_CENTRE_S`] before the
    /// frame's time, on both sides of the path: that offset cancels only where the performance
    /// keeps the score's tempo, so it is taken off both.
    pub fn new(path: &[(usize, usize)]) -> Self {
        let at_centre = |frame: f64| frame * HOP_S - FRAME_CENTRE_S;
        let mut points: Vec<(f64, f64)> = Vec::new();
        for run in path.chunk_by(|a, b| a.1 == b.1) {
            let mean = run.iter().map(|s| s.0 as f64).sum::<f64>() / run.len() as f64;
            points.push((at_centre(run[0].1 as f64), at_centre(mean)));
        }
        Self { points }
    }

    /// The map through `points` (score s, performance s); those not strictly later on both
    /// sides than the point before are left out.
    pub fn from_points(points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let mut kept: Vec<(f64, f64)> = Vec::new();
        for p in points {
            let later = match kept.last() {
                Some(q) => p.0 > q.0 && p.1 > q.1,
                None => true,
            };
            if later {
                kept.push(p);
            }
        }
        Self { points: kept }
    }

    /// This map moved by `corrections` (score s, performance s to add), sorted by score time:
    /// each applies fully at its own score time, and linearly less toward its neighbours'.
    pub fn corrected(&self, corrections: &[(f64, f64)]) -> Self {
        if corrections.is_empty() {
            return self.clone();
        }
        let delta = Self {
            points: corrections.to_vec(),
        };
        let mut times: Vec<f64> = self.points.iter().map(|p| p.0).collect();
        times.extend(corrections.iter().map(|c| c.0));
        times.sort_by(f64::total_cmp);
        Self::from_points(
            times
                .into_iter()
                .map(|t| (t, self.perf_time_at(t) + delta.perf_time_at(t))),
        )
    }

    /// Performance time at `score_time_s`; before the first point and after the last, the
    /// nearest point's.
    pub fn perf_time_at(&self, score_time_s: f64) -> f64 {
        let p = &self.points;
        match p.partition_point(|q| q.0 <= score_time_s) {
            0 => p.first().map_or(0.0, |q| q.1),
            k if k == p.len() => p.last().map_or(0.0, |q| q.1),
            k => {
                let (a, b) = (p[k - 1], p[k]);
                a.1 + (b.1 - a.1) * (score_time_s - a.0) / (b.0 - a.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A performance at a third of the score's tempo, frame by frame: each side's frame `k` holds
    /// the sound of `k · hop − FRAME_CENTRE_S`. Score times map to three times their value; read
    /// off the frames' ends instead, they would be two half windows (46 ms) early.
    #[test]
    fn times_are_read_at_the_window_centres() {
        let path: Vec<(usize, usize)> = (0..800)
            .map(|i| {
                let heard_s = i as f64 * HOP_S - FRAME_CENTRE_S;
                let score_s = heard_s / 3.0;
                (
                    i,
                    ((score_s + FRAME_CENTRE_S) / HOP_S).round().max(0.0) as usize,
                )
            })
            .collect();
        let map = PathMap::new(&path);
        for s in [1.0, 2.5, 4.0, 5.3] {
            let err = map.perf_time_at(s) - 3.0 * s;
            assert!(err.abs() <= 0.005, "at {s} s: {:.1} ms", 1e3 * err);
        }
    }
}
