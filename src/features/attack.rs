//! Attacks between frames: the log semitone spectrum of a short window every 5.8 ms, its knee
//! following the level of the sound.
//!
//! The alignment frames are 46 ms windows every 23 ms: an attack is only clear in them once the
//! window holds a good part of it, and a report can only come at a frame's end. A 23 ms window
//! every 128 samples shows the rise of a note's own pitches a few milliseconds after the hammer
//! strikes. The follower ([`crate::follow`]) and the offline refinement
//! ([`crate::align::refine`]) weigh that rise at the pitches of the onset they expect, so other
//! notes' attacks barely count.

use super::semitone::{SemitoneFilterbank, BANDS, LOWEST_PITCH};
use super::stft::{Framer, PowerSpectrum};

/// Window and hop of the fine analysis, in samples at the internal rate (23 ms, 5.8 ms).
pub const FINE_WINDOW: usize = 512;
pub const FINE_HOP: usize = 128;

/// The log compression's knee, relative to the loudest band of the recent sound (−30 dB): a
/// note's rise counts the same at any input level, so a quiet microphone finds attacks as a
/// loud one does, and the noise floor of a quiet room does not.
const KNEE: f32 = 1e-3;
/// How fast the recent loudest band is forgotten, per hop: 20 dB in 10 s.
const LEVEL_DECAY: f32 = 0.997_33;
/// The level below which the input is taken as digital silence.
const SILENCE: f32 = 1e-10;

/// Harmonics summed for each note, as semitones above the fundamental and their weights: a piano
/// note's energy sits as much in its first partials as in its fundamental, and the fundamental of
/// a low note is weak.
const PARTIALS: [(usize, f32); 4] = [(0, 1.0), (12, 0.5), (19, 0.33), (24, 0.25)];

/// The semitone bands (index, weight) of `pitches` and their first partials.
pub fn pitch_bands(pitches: &[u8]) -> Vec<(usize, f32)> {
    let mut w = [0f32; BANDS];
    for &p in pitches {
        for (above, weight) in PARTIALS {
            let band = (usize::from(p) + above).checked_sub(usize::from(LOWEST_PITCH));
            if let Some(b) = band.filter(|&b| b < BANDS) {
                w[b] = w[b].max(weight);
            }
        }
    }
    (0..BANDS)
        .filter(|&b| w[b] > 0.0)
        .map(|b| (b, w[b]))
        .collect()
}

/// How much the log energy of `bands` rose from `previous` to `now`, on weighted average over the
/// bands: a single note and a full chord rise alike when they are struck alike.
pub fn rise(bands: &[(usize, f32)], now: &[f32; BANDS], previous: &[f32; BANDS]) -> f32 {
    let (mut sum, mut weights) = (0.0, 0.0);
    for &(b, w) in bands {
        sum += w * (now[b] - previous[b]).max(0.0);
        weights += w;
    }
    if weights > 0.0 {
        sum / weights
    } else {
        0.0
    }
}

/// Streaming fine analysis: hop `j` is the window ending at sample `j · FINE_HOP`, so every
/// fourth hop ends with a frame.
pub struct FineBands {
    framer: Framer,
    spectrum: PowerSpectrum,
    bands: SemitoneFilterbank,
    now: [f32; BANDS],
    previous: [f32; BANDS],
    /// The loudest band's power recently.
    level: f32,
}

impl Default for FineBands {
    fn default() -> Self {
        Self::new()
    }
}

impl FineBands {
    pub fn new() -> Self {
        Self {
            framer: Framer::new(FINE_WINDOW, FINE_HOP),
            spectrum: PowerSpectrum::new(FINE_WINDOW),
            bands: SemitoneFilterbank::new(FINE_WINDOW, super::SAMPLE_RATE),
            now: [0.0; BANDS],
            previous: [0.0; BANDS],
            level: 0.0,
        }
    }

    /// Feeds samples at the internal rate; `on_hop(now, previous)` for every completed hop.
    pub fn push(&mut self, samples: &[f32], mut on_hop: impl FnMut(&[f32; BANDS], &[f32; BANDS])) {
        let Self {
            framer,
            spectrum,
            bands,
            now,
            previous,
            level,
        } = self;
        framer.push(samples, |window| {
            std::mem::swap(now, previous);
            bands.apply(spectrum.compute(window), now);
            let loudest = now.iter().copied().fold(0.0, f32::max);
            *level = (*level * LEVEL_DECAY).max(loudest);
            let knee = (KNEE * *level).max(SILENCE);
            now.iter_mut().for_each(|b| *b = (1.0 + *b / knee).log10());
            on_hop(now, previous);
        });
    }
}
