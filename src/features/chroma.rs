//! Chroma: energy per pitch class, normalised so that loudness does not matter.

use super::semitone::{BANDS, LOWEST_PITCH};

/// Below this norm a frame counts as (near) silence and keeps its small norm, so that silence
/// matches silence and differs from any played chord.
pub const NORM_FLOOR: f32 = 1.0;

/// Bands are compressed relative to the frame's loudest band, over this dynamic range (40 dB), so
/// that chroma does not depend on how loud the frame is.
const RELATIVE_GAMMA: f32 = 100.0;
/// Frames whose loudest band is below this power (about −40 dB) are scaled down rather than up:
/// noise must not look like a chord.
const LOUDNESS_FLOOR: f32 = 1e-4;

/// Chroma from the (uncompressed) band powers of one frame.
pub fn from_semitones(power: &[f32; BANDS], out: &mut [f32; 12]) {
    let peak = power.iter().fold(LOUDNESS_FLOOR, |m, &p| m.max(p));
    out.fill(0.0);
    for (i, p) in power.iter().enumerate() {
        out[(i + LOWEST_PITCH as usize) % 12] += (1.0 + RELATIVE_GAMMA * p / peak).log10();
    }
    normalize(out, NORM_FLOOR);
}

/// Divides by the Euclidean norm, or by `floor` if the norm is smaller.
pub fn normalize(v: &mut [f32], floor: f32) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(floor);
    v.iter_mut().for_each(|x| *x /= norm);
}

#[cfg(test)]
mod tests {
    use crate::features::{extract, CHROMA_DIM, SAMPLE_RATE};

    #[test]
    fn pure_tone_lands_in_its_pitch_class() {
        for (freq, class) in [(440.0, 9), (261.63, 0), (392.0, 7), (311.13, 3)] {
            let x: Vec<f32> = (0..22050)
                .map(|i| {
                    0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / 22050.0).sin() as f32
                })
                .collect();
            let f = extract(&x, SAMPLE_RATE);
            let c = &f.frame(20)[..CHROMA_DIM];
            let best = (0..12).max_by(|&a, &b| c[a].total_cmp(&c[b])).unwrap();
            assert_eq!(best, class, "{freq} Hz: {c:?}");
            assert!((c.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn loudness_does_not_change_chroma_much() {
        let tone = |a: f64| -> Vec<f32> {
            (0..22050)
                .map(|i| {
                    (a * (2.0 * std::f64::consts::PI * 330.0 * i as f64 / 22050.0).sin()) as f32
                })
                .collect()
        };
        let loud = extract(&tone(0.8), SAMPLE_RATE);
        let soft = extract(&tone(0.1), SAMPLE_RATE);
        let d: f32 = loud.frame(20)[..12]
            .iter()
            .zip(&soft.frame(20)[..12])
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt();
        assert!(d < 0.05, "{d}");
    }
}
