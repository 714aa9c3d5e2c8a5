//! The reference a performance is followed against: the score, its rendering and its features.

use std::sync::Arc;

use rustysynth::SoundFont;

use crate::audio::normalize_peak;
use crate::audio::room::reverb;
use crate::features::semitone::BANDS;
use crate::features::{self, Features, SAMPLE_RATE};
use crate::nn::embed::Embedder;
use crate::nn::RuntimeError;
use crate::render::{render_score, RenderError, RenderOptions};
use crate::score::Score;

/// Reverberation time and wet share of the room the reference is rendered in: a small hall,
/// deliberately not the benchmark's own degradation (1.2 s).
const REFERENCE_REVERB_S: f64 = 0.8;
const REFERENCE_REVERB_WET: f32 = 0.25;

pub struct Reference {
    pub score: Score,
    pub features: Arc<Features>,
    /// The rendering's semitone spectrogram, frame for frame: what the dual-stack localiser
    /// ([`crate::locate::dual_stack`]) reads.
    pub semitones: Arc<Features>,
}

impl Reference {
    /// Renders the score with `font` (acoustic grand piano) and extracts its features.
    pub fn render(score: Score, font: &Arc<SoundFont>) -> Result<Self, RenderError> {
        let audio = Self::render_audio(&score, font)?;
        Ok(Self::from_audio(score, &audio))
    }

    /// The reference recording at the internal rate: the score on `font`'s piano, in a room.
    pub fn render_audio(score: &Score, font: &Arc<SoundFont>) -> Result<Vec<f32>, RenderError> {
        let mut audio = render_score(font, score, RenderOptions::piano(SAMPLE_RATE))?;
        // A dry synthesiser next to a piano in a room: reverb on the reference brings its decays
        // and overlaps closer to what a microphone hears (BENCHMARKS.md measures the gain).
        normalize_peak(&mut audio, 0.7);
        reverb(
            &mut audio,
            SAMPLE_RATE,
            REFERENCE_REVERB_S,
            REFERENCE_REVERB_WET,
        );
        Ok(audio)
    }

    /// A reference from audio already at the internal rate whose time 0 is score time 0.
    pub fn from_audio(score: Score, audio: &[f32]) -> Self {
        let (frames, semitones) = features::extract_with_semitones(audio, SAMPLE_RATE);
        Self {
            features: Arc::new(frames),
            semitones: Arc::new(Features::from_rows(BANDS, semitones)),
            score,
        }
    }

    /// A reference whose frames carry `embedder`'s learned embedding after the classical features.
    pub fn from_audio_learned(
        score: Score,
        audio: &[f32],
        embedder: &mut Embedder,
    ) -> Result<Self, RuntimeError> {
        let (features, semitones) = embedder.frames_and_semitones_of(audio)?;
        Ok(Self {
            features: Arc::new(features),
            semitones: Arc::new(semitones),
            score,
        })
    }

    pub fn score_time(&self, frame: usize) -> f64 {
        features::frame_time(frame)
    }
}
