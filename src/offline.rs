//! Offline alignment of a whole recording to a score, as rows like the follower's reports.

use crate::align::cost::LocalCost;
use crate::align::multiscale::{self, MultiscaleConfig};
use crate::features::{frame_time, Features};
use crate::position::{FollowState, Report};
use crate::reference::Reference;

/// Half-width, in frames, of the path stretch the local tempo is measured on (about 1 s).
const TEMPO_HALF_WINDOW: usize = 43;

/// Aligns the performance features to the reference; one row per path step.
/// How far a recording's length may be from the score's (at its tempo marks) before `align`
/// warns: a pianist plays a piece at half or twice its marked tempo at the extremes, so beyond
/// that the recording is likely another piece, another movement, or has much else in it.
const LENGTH_RATIO_WARNING: f64 = 2.5;

/// A warning when the recording is much longer or shorter than the score.
pub fn length_mismatch(recording_s: f64, score_s: f64) -> Option<String> {
    let ratio = recording_s / score_s.max(1e-3);
    let (longer, factor) = if ratio >= 1.0 {
        ("longer", ratio)
    } else {
        ("shorter", 1.0 / ratio.max(1e-9))
    };
    (factor > LENGTH_RATIO_WARNING).then(|| {
        format!(
            "the recording ({recording_s:.0} s) is {factor:.1}× {longer} than the score at its tempo \
             marks ({score_s:.0} s): is it the right piece and the whole of it? The alignment \
             stretches it over the score all the same"
        )
    })
}

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

#[cfg(test)]
mod length_tests {
    use super::length_mismatch;

    #[test]
    fn lengths_far_from_the_score_are_warned_of() {
        assert_eq!(length_mismatch(100.0, 60.0), None);
        assert_eq!(length_mismatch(30.0, 60.0), None);
        let long = length_mismatch(7200.0, 60.0).unwrap();
        assert!(long.contains("120.0× longer"), "{long}");
        let short = length_mismatch(10.0, 60.0).unwrap();
        assert!(short.contains("6.0× shorter"), "{short}");
    }
}
