//! Making a clean synthesised performance sound like a recording: one recipe, [`Degradation`]
//! (tone, room, noise; the room's reverb is [`crate::audio::room`]), for the benchmark and for the
//! training data alike. Detuning happens at synthesis ([`crate::render::RenderOptions`]).

use crate::audio::normalize_peak;
use crate::audio::room::reverb;
use crate::features::SAMPLE_RATE;
use crate::rng::Rng;

/// How a clean rendering at the internal rate is made to sound like a recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Degradation {
    /// A gentle EQ around 1.5 kHz, −1…1 ([`tilt`]); 0 leaves the tone alone.
    pub tilt: f64,
    pub reverb_decay_s: f64,
    pub reverb_wet: f32,
    /// White noise this far below the signal.
    pub snr_db: f64,
}

impl Degradation {
    /// The benchmark's recording: one room, 30 dB SNR, the tone untouched.
    pub const BENCHMARK: Self = Self {
        tilt: 0.0,
        reverb_decay_s: 1.2,
        reverb_wet: 0.25,
        snr_db: 30.0,
    };

    /// A random recording (the training data's): tone, room and noise drawn from `rng`.
    pub fn random(rng: &mut Rng) -> Self {
        Self {
            tilt: rng.uniform() * 2.0 - 1.0,
            reverb_decay_s: 0.3 + 1.2 * rng.uniform(),
            reverb_wet: 0.15 + 0.2 * rng.uniform() as f32,
            snr_db: 20.0 + 20.0 * rng.uniform(),
        }
    }

    /// Peak-normalises `audio` (at the internal rate), then tone, room and noise (from `rng`).
    pub fn apply(&self, audio: &mut [f32], rng: &mut Rng) {
        normalize_peak(audio, 0.7);
        if self.tilt != 0.0 {
            tilt(audio, self.tilt);
        }
        reverb(audio, SAMPLE_RATE, self.reverb_decay_s, self.reverb_wet);
        add_noise(audio, self.snr_db, rng);
    }
}

/// A gentle EQ around 1.5 kHz: `amount` in −1…1 scales what lies above by 0.4…1.6.
pub fn tilt(audio: &mut [f32], amount: f64) {
    let a = (-2.0 * std::f64::consts::PI * 1500.0 / f64::from(SAMPLE_RATE)).exp() as f32;
    let high_gain = (1.0 + 0.6 * amount) as f32;
    let mut low = 0.0f32;
    for x in audio.iter_mut() {
        low = (1.0 - a) * *x + a * low;
        *x = low + high_gain * (*x - low);
    }
}

/// Adds white noise at `snr_db` below the signal's RMS (over its non-silent part).
pub fn add_noise(x: &mut [f32], snr_db: f64, rng: &mut Rng) {
    let loud: Vec<f64> = x
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .filter(|&p| p > 1e-8)
        .collect();
    if loud.is_empty() {
        return;
    }
    let rms = (loud.iter().sum::<f64>() / loud.len() as f64).sqrt();
    let sigma = rms * 10f64.powf(-snr_db / 20.0);
    x.iter_mut()
        .for_each(|s| *s += (sigma * rng.normal()) as f32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_the_requested_snr() {
        let mut x: Vec<f32> = (0..44100).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        let clean = x.clone();
        add_noise(&mut x, 30.0, &mut Rng::new(1));
        let p = |v: &mut dyn Iterator<Item = f32>| v.map(|s| f64::from(s * s)).sum::<f64>();
        let sig = p(&mut clean.iter().copied());
        let noise = p(&mut x.iter().zip(&clean).map(|(a, b)| a - b));
        let snr = 10.0 * (sig / noise).log10();
        assert!((snr - 30.0).abs() < 0.5, "{snr}");
    }
}
