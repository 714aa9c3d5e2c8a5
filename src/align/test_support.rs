//! Synthetic feature sequences for the alignment tests.

use crate::features::Features;
use crate::rng::Rng;

/// A smooth random 8-d feature trajectory: no two places look alike, neighbours do.
pub fn trajectory(len: usize) -> Vec<[f32; 8]> {
    let mut rng = Rng::new(7);
    let mut v = [0f32; 8];
    (0..len)
        .map(|_| {
            v.iter_mut()
                .for_each(|x| *x = 0.9 * *x + 0.3 * rng.normal() as f32);
            v
        })
        .collect()
}

/// The trajectory read at fractional position `r` (linear interpolation).
pub fn at(traj: &[[f32; 8]], r: f32) -> Vec<f32> {
    let (i, f) = (r.floor() as usize, r - r.floor());
    (0..8)
        .map(|d| traj[i][d] * (1.0 - f) + traj[(i + 1).min(traj.len() - 1)][d] * f)
        .collect()
}

pub fn features(frames: impl IntoIterator<Item = Vec<f32>>) -> Features {
    let mut f = Features::new(8);
    frames.into_iter().for_each(|v| f.push(&v));
    f
}
