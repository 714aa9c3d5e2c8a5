//! Note-level anchors for training labels: ASAP's truth is one row per beat, and the benchmark
//! says "between rows nothing is claimed" — reading it as linear between beats puts every frame
//! between two beats tens of milliseconds off for any rubato. The performance MIDI says when each
//! note was played, so each score onset is matched to the performed notes of the same pitches
//! near where the beat truth places it, and the onsets become anchors.
//!
//! Used only to label training frames (`segno dataset`); the benchmark is scored on its own truth.

use std::collections::HashMap;

use crate::eval::metrics::truth_perf_at;
use crate::score::midi::ChannelEvent;
use crate::score::Note;

/// How far from the beat truth's estimate a performed note may lie to be taken as the score
/// note's: wider than ASAP's beat annotation error, narrower than a sixteenth at most tempi.
pub const SEARCH_S: f64 = 0.15;

/// `(score_time_s, perf_time_s)` anchors, both strictly increasing: for each distinct score onset
/// inside the truth's span with at least one matched pitch, the earliest matched performed onset
/// (the benchmark's note-truth convention). Matches that would run backwards are dropped (the
/// longest increasing chain is kept).
pub fn note_anchors(
    notes: &[Note],
    performance: &[ChannelEvent],
    truth: &[(f64, f64)],
) -> Vec<(f64, f64)> {
    let (Some(first), Some(last)) = (truth.first(), truth.last()) else {
        return Vec::new();
    };
    let mut played: HashMap<u8, Vec<(f64, bool)>> = HashMap::new();
    for e in performance
        .iter()
        .filter(|e| e.command == 0x90 && e.data2 > 0)
    {
        played.entry(e.data1).or_default().push((e.time_s, false));
    }
    let mut onsets: Vec<(f64, Vec<u8>)> = Vec::new();
    let mut sorted: Vec<&Note> = notes
        .iter()
        .filter(|n| (first.0..=last.0).contains(&n.onset_s))
        .collect();
    sorted.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    for n in sorted {
        match onsets.last_mut() {
            Some((t, pitches)) if (n.onset_s - *t).abs() < 1e-3 => pitches.push(n.pitch),
            _ => onsets.push((n.onset_s, vec![n.pitch])),
        }
    }
    let mut anchors = Vec::new();
    for (score_t, pitches) in onsets {
        let expected = truth_perf_at(truth, score_t);
        let matched = pitches
            .iter()
            .filter_map(|p| take_nearest(played.get_mut(p)?, expected))
            .min_by(f64::total_cmp);
        if let Some(perf_t) = matched {
            anchors.push((score_t, perf_t));
        }
    }
    longest_increasing(&anchors)
}

/// The unused performed onset nearest `expected` within [`SEARCH_S`], marked used.
fn take_nearest(onsets: &mut [(f64, bool)], expected: f64) -> Option<f64> {
    let best = onsets
        .iter_mut()
        .filter(|(t, used)| !used && (t - expected).abs() <= SEARCH_S)
        .min_by(|a, b| (a.0 - expected).abs().total_cmp(&(b.0 - expected).abs()))?;
    best.1 = true;
    Some(best.0)
}

/// The longest subsequence (score order) whose performance times strictly increase.
fn longest_increasing(anchors: &[(f64, f64)]) -> Vec<(f64, f64)> {
    // Patience sorting: tails[k] ends the best chain of length k + 1 found so far.
    let mut tails: Vec<usize> = Vec::new();
    let mut previous = vec![usize::MAX; anchors.len()];
    for (i, a) in anchors.iter().enumerate() {
        let k = tails.partition_point(|&j| anchors[j].1 < a.1);
        if k > 0 {
            previous[i] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut chain = Vec::with_capacity(tails.len());
    let mut i = tails.last().copied().unwrap_or(usize::MAX);
    while i != usize::MAX {
        chain.push(anchors[i]);
        i = previous[i];
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(pitch: u8, onset_s: f64) -> Note {
        Note {
            pitch,
            velocity: 64,
            onset_beats: onset_s * 2.0,
            duration_beats: 1.0,
            onset_s,
            offset_s: onset_s + 0.5,
            staff: None,
            measure: 0,
            grace: false,
        }
    }

    fn on(time_s: f64, pitch: u8) -> ChannelEvent {
        ChannelEvent {
            time_s,
            channel: 0,
            command: 0x90,
            data1: pitch,
            data2: 80,
        }
    }

    #[test]
    fn onsets_between_beats_are_placed_where_they_were_played() {
        // Beats at score 0, 1, 2 s played at 10, 11, 12 s; the off-beat at score 0.5 is played
        // late (10.62 s, not the 10.5 s a linear reading of the beats says).
        let truth = [(0.0, 10.0), (1.0, 11.0), (2.0, 12.0)];
        let notes = [
            note(60, 0.0),
            note(64, 0.0),
            note(62, 0.5),
            note(64, 1.0),
            note(65, 2.0),
        ];
        let played = [
            on(10.01, 64),
            on(10.0, 60),
            on(10.62, 62),
            on(11.02, 64),
            on(11.99, 65),
        ];
        let a = note_anchors(&notes, &played, &truth);
        assert_eq!(
            a,
            vec![(0.0, 10.0), (0.5, 10.62), (1.0, 11.02), (2.0, 11.99)]
        );
    }

    #[test]
    fn wrong_notes_far_notes_and_backward_matches_are_left_out() {
        let truth = [(0.0, 0.0), (3.0, 3.0)];
        let notes = [note(60, 0.0), note(61, 1.0), note(62, 2.0), note(63, 2.5)];
        // 61 is missing, 62 was played 0.4 s late (beyond the search), 63 before the chord at 0.
        let played = [on(0.0, 60), on(2.4, 62), on(0.05, 63), on(2.52, 63)];
        let a = note_anchors(&notes, &played, &truth);
        assert_eq!(a, vec![(0.0, 0.0), (2.5, 2.52)]);
        // A match that runs backwards is dropped for the longer increasing chain.
        assert_eq!(
            longest_increasing(&[(0.0, 0.0), (1.0, 5.0), (2.0, 2.0), (3.0, 3.0)]),
            vec![(0.0, 0.0), (2.0, 2.0), (3.0, 3.0)]
        );
    }
}
