//! Alignment of a performance to the score reference: offline DTW and online time warping.

pub mod cost;
pub mod dtw;
pub mod evidence;
pub mod multiscale;
pub mod oltw;
pub mod tempo_filter;
#[cfg(test)]
pub(crate) mod test_support;

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
