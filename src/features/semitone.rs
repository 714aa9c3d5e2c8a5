//! Log-frequency (semitone) spectrogram: the 88 piano keys, A0 to C8.

pub const LOWEST_PITCH: u8 = 21;
pub const BANDS: usize = 88;
/// Log compression `log10(1 + GAMMA · power)`: the knee sits 40 dB below full scale, so quiet
/// notes and decays still count, while loud and soft playing differ by an offset that the
/// normalisation of chroma and onset features removes.
const GAMMA: f32 = 1e4;

/// Sums FFT bins into semitone bands. A bin's power is split linearly between the two bands its
/// centre frequency lies between: at this window length (21.5 Hz bins) the semitones below about
/// 370 Hz are narrower than a bin, and nearest-band assignment would leave some keys (D#4, …) with
/// no bin at all.
pub struct SemitoneFilterbank {
    /// (bin, lower band, weight of the lower band); the rest goes to the band above.
    weights: Vec<(usize, usize, f32)>,
}

impl SemitoneFilterbank {
    pub fn new(fft_size: usize, sample_rate: u32) -> Self {
        let weights = (1..=fft_size / 2)
            .filter_map(|b| {
                let f = b as f64 * f64::from(sample_rate) / fft_size as f64;
                let band = 69.0 + 12.0 * (f / 440.0).log2() - f64::from(LOWEST_PITCH);
                let lower = band.floor();
                (lower >= 0.0 && lower < BANDS as f64).then_some((
                    b,
                    lower as usize,
                    (1.0 - (band - lower)) as f32,
                ))
            })
            .collect();
        Self { weights }
    }

    pub fn apply(&self, power: &[f32], out: &mut [f32; BANDS]) {
        out.fill(0.0);
        for &(bin, lower, w) in &self.weights {
            let p = power[bin];
            out[lower] += w * p;
            if lower + 1 < BANDS {
                out[lower + 1] += (1.0 - w) * p;
            }
        }
    }
}

pub fn compress(bands: &mut [f32; BANDS]) {
    bands
        .iter_mut()
        .for_each(|b| *b = (1.0 + GAMMA * *b).log10());
}

/// The power of a band that [`compress`] made `compressed`.
pub fn expand(compressed: f32) -> f32 {
    ((10f32.powf(compressed) - 1.0) / GAMMA).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_undoes_compress() {
        let mut bands = [0f32; BANDS];
        bands[..4].copy_from_slice(&[0.0, 1e-6, 0.01, 3.0]);
        let before = bands;
        compress(&mut bands);
        for (x, p) in bands.iter().zip(before) {
            assert!(
                (expand(*x) - p).abs() <= 1e-3 * p + 1e-7,
                "{p} -> {x} -> {}",
                expand(*x)
            );
        }
    }

    #[test]
    fn a440_lands_in_its_band() {
        let fb = SemitoneFilterbank::new(1024, 22050);
        let mut power = vec![0f32; 513];
        let bin = (440.0 * 1024.0 / 22050.0f64).round() as usize;
        power[bin] = 1.0;
        let mut out = [0f32; BANDS];
        fb.apply(&power, &mut out);
        let best = (0..BANDS)
            .max_by(|&a, &b| out[a].total_cmp(&out[b]))
            .unwrap();
        assert_eq!(best, 69 - LOWEST_PITCH as usize);
    }
}
