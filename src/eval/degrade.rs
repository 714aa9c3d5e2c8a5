//! Making a clean synthesised performance sound like a recording: noise here, room reverb in
//! [`crate::audio::room`], detuning at synthesis ([`crate::render::RenderOptions`]).

/// Small deterministic random generator (SplitMix64), so every benchmark run hears the same noise.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn from_name(name: &str) -> Self {
        // FNV-1a
        Self(name.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        }))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
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
