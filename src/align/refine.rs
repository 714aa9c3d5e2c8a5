//! Note-precise offline alignment: each score onset moved from the coarse path's estimate to the
//! attack of its own pitches nearby (issue 12's per-onset search).
//!
//! The multiscale DTW works on 23 ms frames of 46 ms windows, so the best it can do is place an
//! onset within a frame or so, and where a passage is slower or faster than the score it leans
//! toward the score's tempo. A piano's attack is sharp: the energy at the note's pitch and its
//! first harmonics jumps within a few milliseconds. So, for each onset of the score, the audio
//! within [`RefineConfig::search_s`] of the coarse estimate is analysed at a fine hop
//! (5.8 ms) and the onset is put where the log energy of *its* pitches and their first partials
//! rises fastest, weighed by a prior around the coarse estimate. (The rise of the power itself,
//! without the log, was 3 points worse within 25 ms: a loud sustained note then hides a soft
//! attack.) Attacks of other pitches nearby (the next note of a run, the other hand) barely
//! count, because only the onset's own bands are summed.

use crate::features::attack::{pitch_bands, rise};
use crate::features::semitone::{compress, SemitoneFilterbank, BANDS};
use crate::features::stft::PowerSpectrum;
use crate::features::{SAMPLE_RATE, WINDOW};
use crate::score::Score;

use super::PathMap;

/// How the onsets are refined. The defaults were chosen on every 12th train case (ASAP's beats,
/// 17 201 rows; `BENCHMARKS.md`, "Precision").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefineConfig {
    /// How far from the coarse estimate the attack is looked for, either side (s).
    pub search_s: f64,
    /// Spread of the prior around the coarse estimate (s): how far the coarse path is
    /// typically off.
    pub prior_s: f64,
    /// Hop of the fine analysis, in samples at the internal rate.
    pub hop: usize,
    /// Where the attack lies relative to the end of the window whose energy at the onset's
    /// pitches rises fastest (s): half the window (23.2 ms), and about 7 ms more for the
    /// attack's own build-up to its peak.
    pub attack_offset_s: f64,
}

impl Default for RefineConfig {
    fn default() -> Self {
        Self {
            search_s: 0.1,
            prior_s: 0.05,
            hop: 128,
            attack_offset_s: -0.030,
        }
    }
}

/// The peak level the recording is analysed at (the benchmark's renderings are made at it).
const PEAK: f32 = 0.7;

/// Semitone spectra of windows ending anywhere in a signal at the internal rate.
struct FineSpectrum<'a> {
    audio: &'a [f32],
    /// Brings the recording's peak to [`PEAK`], so the log compression's knee sits at the same
    /// place relative to the music at any recording level.
    gain: f32,
    spectrum: PowerSpectrum,
    bands: SemitoneFilterbank,
    window: Vec<f32>,
}

impl<'a> FineSpectrum<'a> {
    fn new(audio: &'a [f32]) -> Self {
        let peak = crate::audio::peak(audio);
        Self {
            audio,
            gain: if peak > 0.0 { PEAK / peak } else { 1.0 },
            spectrum: PowerSpectrum::new(WINDOW),
            bands: SemitoneFilterbank::new(WINDOW, SAMPLE_RATE),
            window: vec![0.0; WINDOW],
        }
    }

    /// The bands of the window ending at sample `end` (samples outside the signal are silence).
    fn at(&mut self, end: i64, out: &mut [f32; BANDS]) {
        let start = end - WINDOW as i64;
        for (k, w) in self.window.iter_mut().enumerate() {
            let i = start + k as i64;
            *w = usize::try_from(i)
                .ok()
                .and_then(|i| self.audio.get(i))
                .map_or(0.0, |x| x * self.gain);
        }
        self.bands.apply(self.spectrum.compute(&self.window), out);
        compress(out);
    }
}

/// Refines `coarse` (score time → performance time) on `audio` (mono, at the internal rate):
/// every onset of `score` that finds an attack of its pitches near its coarse time moves there,
/// and the map between onsets moves with its neighbours.
pub fn refine(coarse: &PathMap, score: &Score, audio: &[f32], config: RefineConfig) -> PathMap {
    let mut fine = FineSpectrum::new(audio);
    let sr = f64::from(SAMPLE_RATE);
    let hop = config.hop as i64;
    let steps = (config.search_s * sr / config.hop as f64).ceil() as i64;
    let mut previous = [0f32; BANDS];
    let mut current = [0f32; BANDS];
    let mut corrections = Vec::new();
    for onset in score.onsets() {
        let estimate = coarse.perf_time_at(onset.score_s);
        let centre = ((estimate - config.attack_offset_s) * sr).round() as i64;
        let bands = pitch_bands(&onset.pitches);
        let first = centre - steps * hop;
        fine.at(first - hop, &mut previous);
        let mut rises = Vec::with_capacity(2 * steps as usize + 1);
        for k in 0..=2 * steps {
            fine.at(first + k * hop, &mut current);
            let rise = rise(&bands, &current, &previous);
            let off_s = ((k - steps) * hop) as f64 / sr;
            let prior = (-0.5 * (off_s / config.prior_s).powi(2)).exp() as f32;
            rises.push((rise, rise * prior));
            std::mem::swap(&mut previous, &mut current);
        }
        let Some(best) = (0..rises.len()).max_by(|&a, &b| rises[a].1.total_cmp(&rises[b].1)) else {
            continue;
        };
        if rises[best].0 <= 0.0 {
            // No energy rise at its pitches anywhere near: nothing to move the onset to.
            continue;
        }
        let end = (first + best as i64 * hop) as f64 + vertex(&rises, best) * hop as f64;
        let attack = end / sr + config.attack_offset_s;
        corrections.push((onset.score_s, attack - estimate));
    }
    coarse.corrected(&corrections)
}

/// Offset (in hops, within ±½) of the parabola's vertex through the weighted rises around `k`.
fn vertex(rises: &[(f32, f32)], k: usize) -> f64 {
    if k == 0 || k + 1 >= rises.len() {
        return 0.0;
    }
    let (a, b, c) = (rises[k - 1].1, rises[k].1, rises[k + 1].1);
    let denom = a - 2.0 * b + c;
    if denom >= 0.0 {
        return 0.0;
    }
    f64::from(0.5 * (a - c) / denom).clamp(-0.5, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{Note, TempoMap};

    /// A piano-like tone: six partials at 1/k, a 2 ms attack and a 0.8 s decay.
    fn add_tone(audio: &mut [f32], pitch: u8, at_s: f64) {
        let sr = f64::from(SAMPLE_RATE);
        let f0 = 440.0 * 2f64.powf((f64::from(pitch) - 69.0) / 12.0);
        let start = (at_s * sr) as usize;
        for (n, x) in audio[start..].iter_mut().enumerate() {
            let t = n as f64 / sr;
            let envelope = (t / 0.002).min(1.0) * (-t / 0.8).exp();
            let tone: f64 = (1..=6)
                .map(|k| (2.0 * std::f64::consts::PI * f0 * k as f64 * t).sin() / k as f64)
                .sum();
            *x += (0.1 * envelope * tone) as f32;
        }
    }

    fn note(pitch: u8, onset_s: f64) -> Note {
        Note {
            pitch,
            velocity: 80,
            onset_beats: onset_s * 2.0,
            duration_beats: 1.0,
            onset_s,
            offset_s: onset_s + 0.5,
            staff: Some(1),
            measure: 0,
            grace: false,
        }
    }

    /// Three notes played off the score's tempo, a coarse map 30–40 ms off each, and another
    /// pitch's attack 30 ms after the first: each onset moves to within 12 ms of its own attack
    /// (this tone's attack is sharper than the piano's the offset allows for, so it comes out
    /// a few ms early), and the same 60 dB quieter.
    #[test]
    fn onsets_move_to_their_own_pitches_attacks() {
        let played = [(60, 1.0, 1.10), (67, 1.5, 1.52), (64, 2.0, 2.25)];
        let mut audio = vec![0f32; 3 * SAMPLE_RATE as usize];
        for (pitch, _, at) in played {
            add_tone(&mut audio, pitch, at);
        }
        add_tone(&mut audio, 66, 1.13);
        let score = Score {
            notes: played.iter().map(|&(p, s, _)| note(p, s)).collect(),
            tempo: TempoMap::constant(120.0),
            measures: vec![],
        };
        let coarse = PathMap::from_points([
            (0.0, 0.0),
            (1.0, 1.14),
            (1.5, 1.49),
            (2.0, 2.21),
            (3.0, 3.2),
        ]);
        let quiet: Vec<f32> = audio.iter().map(|x| x * 0.001).collect();
        let refined = refine(&coarse, &score, &audio, RefineConfig::default());
        let refined_quiet = refine(&coarse, &score, &quiet, RefineConfig::default());
        for (_, score_s, at) in played {
            let (loud, soft) = (
                refined.perf_time_at(score_s),
                refined_quiet.perf_time_at(score_s),
            );
            assert!(
                (loud - soft).abs() < 1e-4,
                "60 dB quieter: {loud} against {soft}"
            );
            let before = coarse.perf_time_at(score_s) - at;
            let after = refined.perf_time_at(score_s) - at;
            assert!(before.abs() >= 0.03, "{before}");
            assert!(
                after.abs() <= 0.012,
                "note at {score_s} s: {:.1} ms off after, {:.1} before",
                1e3 * after,
                1e3 * before
            );
        }
    }
}
