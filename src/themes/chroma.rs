//! A recording's chroma at the theme search's rate, of one of two kinds ([`ChromaKind`]).
//!
//! The classical one: unlike the follower's chroma, which log-compresses every band so that a
//! soft note counts as much as a loud one, it sums each semitone band's power raised to
//! [`POWER`]: the loudest notes dominate, and on a piano the melody is mostly what the pianist
//! voices loudest. Averaged over each 40 ms step.
//!
//! The deep one: seed 004's network ([`crate::nn::deep_chroma`]), which learned from melodies in
//! their accompaniment to keep the first and drop the second.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::audio::resample::resample;
use crate::features::{self, chroma, frame_time, semitone, CHROMA_DIM, SAMPLE_RATE};
use crate::nn::deep_chroma::DeepChroma;
use crate::nn::{Device, RuntimeError};

use super::THEME_RATE_HZ;

/// Which chroma recordings are described by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChromaKind {
    /// Band power to the 1.5, summed by pitch class: no model needed.
    #[default]
    Classical,
    /// Seed 004's deep chroma (`models/deep_chroma.onnx`).
    Deep,
}

impl ChromaKind {
    pub const ALL: [Self; 2] = [Self::Classical, Self::Deep];

    pub fn name(self) -> &'static str {
        match self {
            Self::Classical => "classical",
            Self::Deep => "deep",
        }
    }
}

impl fmt::Display for ChromaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ChromaKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("no chroma '{s}': choose classical or deep"))
    }
}

/// Makes recordings' chroma of one kind (the deep one holds its model).
pub enum ChromaExtractor {
    Classical,
    Deep {
        model: Box<DeepChroma>,
        path: PathBuf,
    },
}

impl ChromaExtractor {
    /// The deep chroma from the model at `model`, run on `device`; the classical chroma without
    /// a model.
    pub fn of(model: Option<&Path>, device: Device) -> Result<Self, RuntimeError> {
        let Some(path) = model else {
            return Ok(Self::Classical);
        };
        Ok(Self::Deep {
            model: Box::new(DeepChroma::load(path, device, 1)?),
            path: path.to_owned(),
        })
    }

    pub fn kind(&self) -> ChromaKind {
        match self {
            Self::Classical => ChromaKind::Classical,
            Self::Deep { .. } => ChromaKind::Deep,
        }
    }

    /// The model's file, for the deep chroma.
    pub fn model_path(&self) -> Option<&Path> {
        match self {
            Self::Classical => None,
            Self::Deep { path, .. } => Some(path),
        }
    }

    /// The chroma of mono audio at `sample_rate`.
    pub fn chroma(
        &mut self,
        samples: &[f32],
        sample_rate: u32,
    ) -> Result<RecordingChroma, RuntimeError> {
        match self {
            Self::Classical => Ok(RecordingChroma::from_audio(samples, sample_rate)),
            Self::Deep { model, .. } => {
                let frames = if sample_rate == SAMPLE_RATE {
                    model.frames(samples)?
                } else {
                    model.frames(&resample(samples, sample_rate, SAMPLE_RATE))?
                };
                Ok(RecordingChroma { frames })
            }
        }
    }
}

/// Each band's power is raised to this before it is summed into its pitch class. Chosen on
/// every 8th train case (BENCHMARKS.md, "Theme search"): MRR 0.35 with the follower's log
/// chroma, 0.56 at power 1, 0.61 at 1.5, 0.58 at 2.
const POWER: f32 = 1.5;
/// Below this norm an averaged frame keeps its small norm: silence stays unlike any note.
const NORM_FLOOR: f32 = 0.5;
/// A frame whose bands sum to less than this (to the power) is digital silence: left at zero.
const SILENCE: f32 = 1e-30;

/// Chroma frames of one recording at [`THEME_RATE_HZ`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingChroma {
    pub frames: Vec<[f32; CHROMA_DIM]>,
}

impl RecordingChroma {
    /// The classical chroma of mono audio at `sample_rate`.
    pub fn from_audio(samples: &[f32], sample_rate: u32) -> Self {
        let (_, bands) = features::extract_with_semitones(samples, sample_rate);
        Self::from_semitones(&bands)
    }

    /// The chroma of a semitone spectrogram already taken (frames × 88, as
    /// [`features::extract_with_semitones`] gives it): what [`Self::from_audio`] makes of it.
    pub fn from_semitones(bands: &[f32]) -> Self {
        let frames: Vec<[f32; CHROMA_DIM]> = bands
            .chunks_exact(semitone::BANDS)
            .map(frame_chroma)
            .collect();
        let bins = frames
            .len()
            .checked_sub(1)
            .map_or(0, |last| bin_of(frame_time(last)) + 1);
        let mut sums = vec![[0f32; CHROMA_DIM]; bins];
        let mut counts = vec![0u32; bins];
        for (i, c) in frames.iter().enumerate() {
            let b = bin_of(frame_time(i));
            sums[b].iter_mut().zip(c).for_each(|(s, x)| *s += x);
            counts[b] += 1;
        }
        for (s, &k) in sums.iter_mut().zip(&counts) {
            if k > 0 {
                s.iter_mut().for_each(|x| *x /= k as f32);
            }
            chroma::normalize(s, NORM_FLOOR);
        }
        Self { frames: sums }
    }

    pub fn duration_s(&self) -> f64 {
        self.frames.len() as f64 / THEME_RATE_HZ
    }
}

/// One frame's chroma, unit length, from its log-compressed semitone bands.
fn frame_chroma(compressed: &[f32]) -> [f32; CHROMA_DIM] {
    let mut c = [0f32; CHROMA_DIM];
    for (band, &x) in compressed.iter().enumerate() {
        let class = (band + usize::from(semitone::LOWEST_PITCH)) % CHROMA_DIM;
        c[class] += semitone::expand(x).powf(POWER);
    }
    chroma::normalize(&mut c, SILENCE);
    c
}

fn bin_of(seconds: f64) -> usize {
    (seconds.max(0.0) * THEME_RATE_HZ) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::SAMPLE_RATE;

    #[test]
    fn a_tone_lands_in_its_class_at_25_hz_and_silence_stays_small() {
        let rate = SAMPLE_RATE as f64;
        let x: Vec<f32> = (0..2 * SAMPLE_RATE as usize)
            .map(|i| {
                let t = i as f64 / rate;
                // one second of A4, one of silence
                if t < 1.0 {
                    (0.5 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as f32
                } else {
                    0.0
                }
            })
            .collect();
        let c = RecordingChroma::from_audio(&x, SAMPLE_RATE);
        assert!((c.duration_s() - 2.0).abs() < 0.1, "{}", c.duration_s());
        let f = &c.frames[12];
        assert!(f[9] > 0.95, "{f:?}");
        let silent = &c.frames[c.frames.len() - 5];
        assert!(
            silent.iter().map(|x| x * x).sum::<f32>() < 0.01,
            "{silent:?}"
        );
    }
}
