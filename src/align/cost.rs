//! Local cost between a performance frame and a reference frame.

use crate::features::CHROMA_DIM;

/// The distance DTW and OLTW minimise. Implementations must be cheap: the online follower calls
/// this a few hundred times per frame.
pub trait LocalCost: Sync {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32;
}

/// Classical features: Euclidean distance of the (normalised) chroma plus a weighted Euclidean
/// distance of the (normalised) onset feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassicalCost {
    pub onset_weight: f32,
}

impl Default for ClassicalCost {
    fn default() -> Self {
        Self { onset_weight: std::env::var("SEGNO_OW").ok().and_then(|v| v.parse().ok()).unwrap_or(0.5) }
    }
}

fn euclidean(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
}

impl LocalCost for ClassicalCost {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32 {
        let (pc, po) = perf.split_at(CHROMA_DIM);
        let (rc, ro) = reference.split_at(CHROMA_DIM);
        euclidean(pc, rc) + self.onset_weight * euclidean(po, ro)
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

/// Chroma only: the plain "DTW on chroma" baseline of seed 000's Table II.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChromaCost;

impl LocalCost for ChromaCost {
    fn distance(&self, perf: &[f32], reference: &[f32]) -> f32 {
        euclidean(&perf[..CHROMA_DIM], &reference[..CHROMA_DIM])
    }
}
