//! Offline alignment of a whole recording to a score, as rows like the follower's reports.

use crate::align::cost::LocalCost;
use crate::align::multiscale::{self, MultiscaleConfig};
use crate::features::{frame_time, Features};
use crate::position::{FollowState, Report};
use crate::reference::Reference;

/// Half-width, in frames, of the path stretch the local tempo is measured on (about 1 s).
const TEMPO_HALF_WINDOW: usize = 43;

/// Aligns the performance features to the reference; one row per path step.
pub fn align(reference: &Reference, perf: &Features, cost: &dyn LocalCost) -> Vec<Report> {
    let path = multiscale::align(perf, &reference.features, cost, MultiscaleConfig::default());
    let score = &reference.score;
    (0..path.len())
        .map(|k| {
            let (i, j) = path[k];
            let (a, b) = (
                path[k.saturating_sub(TEMPO_HALF_WINDOW)],
                path[(k + TEMPO_HALF_WINDOW).min(path.len() - 1)],
            );
            let tempo_ratio = if b.0 > a.0 {
                (b.1 - a.1) as f64 / (b.0 - a.0) as f64
            } else {
                1.0
            };
            let d = cost.distance(perf.frame(i), reference.features.frame(j));
            Report::at(
                score,
                frame_time(i),
                reference.score_time(j),
                tempo_ratio,
                (1.0 - d / 2.0).clamp(0.0, 1.0),
                FollowState::Following,
            )
        })
        .collect()
}
