//! Offline alignment of a whole recording to a score, as rows like the follower's reports.

use crate::align::cost::LocalCost;
use crate::align::evidence::{is_silent, MatchEvidence, Rivals, EVIDENCE_SURE};
use crate::align::multiscale::{self, MultiscaleConfig};
use crate::align::refine::{self, RefineConfig};
use crate::align::PathMap;
use crate::features::{frame_time, Features, FRAME_CENTRE_S};
use crate::position::{FollowState, Report};
use crate::reference::Reference;
use crate::score::Score;

/// Half-width, in frames, of the path stretch the local tempo is measured on (about 1 s).
const TEMPO_HALF_WINDOW: usize = 43;

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

/// Half-width, in frames, of the window evidence is averaged over for a row (1 s).
const EVIDENCE_HALF_WINDOW: usize = 43;
/// Rows whose confidence is below this are `uncertain`: within a second they match their score
/// frame little better (0.1) than the piece's typical frame.
const UNSURE_BELOW: f32 = 0.2;
/// A recording whose match quality is below this is apparently not this piece: the middle of
/// the gap on every 10th train case (46 recordings on TimGM6mb without a room), whose recordings
/// of their own piece had 0.51–0.87 and another piece aligned to their score 0.08–0.35
/// (BENCHMARKS.md, "Does `align` say when a recording is not the piece?").
const MATCH_QUALITY_WARNING: f32 = 0.43;

/// An offline alignment: a row per recording frame, and how well the recording matches the
/// score as a whole.
pub struct Alignment {
    pub rows: Vec<Report>,
    /// The share of the recording's sounding frames that are nearer their aligned score frame
    /// than to anything that is not the piece: its typical frame, or the same place a semitone
    /// up or down. Another piece's frames are nearer than that at the places the path picks for
    /// them only now and then (a quarter to a third of them); a recording of the piece, in most.
    /// `None` for a recording with no sound in it: there is nothing to weigh.
    pub match_quality: Option<f32>,
    /// Score time to performance time: the path's, with each onset moved to its attack.
    map: PathMap,
}

/// Where one note of the score was played: its onset and end in the recording, and whether the
/// alignment is sure of the place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignedNote {
    pub perf_onset_s: f64,
    pub perf_offset_s: f64,
    pub state: FollowState,
}

impl Alignment {
    /// Performance time at `score_time_s`, interpolated along the path.
    pub fn perf_time_at(&self, score_time_s: f64) -> f64 {
        self.map.perf_time_at(score_time_s)
    }

    /// One per note of `score` (the score aligned), in its played order.
    pub fn notes(&self, score: &Score) -> Vec<AlignedNote> {
        score
            .notes
            .iter()
            .map(|n| {
                let row = self
                    .rows
                    .partition_point(|r| r.score_time_s < n.onset_s)
                    .min(self.rows.len().saturating_sub(1));
                AlignedNote {
                    perf_onset_s: self.perf_time_at(n.onset_s),
                    perf_offset_s: self.perf_time_at(n.offset_s),
                    state: self
                        .rows
                        .get(row)
                        .map_or(FollowState::Uncertain, |r| r.state),
                }
            })
            .collect()
    }

    /// A warning when the recording is apparently not this piece.
    pub fn mismatch(&self) -> Option<String> {
        let quality = not_the_piece(self.match_quality)?;
        Some(format!(
            "the recording matches the score poorly as a whole (match quality {quality:.2}, the \
             share of its sounding frames nearer their place in the score than to the piece's \
             typical sound or the place a semitone away: about 0.5–0.9 for recordings of their \
             piece, 0.1–0.35 for another piece): is it this piece? All its rows are marked \
             uncertain"
        ))
    }
}

/// The match quality, when it says the recording is apparently not this piece.
fn not_the_piece(match_quality: Option<f32>) -> Option<f32> {
    match_quality.filter(|&q| q < MATCH_QUALITY_WARNING)
}

/// Per step of `path`: the [`MatchEvidence`] for the recording's frame at its aligned place,
/// against each kind of rival ([`MatchEvidence::of_each`]).
fn evidence(
    reference: &Reference,
    perf: &Features,
    path: &[(usize, usize)],
    cost: &dyn LocalCost,
) -> Vec<(f32, f32)> {
    let mut evidence = MatchEvidence::new(reference.features.len(), Rivals::Typical);
    path.iter()
        .map(|&(i, j)| evidence.of_each(perf.frame(i), &reference.features, j, 0, cost))
        .collect()
}

/// [`Alignment::match_quality`] from each step's evidence against the typical frame or the place
/// a semitone away. A share, not a mean or a median: the sparse opening of the Chopin ballade
/// op. 38 lies close to its own transposition, so its evidence is small, but small evidence above
/// 0 still counts, and another piece's is above 0 in few places.
fn match_quality(against_transposed: impl Iterator<Item = f32>, sounding: &[bool]) -> Option<f32> {
    let (mut nearer, mut heard) = (0usize, 0usize);
    for (e, _) in against_transposed.zip(sounding).filter(|(_, &s)| s) {
        heard += 1;
        nearer += usize::from(e > 0.0);
    }
    (heard > 0).then(|| nearer as f32 / heard as f32)
}

/// Each step's confidence: its evidence averaged over the sounding frames within a second either
/// side, scaled so that a recording of the piece is near 1. Silence matched to a rest or to the
/// silence around the piece says nothing of whether the recording is the piece, so a step with
/// no sound within a second has confidence 0.
fn confidences(evidence: &[f32], sounding: &[bool]) -> Vec<f32> {
    let mut prefix = vec![(0f64, 0usize); evidence.len() + 1];
    for (k, (e, &s)) in evidence.iter().zip(sounding).enumerate() {
        let (sum, count) = prefix[k];
        prefix[k + 1] = if s {
            (sum + f64::from(*e), count + 1)
        } else {
            (sum, count)
        };
    }
    (0..evidence.len())
        .map(|k| {
            let (a, b) = (
                k.saturating_sub(EVIDENCE_HALF_WINDOW),
                (k + EVIDENCE_HALF_WINDOW + 1).min(evidence.len()),
            );
            let count = prefix[b].1 - prefix[a].1;
            if count == 0 {
                return 0.0;
            }
            let mean = ((prefix[b].0 - prefix[a].0) / count as f64) as f32;
            (mean / EVIDENCE_SURE).clamp(0.0, 1.0)
        })
        .collect()
}

/// Aligns the performance to the reference: one row per step of the DTW path (at the frames'
/// resolution), and the score's onsets refined on `audio` (the performance at the internal rate,
/// whose features `perf` are) to their attacks, if `refine` is given.
pub fn align(
    reference: &Reference,
    perf: &Features,
    audio: &[f32],
    cost: &dyn LocalCost,
    refine: Option<RefineConfig>,
) -> Alignment {
    let path = multiscale::align(perf, &reference.features, cost, MultiscaleConfig::default());
    let score = &reference.score;
    // The refinement reads the recording's audio, the evidence its frames: both only the path,
    // so they are worked out at once.
    let (evidence, map) = std::thread::scope(|s| {
        let map = s.spawn(|| match refine {
            Some(config) => refine::refine(&PathMap::new(&path), score, audio, config),
            None => PathMap::new(&path),
        });
        let evidence = evidence(reference, perf, &path, cost);
        let map = map.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (evidence, map)
    });
    let sounding: Vec<bool> = path
        .iter()
        .map(|&(i, _)| !is_silent(perf.frame(i)))
        .collect();
    let match_quality = match_quality(evidence.iter().map(|e| e.1), &sounding);
    let mut confidence = confidences(&evidence.iter().map(|e| e.0).collect::<Vec<_>>(), &sounding);
    if not_the_piece(match_quality).is_some() {
        // No place in a piece the recording apparently is not is sure.
        confidence.fill(0.0);
    }
    let rows = (0..path.len())
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
            let state = if confidence[k] < UNSURE_BELOW {
                FollowState::Uncertain
            } else {
                FollowState::Following
            };
            // Both frames' sound lies at the centre of their windows (`PathMap::perf_time_at`).
            Report::at(
                score,
                (frame_time(i) - FRAME_CENTRE_S).max(0.0),
                (reference.score_time(j) - FRAME_CENTRE_S).max(0.0),
                tempo_ratio,
                confidence[k],
                state,
            )
        })
        .collect();
    Alignment {
        rows,
        match_quality,
        map,
    }
}

#[cfg(test)]
mod match_quality_tests {
    use super::match_quality;

    #[test]
    fn the_match_quality_is_the_share_of_sounding_frames_nearer_their_place() {
        let evidence = [0.3, -0.1, 0.2, 0.0, 5.0];
        let sounding = [true, true, true, true, false];
        assert_eq!(match_quality(evidence.into_iter(), &sounding), Some(0.5));
        assert_eq!(
            match_quality(evidence.into_iter(), &[false; 5]),
            None,
            "silence"
        );
    }
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
