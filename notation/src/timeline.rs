//! Segno's played timeline (repeats expanded) on the engraved page. A played measure shows the
//! written measure it plays, so the second pass of a repeat lights the same measure again. Written
//! measures are paired with engraved ones by their printed numbers, in order, and each note by its
//! pitch and written time in the measure (Verovio's timemap); how much of the score found its
//! place is reported in [`Matching`].

use std::sync::Arc;

use segno::score::Score;

use crate::engrave::{Engraving, Rect};

/// Written onsets closer than this (quarter notes) are the same onset.
const SAME_ONSET_Q: f64 = 1e-3;
/// A grace note has no written time of its own: it pairs with the nearest head of its pitch.
const GRACE_REACH_Q: f64 = 1.0;

/// How much of the score found its place on the page.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Matching {
    /// Score notes (first passes) and those paired with an engraved head.
    pub notes: usize,
    pub matched: usize,
    /// Written measures and those paired with an engraved measure.
    pub measures: usize,
    pub measures_paired: usize,
}

impl Matching {
    pub fn note_share(&self) -> f64 {
        self.matched as f64 / self.notes.max(1) as f64
    }
}

/// Where the pianist is, on the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    /// Index into [`Score::measures`] (the played timeline).
    pub played_measure: usize,
    /// Index into [`Engraving::measures`].
    pub measure: usize,
    pub system: usize,
    pub page: usize,
    /// The cursor's x on the page, moving through the measure with the music.
    pub cursor_x: f32,
    /// 1 for the first time this written measure is played, 2 for a repeat's second pass…
    pub pass: usize,
}

#[derive(Debug, Clone)]
pub struct Timeline {
    score: Arc<Score>,
    /// Engraved measure of each played measure.
    measure_of: Vec<Option<usize>>,
    /// Engraved note of each score note.
    note_of: Vec<Option<usize>>,
    /// Score notes by played measure.
    notes_in: Vec<Vec<usize>>,
    /// Per played measure: (time, x) the cursor passes through, from the barline to the next.
    anchors: Vec<Vec<(f64, f32)>>,
    /// Per played measure: the first played measure of its run through the written order
    /// (a repeat or a jump starts a new run).
    run_start: Vec<usize>,
    pass: Vec<usize>,
    pub matching: Matching,
}

impl Timeline {
    pub fn new(score: Arc<Score>, engraving: &Engraving) -> Self {
        let written = written_to_engraved(&score, engraving);
        let measure_of: Vec<Option<usize>> = score
            .measures
            .iter()
            .map(|m| written.get(m.written_index).copied().flatten())
            .collect();
        let mut notes_in = vec![Vec::new(); score.measures.len()];
        for (i, n) in score.notes.iter().enumerate() {
            if let Some(list) = notes_in.get_mut(n.measure) {
                list.push(i);
            }
        }
        let (note_of, matching) = pair_notes(&score, engraving, &measure_of, &notes_in, &written);
        let mut timeline = Self {
            measure_of,
            note_of,
            notes_in,
            anchors: Vec::new(),
            run_start: run_starts(&score),
            pass: passes(&score),
            matching,
            score,
        };
        timeline.anchors = timeline.cursor_anchors(engraving);
        timeline
    }

    pub fn score(&self) -> &Arc<Score> {
        &self.score
    }

    /// Where score time `t` (seconds) is on the page; `None` before the first or after the last
    /// measure, or in a measure the engraving lacks.
    pub fn place(&self, engraving: &Engraving, t: f64) -> Option<Place> {
        let played = self.score.position_at(t).measure_index?;
        let measure = self.measure_of[played]?;
        let system = engraving.measures[measure].system;
        Some(Place {
            played_measure: played,
            measure,
            system,
            page: engraving.systems[system].page,
            cursor_x: interpolate(&self.anchors[played], t),
            pass: self.pass[played],
        })
    }

    /// Engraved notes sounding at `t`.
    pub fn sounding(&self, place: &Place, t: f64) -> impl Iterator<Item = usize> + '_ {
        // A note held over the barline sounds in the next measure.
        let from = place.played_measure.saturating_sub(1);
        self.engraved_notes(from..=place.played_measure, move |onset, offset| {
            onset <= t && t < offset
        })
    }

    /// Engraved notes already played in this run through the written order (in a repeat's second
    /// pass, only those played again).
    pub fn played(&self, place: &Place, t: f64) -> impl Iterator<Item = usize> + '_ {
        let run = self.run_start[place.played_measure]..=place.played_measure;
        self.engraved_notes(run, move |onset, _| onset <= t)
    }

    fn engraved_notes(
        &self,
        played: std::ops::RangeInclusive<usize>,
        keep: impl Fn(f64, f64) -> bool + 'static,
    ) -> impl Iterator<Item = usize> + '_ {
        self.notes_in[played]
            .iter()
            .flatten()
            .filter(move |&&i| keep(self.score.notes[i].onset_s, self.score.notes[i].offset_s))
            .filter_map(|&i| self.note_of[i])
    }

    fn cursor_anchors(&self, engraving: &Engraving) -> Vec<Vec<(f64, f32)>> {
        let score = &self.score;
        score
            .measures
            .iter()
            .enumerate()
            .map(|(p, m)| {
                let Some(e) = self.measure_of[p] else {
                    return Vec::new();
                };
                let rect = engraving.measures[e].rect;
                let start = score.tempo.seconds_at(m.start_beat);
                let end = score.tempo.seconds_at(m.start_beat + m.length_beats);
                let mut heads: Vec<(f64, Rect)> = self.notes_in[p]
                    .iter()
                    .filter_map(|&i| {
                        let n = self.note_of[i]?;
                        Some((score.notes[i].onset_s, engraving.notes[n].rect))
                    })
                    .collect();
                heads.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut anchors = vec![(start, rect.x0)];
                for (t, r) in heads {
                    anchors.push((t, r.centre_x()));
                }
                anchors.push((end, rect.x1));
                // Never backwards within a measure (a chord's heads are side by side).
                let mut x = rect.x0;
                for a in &mut anchors {
                    x = a.1.clamp(x, rect.x1);
                    a.1 = x;
                }
                anchors
            })
            .collect()
    }
}

/// Piecewise linear through the anchors; held at the ends.
fn interpolate(anchors: &[(f64, f32)], t: f64) -> f32 {
    let Some(first) = anchors.first() else {
        return 0.0;
    };
    let after = anchors.partition_point(|a| a.0 <= t);
    if after == 0 {
        return first.1;
    }
    let a = anchors[after - 1];
    let Some(&b) = anchors.get(after) else {
        return a.1;
    };
    let f = if b.0 > a.0 {
        ((t - a.0) / (b.0 - a.0)) as f32
    } else {
        0.0
    };
    a.1 + (b.1 - a.1) * f
}

/// Engraved measure of each written measure: the next engraved measure with its printed number,
/// looking a few ahead (a measure Verovio split, or one Segno skipped, is passed over). Where
/// Verovio gives no number, the next measure in order.
fn written_to_engraved(score: &Score, engraving: &Engraving) -> Vec<Option<usize>> {
    const LOOK_AHEAD: usize = 4;
    let mut numbers: Vec<Option<&str>> = Vec::new();
    for m in &score.measures {
        if numbers.len() <= m.written_index {
            numbers.resize(m.written_index + 1, None);
        }
        numbers[m.written_index].get_or_insert(m.number.as_str());
    }
    let mut next = 0;
    numbers
        .iter()
        .map(|number| {
            let number = (*number)?;
            let found = engraving.measures[next.min(engraving.measures.len())..]
                .iter()
                .take(LOOK_AHEAD)
                .position(|e| e.number == number || e.number.is_empty())?;
            next += found + 1;
            Some(next - 1)
        })
        .collect()
}

/// Pairs each score note with the engraved head of its written measure that has its pitch and
/// written time; every pass of a repeat pairs with the same head.
fn pair_notes(
    score: &Score,
    engraving: &Engraving,
    measure_of: &[Option<usize>],
    notes_in: &[Vec<usize>],
    written: &[Option<usize>],
) -> (Vec<Option<usize>>, Matching) {
    let mut heads_in = vec![Vec::new(); engraving.measures.len()];
    for (i, n) in engraving.notes.iter().enumerate() {
        heads_in[n.measure].push(i);
    }
    let mut note_of = vec![None; score.notes.len()];
    let mut matching = Matching {
        measures: written.len(),
        measures_paired: written.iter().flatten().count(),
        ..Matching::default()
    };
    let mut first_pass_done = vec![false; written.len()];
    for (p, m) in score.measures.iter().enumerate() {
        let first_pass = !std::mem::replace(&mut first_pass_done[m.written_index], true);
        // The heads this measure's notes have taken (a measure holds a few dozen).
        let mut used: Vec<usize> = Vec::new();
        for &i in &notes_in[p] {
            let note = &score.notes[i];
            let head = measure_of[p].and_then(|e| {
                let q = note.onset_beats - m.start_beat;
                let reach = if note.grace {
                    GRACE_REACH_Q
                } else {
                    SAME_ONSET_Q
                };
                let best = heads_in[e]
                    .iter()
                    .copied()
                    .filter(|h| !used.contains(h) && engraving.notes[*h].pitch == note.pitch)
                    .map(|h| (h, (engraving.notes[h].beat_in_measure - q).abs()))
                    .filter(|(_, d)| *d <= reach)
                    .min_by(|a, b| a.1.total_cmp(&b.1))?;
                used.push(best.0);
                Some(best.0)
            });
            note_of[i] = head;
            if first_pass {
                matching.notes += 1;
                matching.matched += usize::from(head.is_some());
            }
        }
    }
    (note_of, matching)
}

fn run_starts(score: &Score) -> Vec<usize> {
    let mut starts = Vec::with_capacity(score.measures.len());
    for (i, m) in score.measures.iter().enumerate() {
        let continues = i > 0 && score.measures[i - 1].written_index < m.written_index;
        starts.push(if continues { starts[i - 1] } else { i });
    }
    starts
}

fn passes(score: &Score) -> Vec<usize> {
    let mut count = std::collections::HashMap::new();
    score
        .measures
        .iter()
        .map(|m| {
            let c = count.entry(m.written_index).or_insert(0);
            *c += 1;
            *c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_moves_through_anchors_and_holds_at_the_ends() {
        let anchors = [(1.0, 10.0), (2.0, 20.0), (4.0, 40.0)];
        assert_eq!(interpolate(&anchors, 0.0), 10.0);
        assert_eq!(interpolate(&anchors, 1.5), 15.0);
        assert_eq!(interpolate(&anchors, 3.0), 30.0);
        assert_eq!(interpolate(&anchors, 9.0), 40.0);
        assert_eq!(interpolate(&[], 1.0), 0.0);
    }
}
