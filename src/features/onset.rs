//! Onset feature: the positive change of the compressed semitone spectrogram from one frame to
//! the next (half-wave rectified spectral difference), normalised per frame.
//!
//! Chroma says which notes sound; this says which notes just *started*, which pins the alignment
//! to attacks — the reason MATCH and Ewert's onset-chroma features align more tightly than chroma alone.

use super::chroma::normalize;
use super::semitone::BANDS;

/// Below this norm a change counts as no onset (noise, vibrato of the decay); in units of
/// `log10` compressed energy.
pub const NORM_FLOOR: f32 = 1.0;

pub struct OnsetFeature {
    previous: [f32; BANDS],
}

impl Default for OnsetFeature {
    fn default() -> Self {
        Self::new()
    }
}

impl OnsetFeature {
    pub fn new() -> Self {
        Self {
            previous: [0.0; BANDS],
        }
    }

    pub fn compute(&mut self, compressed: &[f32; BANDS], out: &mut [f32]) {
        for ((o, now), prev) in out.iter_mut().zip(compressed).zip(&self.previous) {
            *o = (now - prev).max(0.0);
        }
        self.previous = *compressed;
        normalize(out, NORM_FLOOR);
    }
}
