//! The snippet descriptors piece identification compares: chroma energy normalised statistics
//! (CENS; Müller, Kurth & Clausen 2005, "Audio matching via chroma-based statistical features").
//! Each is the quantised chroma of about 2 s of music, smoothed with a Hann window and unit
//! length, one every 0.4 s: seed 002's snippets (2 s, hop about 0.5 s) with a classical
//! descriptor in place of its learned embedding.
//!
//! Quantising each frame's chroma shares (≥ 5, 10, 20, 40 % count 1 to 4) keeps which pitch
//! classes sound and drops how loud they are, and the smoothing drops the exact timing of the
//! notes: what is left is much the same for a score and for a pianist's recording of it, whatever
//! the piano, the room or the articulation. Recordings and scores meet in the same descriptor: a
//! recording through its chroma ([`crate::themes::RecordingChroma`]), a score through a model of the chroma its
//! notes make on a piano ([`score_chroma`]).

use crate::features::CHROMA_DIM;
use crate::score::Score;
use crate::themes::THEME_RATE_HZ;

/// Chroma frames per second that snippets are made from (the theme search's chroma).
pub const CHROMA_RATE_HZ: f64 = THEME_RATE_HZ;
/// Snippets per second of the piece at its written tempo.
pub const SNIPPET_RATE_HZ: f64 = CHROMA_RATE_HZ / HOP_FRAMES as f64;
/// Chroma frames a snippet spans (2 s) and between snippets (0.4 s), at scale 1.
const WINDOW_FRAMES: usize = 50;
const HOP_FRAMES: usize = 10;
/// Shares of a frame's chroma energy at which a class counts 1, 2, 3, 4.
const STEPS: [f32; 4] = [0.05, 0.1, 0.2, 0.4];
/// A frame whose chroma sums to less than this is silence: it counts nothing.
const SILENCE: f32 = 1e-6;

/// One snippet's descriptor: unit length, or zero where the snippet is silent.
pub type Snippet = [f32; CHROMA_DIM];

/// Snippet descriptors of `frames` (chroma at [`CHROMA_RATE_HZ`]) taken `scale` times as far
/// apart and as long as at the written tempo: a recording played `scale` times as slowly as a
/// score is described at the score's snippet rate.
pub fn snippets(frames: &[[f32; CHROMA_DIM]], scale: f64) -> Vec<Snippet> {
    let window = ((WINDOW_FRAMES as f64 * scale).round() as usize).max(3);
    let hop = (HOP_FRAMES as f64 * scale).max(1.0);
    let quantised: Vec<[f32; CHROMA_DIM]> = frames.iter().map(quantise).collect();
    let weights = hann(window);
    let count = (frames.len() as f64 / hop).ceil() as usize;
    (0..count)
        .map(|k| {
            // Centred on the snippet's own time, so that snippet k is at k / SNIPPET_RATE_HZ.
            let centre = (k as f64 * hop) as isize;
            let mut s = [0f32; CHROMA_DIM];
            for (w, offset) in weights.iter().zip(-(window as isize / 2)..) {
                if let Some(q) = usize::try_from(centre + offset)
                    .ok()
                    .and_then(|i| quantised.get(i))
                {
                    s.iter_mut().zip(q).for_each(|(s, q)| *s += w * q);
                }
            }
            unit(s)
        })
        .collect()
}

fn quantise(frame: &[f32; CHROMA_DIM]) -> [f32; CHROMA_DIM] {
    let total: f32 = frame.iter().sum();
    let mut q = [0f32; CHROMA_DIM];
    if total > SILENCE {
        for (q, x) in q.iter_mut().zip(frame) {
            *q = STEPS.iter().filter(|&&t| x / total >= t).count() as f32;
        }
    }
    q
}

fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = std::f64::consts::PI * (i as f64 + 0.5) / n as f64;
            x.sin().powi(2) as f32
        })
        .collect()
}

/// The snippet less its mean over the classes, unit length: what stands out in it. Without the
/// mean taken off, any two snippets of tonal music are alike (a cosine of 0.8 or more between
/// unrelated pieces, measured), since every class holds some energy of partials and reverb.
fn unit(mut s: Snippet) -> Snippet {
    let mean = s.iter().sum::<f32>() / CHROMA_DIM as f32;
    s.iter_mut().for_each(|x| *x -= mean);
    let norm = s.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        s.iter_mut().for_each(|x| *x /= norm);
    }
    s
}

/// Cosine distance of two unit snippets (chroma or [`super::crossmodal`] embeddings): 0 alike, 1 unrelated (or either silent), 2 opposite.
pub fn distance<const N: usize>(a: &[f32; N], b: &[f32; N]) -> f32 {
    1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()
}

/// Whether two snippet sequences are the same music: as long within 5 %, and alike snippet for
/// snippet from the start within a mean cosine distance of 0.1. Two files of one piece (a MIDI
/// and a MusicXML with the same tempo marks) are; two pieces are not, even in the same key and
/// style (unrelated music is near 1).
pub fn same_music(a: &[Snippet], b: &[Snippet]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la == 0 || lb == 0 || la.abs_diff(lb) * 20 > la.max(lb) {
        return la == lb;
    }
    let mean = a.iter().zip(b).map(|(x, y)| distance(x, y)).sum::<f32>() / la.min(lb) as f32;
    mean < 0.1
}

/// Power that each partial of a piano note adds to the bands above its fundamental, as
/// (semitones up, share): octave, twelfth, double octave, major seventeenth. A recording's
/// chroma hears these too, so the score's must.
const PARTIALS: [(u8, f32); 5] = [(0, 1.0), (12, 0.5), (19, 0.3), (24, 0.2), (28, 0.15)];
/// Power kept each second a note is held, at middle C; a piano's low notes ring longer.
const DECAY_PER_S_AT_C4: f64 = 0.25;
/// Each band's power is raised to this before it is summed into its class, as a recording's is.
const POWER: f32 = 1.5;

/// The chroma a score's notes make on a piano at [`CHROMA_RATE_HZ`], on its played timeline at
/// its written tempo: each note's partials, louder for a louder note, decaying while it is held.
pub fn score_chroma(score: &Score) -> Vec<[f32; CHROMA_DIM]> {
    let frames = (score.duration_s() * CHROMA_RATE_HZ).ceil() as usize + 1;
    // Band power per frame, one band per MIDI pitch (partials may climb above the keyboard).
    let mut power = vec![[0f32; 128]; frames];
    for note in &score.notes {
        let first = (note.onset_s * CHROMA_RATE_HZ).round() as usize;
        let last = ((note.offset_s * CHROMA_RATE_HZ).round() as usize).max(first + 1);
        let loudness = (f32::from(note.velocity.max(1)) / 127.0).powi(2);
        let decay = DECAY_PER_S_AT_C4.powf(2f64.powf((f64::from(note.pitch) - 60.0) / 24.0));
        for (k, frame) in power.iter_mut().enumerate().take(last).skip(first) {
            let held = (k - first) as f64 / CHROMA_RATE_HZ;
            let level = loudness * decay.powf(held) as f32;
            for (up, share) in PARTIALS {
                if let Some(band) = frame.get_mut(usize::from(note.pitch + up)) {
                    *band += share * level;
                }
            }
        }
    }
    power
        .iter()
        .map(|bands| {
            let mut c = [0f32; CHROMA_DIM];
            for (pitch, p) in bands.iter().enumerate() {
                c[pitch % CHROMA_DIM] += p.powf(POWER);
            }
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_frames(classes: &[usize], frames_each: usize) -> Vec<[f32; CHROMA_DIM]> {
        classes
            .iter()
            .flat_map(|&c| {
                let mut f = [0f32; CHROMA_DIM];
                f[c] = 1.0;
                std::iter::repeat_n(f, frames_each)
            })
            .collect()
    }

    #[test]
    fn a_recording_twice_as_slow_described_at_scale_two_matches_the_score() {
        let classes = [0, 4, 7, 5, 9, 2, 11, 7];
        let written = snippets(&class_frames(&classes, 25), 1.0);
        let slow = snippets(&class_frames(&classes, 50), 2.0);
        assert!(
            written.len().abs_diff(slow.len()) <= 1,
            "{} {}",
            written.len(),
            slow.len()
        );
        let mean: f32 = written
            .iter()
            .zip(&slow)
            .map(|(a, b)| distance(a, b))
            .sum::<f32>()
            / written.len().min(slow.len()) as f32;
        assert!(mean < 0.05, "{mean}");
        // and unlike the same recording described at the written tempo
        let unscaled = snippets(&class_frames(&classes, 50), 1.0);
        let off: f32 = written
            .iter()
            .zip(&unscaled)
            .map(|(a, b)| distance(a, b))
            .sum::<f32>()
            / written.len() as f32;
        assert!(off > 0.2, "{off}");
    }

    #[test]
    fn silence_is_far_from_everything() {
        let s = snippets(&vec![[0f32; CHROMA_DIM]; 100], 1.0);
        let tone = snippets(&class_frames(&[3], 100), 1.0);
        assert!(s.iter().all(|x| x.iter().all(|&v| v == 0.0)));
        assert!((distance(&s[2], &tone[2]) - 1.0).abs() < 1e-6);
        assert!(distance(&tone[2], &tone[3]) < 1e-6);
    }

    #[test]
    fn the_same_music_is_told_from_other_music() {
        let classes = [0, 4, 7, 5, 9, 2, 11, 7, 0, 5, 7, 0].repeat(4);
        let piece = snippets(&class_frames(&classes, 20), 1.0);
        // the same music with one more second at the end, and slightly louder in one class
        let mut again = class_frames(&classes, 20);
        again.extend(class_frames(&[0], 25));
        again.iter_mut().for_each(|f| f[7] *= 1.2);
        assert!(same_music(&piece, &snippets(&again, 1.0)));
        let other = snippets(
            &class_frames(&[2, 9, 5, 0, 7, 11, 4, 2, 9, 5, 0, 2], 20),
            1.0,
        );
        assert!(!same_music(&piece, &other));
        assert!(!same_music(&piece, &piece[..piece.len() / 2]));
    }

    #[test]
    fn a_scored_note_sounds_in_its_class_with_its_twelfth() {
        let score = Score {
            notes: vec![crate::score::Note {
                pitch: 57,
                velocity: 80,
                onset_beats: 0.0,
                duration_beats: 2.0,
                onset_s: 0.0,
                offset_s: 1.0,
                staff: None,
                measure: 0,
                grace: false,
            }],
            tempo: crate::score::TempoMap::constant(120.0),
            measures: Vec::new(),
        };
        let chroma = score_chroma(&score);
        let f = chroma[(0.5 * CHROMA_RATE_HZ) as usize];
        // A3: class 9 dominant; its twelfth E5 and seventeenth C#6 sound in classes 4 and 1
        assert!(f[9] > f[4] && f[4] > f[1] && f[1] > 0.0, "{f:?}");
        assert!(f
            .iter()
            .enumerate()
            .all(|(c, &x)| [9, 4, 1].contains(&c) || x == 0.0));
    }
}
