//! Offline alignment with multiscale DTW (as in MATCH / synctoolbox's MrMsDTW): align coarse
//! versions of both sequences, then refine at each finer scale only in a band around the
//! projected coarse path. Memory and time grow linearly with the length of the piece.

use super::cost::LocalCost;
use super::dtw::{dtw_banded, full_band, Band};
use super::Path;
use crate::features::Features;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultiscaleConfig {
    /// Largest `n · m` solved in one full matrix (one byte per cell for the path).
    pub max_full_cells: usize,
    /// Time-scale factor between levels.
    pub factor: usize,
    /// Extra frames around the projected path at each level.
    pub radius: usize,
}

impl Default for MultiscaleConfig {
    fn default() -> Self {
        Self {
            max_full_cells: 4_000_000,
            factor: 4,
            radius: 16,
        }
    }
}

/// Aligns a performance to the reference; the path runs from (0, 0) to the last frames of both.
///
/// The reference is first stretched to the performance's length. With the symmetric step
/// pattern every step costs the same, so DTW prefers diagonal steps; when the performance is much
/// slower or faster than the score's tempo (3.6× slower in the benchmark), the true path is far from
/// diagonal and that preference pulls the path off it. After the stretch the expected slope is 1.
pub fn align(
    perf: &Features,
    reference: &Features,
    cost: &dyn LocalCost,
    cfg: MultiscaleConfig,
) -> Path {
    let (n, m) = (perf.len(), reference.len());
    assert!(n > 0 && m > 0, "both sequences need frames");
    let stretched = Frames::Stretched { reference, len: n };
    let mut path: Path = align_scaled(perf, &stretched, cost, cfg)
        .into_iter()
        .map(|(i, j)| (i, stretched.source(j)))
        .collect();
    path.dedup();
    path
}

/// The reference as the alignment sees it. The stretched one is never stored whole: for a long
/// recording it would be one more copy of the recording's features.
enum Frames<'a> {
    Stored(&'a Features),
    /// `reference` stretched to `len` frames, frame `j` being `reference`'s frame
    /// [`Frames::source`]`(j)`.
    Stretched {
        reference: &'a Features,
        len: usize,
    },
}

impl Frames<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Stored(f) => f.len(),
            Self::Stretched { len, .. } => *len,
        }
    }

    fn source(&self, j: usize) -> usize {
        match self {
            Self::Stored(_) => j,
            Self::Stretched { reference, len } => j * reference.len() / len,
        }
    }

    fn frame(&self, j: usize) -> &[f32] {
        match self {
            Self::Stored(f) => f.frame(j),
            Self::Stretched { reference, .. } => reference.frame(self.source(j)),
        }
    }

    fn downsample(&self, factor: usize) -> Features {
        match self {
            Self::Stored(f) => f.downsample(factor),
            Self::Stretched { reference, len } => {
                Features::averaged(reference.dim, *len, factor, |j| self.frame(j))
            }
        }
    }
}

fn align_scaled(
    perf: &Features,
    reference: &Frames<'_>,
    cost: &dyn LocalCost,
    cfg: MultiscaleConfig,
) -> Path {
    let (n, m) = (perf.len(), reference.len());
    assert!(n > 0 && m > 0, "both sequences need frames");
    let band =
        if n.saturating_mul(m) <= cfg.max_full_cells || n < 2 * cfg.factor || m < 2 * cfg.factor {
            full_band(n, m)
        } else {
            let coarse = align_scaled(
                &perf.downsample(cfg.factor),
                &Frames::Stored(&reference.downsample(cfg.factor)),
                cost,
                cfg,
            );
            project(&coarse, cfg.factor, n, m, cfg.radius)
        };
    dtw_banded(&band, m, |i, j| {
        cost.distance(perf.frame(i), reference.frame(j))
    })
    .0
}

/// The fine-scale band around a coarse path, widened by `radius` in both directions.
fn project(coarse: &Path, factor: usize, n: usize, m: usize, radius: usize) -> Band {
    let mut band: Band = vec![(usize::MAX, 0); n];
    for &(ci, cj) in coarse {
        let (j0, j1) = ((cj * factor).min(m), ((cj + 1) * factor).min(m));
        let rows = (ci * factor).saturating_sub(radius)..((ci + 1) * factor + radius).min(n);
        for b in &mut band[rows] {
            *b = (
                b.0.min(j0.saturating_sub(radius)),
                b.1.max((j1 + radius).min(m)),
            );
        }
    }
    // Monotone edges and overlapping rows keep every cell of the band reachable.
    band[0].0 = 0;
    band[n - 1].1 = m;
    for i in 1..n {
        band[i].1 = band[i].1.max(band[i - 1].1);
    }
    for i in (0..n - 1).rev() {
        band[i].0 = band[i].0.min(band[i + 1].0);
    }
    for i in 1..n {
        band[i].0 = band[i].0.min(band[i - 1].1.saturating_sub(1));
    }
    band
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::cost::EuclideanCost;
    use crate::align::test_support::{at, features, trajectory};

    #[test]
    fn multiscale_matches_full_dtw_on_a_smooth_warp() {
        let traj = trajectory(3000);
        let reference = features(traj.iter().map(|v| v.to_vec()));
        // performance: tempo drifts from 0.8x to 1.3x of the reference
        let warp: Vec<f32> = (0..4000)
            .scan(0.0f32, |r, k| {
                *r += 0.8 + 0.5 * k as f32 / 3000.0;
                Some(*r)
            })
            .take_while(|r| *r < 2999.0)
            .collect();
        let perf = features(warp.iter().map(|&r| at(&traj, r)));
        let full = align(
            &perf,
            &reference,
            &EuclideanCost,
            MultiscaleConfig {
                max_full_cells: usize::MAX,
                ..Default::default()
            },
        );
        let ms = align(
            &perf,
            &reference,
            &EuclideanCost,
            MultiscaleConfig {
                max_full_cells: 50_000,
                ..Default::default()
            },
        );
        assert_eq!(full, ms);
        // and it follows the known warp within a frame
        for &(i, j) in ms.iter().step_by(50) {
            assert!(
                (j as f32 - warp[i]).abs() <= 1.5,
                "perf {i}: ref {j} vs {}",
                warp[i]
            );
        }
    }

    #[test]
    fn a_performance_much_slower_than_the_score_is_aligned() {
        let traj = trajectory(600);
        let reference = features(traj.iter().map(|v| v.to_vec()));
        let warp: Vec<f32> = (0..2100).map(|k| k as f32 / 3.5).collect();
        let perf = features(warp.iter().map(|&r| at(&traj, r)));
        let path = align(
            &perf,
            &reference,
            &EuclideanCost,
            MultiscaleConfig {
                max_full_cells: 100_000,
                ..Default::default()
            },
        );
        for &(i, j) in path.iter().step_by(37) {
            assert!(
                (j as f32 - warp[i]).abs() <= 1.5,
                "perf {i}: ref {j} vs {}",
                warp[i]
            );
        }
    }
}
