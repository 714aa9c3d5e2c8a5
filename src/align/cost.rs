//! Local cost between a performance frame and a reference frame.

use crate::features::{CHROMA_DIM, DIM};

/// How well a frame matches where it was placed, from 0 to 1: 1 where its cost is at most half the
/// mean cost over the search band (the cost of an unrelated frame), falling to 0 at that mean.
/// `None` where the band's mean is near zero (silence against silence), which says nothing.
pub fn match_quality(cost: f64, band_mean: f64) -> Option<f64> {
    (band_mean > 0.05).then(|| (2.0 * (1.0 - cost / band_mean)).clamp(0.0, 1.0))
}

/// The distance DTW and OLTW minimise. Implementations must be cheap: the online follower calls
/// this a few hundred times per frame.
pub trait LocalCost: Sync {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32;
}

/// Classical features: Euclidean distance of the (normalised) chroma plus a weighted distance of
/// the (normalised) onset feature.
///
/// The onset distance is asymmetric. An attack heard live where the reference has none is strong
/// evidence against that reference frame; an attack in the reference that the live frame lacks is
/// weak evidence, because pedal, reverb and soft playing hide real attacks (a repeated note under
/// the pedal barely rises) but never invent them. Weighting both alike biases the follower towards
/// slow tempi, which cross fewer reference attacks (measured in BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassicalCost {
    pub onset_weight: f32,
    /// Weight of reference onset energy missing from the live frame, relative to the opposite.
    pub missing_onset_weight: f32,
}

impl Default for ClassicalCost {
    fn default() -> Self {
        Self {
            onset_weight: 2.0,
            missing_onset_weight: 0.1,
        }
    }
}

impl ClassicalCost {
    /// For offline alignment, which sees the whole performance and has no drift to fear, the
    /// plain Euclidean onset distance aligns attacks a little more tightly (BENCHMARKS.md).
    pub const OFFLINE: Self = Self {
        onset_weight: 2.0,
        missing_onset_weight: 1.0,
    };
    /// Online time warping has no tempo model to hold it back: with the asymmetric onset distance
    /// it races through the reference's attacks. This is its best setting on the benchmark.
    pub const OLTW: Self = Self {
        onset_weight: 0.5,
        missing_onset_weight: 1.0,
    };
}

fn euclidean(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

impl LocalCost for ClassicalCost {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32 {
        // Frames may carry a learned embedding after the classical part: not ours to read.
        let (pc, po) = perf[..DIM].split_at(CHROMA_DIM);
        let (rc, ro) = reference[..DIM].split_at(CHROMA_DIM);
        let onset = po
            .iter()
            .zip(ro)
            .map(|(p, r)| {
                let d = p - r;
                if d < 0.0 {
                    self.missing_onset_weight * d * d
                } else {
                    d * d
                }
            })
            .sum::<f32>()
            .sqrt();
        euclidean(pc, rc) + self.onset_weight * onset
    }
}

/// Plain Euclidean distance of whole frames (chroma-only baselines, learned embeddings).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EuclideanCost;

impl LocalCost for EuclideanCost {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32 {
        euclidean(perf, reference)
    }
}

/// The learned similarity (seed 000): Euclidean distance of the embeddings that follow the
/// classical part of each frame ([`crate::nn::embed`]), the "distance matrix" variant; or, with
/// `binary`, seed 000's "binary matrix" variant: 0 for a pair the network calls matching
/// (distance below half the training margin), 1 otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LearnedCost {
    pub binary: bool,
}

/// The training margin of models/train (contrastive loss, eq. 1).
const LEARNED_MARGIN: f32 = 1.0;

impl LocalCost for LearnedCost {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32 {
        let d = euclidean(&perf[DIM..], &reference[DIM..]);
        if self.binary {
            f32::from(d >= LEARNED_MARGIN / 2.0)
        } else {
            d
        }
    }
}

/// The classical cost plus the learned distance: the network's view of pitch content added to the
/// hand-made features' onsets, which a patch of 8 frames learns poorly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HybridCost {
    pub classical: ClassicalCost,
    pub learned_weight: f32,
}

impl LocalCost for HybridCost {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32 {
        self.classical.distance(perf, reference)
            + self.learned_weight * LearnedCost::default().distance(perf, reference)
    }
}

/// Chroma only: the plain "DTW on chroma" baseline of seed 000's Table II.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChromaCost;

impl LocalCost for ChromaCost {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32 {
        euclidean(&perf[..CHROMA_DIM], &reference[..CHROMA_DIM])
    }
}
