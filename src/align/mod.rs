//! Alignment of a performance to the score reference: offline DTW and online time warping.

pub mod cost;
pub mod dtw;
pub mod evidence;
pub mod multiscale;
pub mod oltw;
pub mod tempo_filter;
#[cfg(test)]
pub(crate) mod test_support;

use crate::features::{FRAME_CENTRE_S, HOP_S};

/// A warping path: `(performance frame, reference frame)` pairs, both non-decreasing.
pub type Path = Vec<(usize, usize)>;

/// Maps reference (score) times to performance times through a path, interpolating linearly
/// between the mean performance frame of each reference frame on the path.
pub struct PathMap {
    /// (reference frame, mean performance frame), strictly increasing in the reference frame.
    points: Vec<(f64, f64)>,
}

impl PathMap {
    pub fn new(path: &[(usize, usize)]) -> Self {
        let mut points: Vec<(f64, f64)> = Vec::new();
        let mut i = 0;
        while i < path.len() {
            let r = path[i].1;
            let mut j = i;
            let mut sum = 0.0;
            while j < path.len() && path[j].1 == r {
                sum += path[j].0 as f64;
                j += 1;
            }
            points.push((r as f64, sum / (j - i) as f64));
            i = j;
        }
        Self { points }
    }

    /// Performance time at `score_time_s`. A frame's sound lies at the centre of its window,
    /// [`FRAME_CENTRE_S`] before the frame's time, on both sides of the path: that offset
    /// cancels only where the performance keeps the score's tempo, so it is taken off both.
    pub fn perf_time_at(&self, score_time_s: f64) -> f64 {
        self.perf_frame_at((score_time_s + FRAME_CENTRE_S) / HOP_S) * HOP_S - FRAME_CENTRE_S
    }

    /// Performance frame (fractional) at reference frame `r`.
    pub fn perf_frame_at(&self, r: f64) -> f64 {
        let p = &self.points;
        match p.partition_point(|q| q.0 <= r) {
            0 => p.first().map_or(0.0, |q| q.1),
            k if k == p.len() => p.last().map_or(0.0, |q| q.1),
            k => {
                let (a, b) = (p[k - 1], p[k]);
                a.1 + (b.1 - a.1) * (r - a.0) / (b.0 - a.0)
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
            let at_frame_ends = map.perf_frame_at(s / HOP_S) * HOP_S - 3.0 * s;
            assert!(at_frame_ends < -0.04, "{:.1} ms", 1e3 * at_frame_ends);
        }
    }
}
