//! Seed 001's measure of the dual-stack localiser on benchmark cases: for snippets of the rendered
//! performance, how often the most probable frame of a 12 s reference window is the true one
//! (exact model frame, within one, within 250 ms). The window is placed at random around the
//! truth, as in training.

use std::sync::Arc;

use super::cases::Case;
use super::metrics::truth_score_at;
use super::run::{render_performance, EvalConfig, EvalError};
use crate::features::semitone::BANDS;
use crate::features::{self, frame_at, frame_time, Features, HOP_S, SAMPLE_RATE};
use crate::locate::dual_stack::{
    most_probable, DualStack, Output, MODEL_FRAMES, MODEL_FRAME_S, POOL, SNIPPET_FRAMES,
    WINDOW_FRAMES,
};
use crate::reference::Reference;
use crate::rng::Rng;
use crate::score::Score;

/// Seconds of performance between snippets.
const SNIPPET_EVERY_S: f64 = 1.0;
/// Windows per model call.
const BATCH: usize = 16;

/// Hits per bucket over some snippets.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Buckets {
    pub snippets: usize,
    pub exact: usize,
    pub within_one: usize,
    pub within_250ms: usize,
}

impl Buckets {
    pub fn add(&mut self, other: Buckets) {
        self.snippets += other.snippets;
        self.exact += other.exact;
        self.within_one += other.within_one;
        self.within_250ms += other.within_250ms;
    }

    /// Shares of the snippets: exact, within one model frame, within 250 ms.
    pub fn shares(&self) -> [f64; 3] {
        let n = self.snippets.max(1) as f64;
        [self.exact, self.within_one, self.within_250ms].map(|h| h as f64 / n)
    }

    fn count(&mut self, predicted: usize, truth: usize) {
        let error = predicted.abs_diff(truth);
        self.snippets += 1;
        self.exact += usize::from(error == 0);
        self.within_one += usize::from(error <= 1);
        self.within_250ms += usize::from(error as f64 * MODEL_FRAME_S <= 0.25 + 1e-9);
    }
}

/// The buckets of one case: a snippet every second of its performance where the truth says
/// where it is.
pub fn localise_case(
    case: &Case,
    cfg: &EvalConfig,
    localiser: &mut DualStack,
) -> Result<Buckets, EvalError> {
    let score = Score::load(&case.score)?;
    let reference = Arc::new(Reference::render(score, &cfg.reference_font)?);
    let (audio, _) = render_performance(case, cfg)?;
    let (_, bands) = features::extract_with_semitones(&audio, SAMPLE_RATE);
    let live = Features::from_rows(BANDS, bands);
    let mut rng = Rng::from_name(&format!("{} localiser", case.id));
    let (first, last) = (case.truth[0].1, case.truth[case.truth.len() - 1].1);
    let mut windows = Vec::new();
    let mut t = first;
    while t <= last {
        // As `segno dataset` labels training frames.
        let k = frame_at(t);
        let m = (truth_score_at(&case.truth, frame_time(k)) / HOP_S).round() as isize;
        if k + 1 >= SNIPPET_FRAMES && k < live.len() {
            let at = (rng.next_u64() % WINDOW_FRAMES as u64) as isize;
            windows.push((k, m - at, at as usize / POOL));
        }
        t += SNIPPET_EVERY_S;
    }
    let mut buckets = Buckets::default();
    for chunk in windows.chunks(BATCH) {
        let starts: Vec<isize> = chunk.iter().map(|w| w.1).collect();
        let snippets: Vec<f32> = chunk
            .iter()
            .flat_map(|&(k, _, _)| {
                live.data[(k + 1 - SNIPPET_FRAMES) * BANDS..(k + 1) * BANDS]
                    .iter()
                    .copied()
            })
            .collect();
        let p = localiser.windows(
            &reference.semitones,
            &starts,
            &snippets,
            Output::Probabilities,
        )?;
        for (window, w) in p.chunks(MODEL_FRAMES).zip(chunk) {
            buckets.count(most_probable(window), w.2);
        }
    }
    Ok(buckets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_count_model_frames_and_milliseconds() {
        let mut b = Buckets::default();
        b.count(10, 10);
        b.count(11, 10);
        b.count(15, 10); // 5 model frames: 232 ms
        b.count(16, 10); // 279 ms
        assert_eq!(
            b,
            Buckets {
                snippets: 4,
                exact: 1,
                within_one: 2,
                within_250ms: 3
            }
        );
        assert_eq!(b.shares(), [0.25, 0.5, 0.75]);
    }
}
