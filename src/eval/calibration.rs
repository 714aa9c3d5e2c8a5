//! Does `following` mean what it says? The follower's state measured on a case's own
//! performance (how often `following` is within [`ON_TARGET_S`] of the truth) and on audio that
//! is not the piece at all: white noise, a sine tone, and another piece played against the score
//! (how often it claims `following` there).

use std::fmt;
use std::sync::Arc;

use super::cases::{pieces, Case, CaseError};
use super::metrics::truth_score_at;
use super::practice::ON_TARGET_S;
use super::run::{follow, render_performance, EvalConfig, EvalError};
use crate::features::SAMPLE_RATE;
use crate::position::{FollowState, Report};
use crate::rng::Rng;
use crate::score::Score;

/// Length of each piece of unrelated audio, and the most of another piece that is played.
pub const UNRELATED_S: f64 = 60.0;

/// Audio that is not the score's piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unrelated {
    /// White noise at −20 dBFS RMS.
    Noise,
    /// A steady 392 Hz sine (the G above middle C, a note of most pieces).
    Sine,
    /// Another dev piece's performance, rendered as the case's own.
    OtherPiece,
}

impl Unrelated {
    pub const ALL: [Self; 3] = [Self::Noise, Self::Sine, Self::OtherPiece];

    pub fn name(self) -> &'static str {
        match self {
            Self::Noise => "white noise",
            Self::Sine => "392 Hz sine",
            Self::OtherPiece => "another piece",
        }
    }
}

impl fmt::Display for Unrelated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Confidences at which `following` could begin: the calibration curve's points.
pub const SWEEP: [f32; 7] = [0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85];

/// Frame counts of one followed recording. Frames in `waiting` (nothing heard yet) are left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub frames: usize,
    pub following: usize,
    /// Frames said `lost` or `searching`: no position or beat goes out to an accompanist.
    pub given_up: usize,
    /// `following` frames within [`ON_TARGET_S`] of the truth (own performance only).
    pub following_on_target: usize,
    /// For each of [`SWEEP`]: the `following` frames whose confidence reaches it, and of those
    /// the ones within [`ON_TARGET_S`] (own performance only).
    pub swept: [(usize, usize); SWEEP.len()],
}

impl StateCounts {
    pub fn add(&mut self, other: Self) {
        self.frames += other.frames;
        self.following += other.following;
        self.given_up += other.given_up;
        self.following_on_target += other.following_on_target;
        for (a, b) in self.swept.iter_mut().zip(other.swept) {
            *a = (a.0 + b.0, a.1 + b.1);
        }
    }

    /// What `following` would be worth if it began at `SWEEP[k]`: (share of frames, share of
    /// those within [`ON_TARGET_S`]).
    pub fn at_sweep(&self, k: usize) -> (f64, f64) {
        let (following, on_target) = self.swept[k];
        (
            following as f64 / self.frames.max(1) as f64,
            on_target as f64 / following.max(1) as f64,
        )
    }

    fn count_swept(&mut self, confidence: f32, on_target: bool) {
        for (s, &at) in self.swept.iter_mut().zip(&SWEEP) {
            if confidence >= at {
                *s = (s.0 + 1, s.1 + usize::from(on_target));
            }
        }
    }

    /// Of the frames said `following`, the share within [`ON_TARGET_S`] of the truth.
    pub fn precision(&self) -> f64 {
        self.following_on_target as f64 / self.following.max(1) as f64
    }

    /// Of all frames, the share said `following`.
    pub fn following_share(&self) -> f64 {
        self.following as f64 / self.frames.max(1) as f64
    }

    /// Of all frames, the share said `lost` or `searching`.
    pub fn given_up_share(&self) -> f64 {
        self.given_up as f64 / self.frames.max(1) as f64
    }

    /// The reports of a performance of the piece, against its truth (`(score, perf)` rows); only
    /// frames inside the truth's span count.
    fn of_own(reports: &[Report], truth: &[(f64, f64)]) -> Self {
        let (Some(first), Some(last)) = (truth.first(), truth.last()) else {
            return Self::default();
        };
        let mut counts = Self::default();
        for r in reports.iter().filter(|r| r.state != FollowState::Waiting) {
            if r.perf_time_s < first.1 || r.perf_time_s > last.1 {
                continue;
            }
            counts.frames += 1;
            counts.given_up += usize::from(gives_up(r.state));
            if r.state == FollowState::Following {
                counts.following += 1;
                let error = r.score_time_s - truth_score_at(truth, r.perf_time_s);
                let on_target = error.abs() <= ON_TARGET_S;
                counts.following_on_target += usize::from(on_target);
                counts.count_swept(r.confidence, on_target);
            }
        }
        counts
    }

    /// The reports of audio that is not the piece: every `following` frame is false.
    fn of_unrelated(reports: &[Report]) -> Self {
        let mut counts = Self::default();
        for r in reports.iter().filter(|r| r.state != FollowState::Waiting) {
            counts.frames += 1;
            counts.given_up += usize::from(gives_up(r.state));
            if r.state == FollowState::Following {
                counts.following += 1;
                counts.count_swept(r.confidence, false);
            }
        }
        counts
    }
}

fn gives_up(state: FollowState) -> bool {
    matches!(state, FollowState::Lost | FollowState::Searching)
}

/// One case: its own performance, then each kind of unrelated audio against its score.
#[derive(Debug, Clone)]
pub struct CalibrationResult {
    pub id: String,
    pub own: StateCounts,
    pub unrelated: Vec<(Unrelated, StateCounts)>,
}

/// Follows `case`'s own performance and the unrelated audio against its score; `other` is a case
/// of another piece, whose performance is the "another piece" recording (left out without one).
pub fn run_calibration_case(
    case: &Case,
    other: Option<&Case>,
    cfg: &EvalConfig,
) -> Result<CalibrationResult, EvalError> {
    let score = Score::load(&case.score)?;
    let reference = Arc::new(cfg.similarity.reference(score, &cfg.reference_font)?);
    let (audio, _) = render_performance(case, cfg)?;
    let (reports, _) = follow(&reference, &audio, cfg)?;
    let own = StateCounts::of_own(&reports, &case.truth);
    let mut unrelated = Vec::with_capacity(Unrelated::ALL.len());
    for kind in Unrelated::ALL {
        let audio = match (kind, other) {
            (Unrelated::OtherPiece, None) => continue,
            (Unrelated::OtherPiece, Some(other)) => {
                let (mut audio, _) = render_performance(other, cfg)?;
                audio.truncate((UNRELATED_S * f64::from(SAMPLE_RATE)) as usize);
                audio
            }
            _ => synthetic_audio(kind, case),
        };
        let (reports, _) = follow(&reference, &audio, cfg)?;
        unrelated.push((kind, StateCounts::of_unrelated(&reports)));
    }
    Ok(CalibrationResult {
        id: case.id.clone(),
        own,
        unrelated,
    })
}

/// White noise or a sine, [`UNRELATED_S`] long.
fn synthetic_audio(kind: Unrelated, case: &Case) -> Vec<f32> {
    let n = (UNRELATED_S * f64::from(SAMPLE_RATE)) as usize;
    let mut rng = Rng::from_name(&format!("{} noise", case.id));
    (0..n)
        .map(|k| {
            let t = k as f64 / f64::from(SAMPLE_RATE);
            match kind {
                Unrelated::Sine => (0.3 * (std::f64::consts::TAU * 392.0 * t).sin()) as f32,
                _ => (0.1 * rng.normal()) as f32,
            }
        })
        .collect()
}

/// The case to play as "another piece" for each of `cases`: the next one (cyclically) whose score
/// differs, so that another performance of the same piece is never taken for an unrelated one;
/// `None` where every case is of the same piece.
pub fn other_pieces(cases: &[Case]) -> Result<Vec<Option<usize>>, CaseError> {
    let piece_of = pieces(cases)?;
    Ok((0..cases.len())
        .map(|k| {
            (1..cases.len())
                .map(|d| (k + d) % cases.len())
                .find(|&o| piece_of[o] != piece_of[k])
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(perf: f64, score: f64, state: FollowState) -> Report {
        Report {
            perf_time_s: perf,
            score_time_s: score,
            score_beat: 0.0,
            measure_index: 0,
            beat_in_measure: 0.0,
            tempo_ratio: 1.0,
            confidence: 1.0,
            state,
            relocated: false,
        }
    }

    #[test]
    fn own_counts_following_on_and_off_target_inside_the_truth() {
        let truth = [(0.0, 1.0), (10.0, 11.0)];
        let reports = [
            report(0.5, 0.0, FollowState::Following), // before the truth: left out
            report(2.0, 1.2, FollowState::Following), // on target
            report(3.0, 5.0, FollowState::Following), // 3 s off
            report(4.0, 3.0, FollowState::Uncertain),
            report(5.0, 0.0, FollowState::Waiting),
        ];
        let c = StateCounts::of_own(&reports, &truth);
        assert_eq!((c.frames, c.following, c.following_on_target), (3, 2, 1));
        assert_eq!(c.given_up, 0);
        assert_eq!(c.precision(), 0.5);
    }

    #[test]
    fn every_following_frame_of_unrelated_audio_is_false() {
        let reports = [
            report(0.0, 0.0, FollowState::Waiting),
            report(1.0, 0.0, FollowState::Following),
            report(2.0, 0.0, FollowState::Searching),
        ];
        let c = StateCounts::of_unrelated(&reports);
        assert_eq!((c.frames, c.following, c.given_up), (2, 1, 1));
        assert_eq!(c.following_share(), 0.5);
    }
}
