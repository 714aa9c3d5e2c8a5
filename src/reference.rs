//! The reference a performance is followed against: the score, its rendering and its features.

use std::sync::Arc;

use rustysynth::SoundFont;

use crate::features::{self, Features, SAMPLE_RATE};
use crate::render::{render_score, RenderError, RenderOptions};
use crate::score::Score;

pub struct Reference {
    pub score: Score,
    pub features: Arc<Features>,
}

impl Reference {
    /// Renders the score with `font` (acoustic grand piano) and extracts its features.
    pub fn render(score: Score, font: &Arc<SoundFont>) -> Result<Self, RenderError> {
        let audio = render_score(font, &score, RenderOptions::piano(SAMPLE_RATE))?;
        Ok(Self::from_audio(score, &audio))
    }

    /// A reference from audio already at the internal rate whose time 0 is score time 0.
    pub fn from_audio(score: Score, audio: &[f32]) -> Self {
        Self { features: Arc::new(features::extract(audio, SAMPLE_RATE)), score }
    }

    pub fn score_time(&self, frame: usize) -> f64 {
        features::frame_time(frame)
    }
}
