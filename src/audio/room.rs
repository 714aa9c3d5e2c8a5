//! A small room: Schroeder reverberation, for the reference rendering and the benchmark.

/// Schroeder reverberator (four parallel combs, two allpasses), mixed with the dry signal.
/// `decay_s` is roughly the RT60 of a small hall.
pub fn reverb(x: &mut [f32], sample_rate: u32, decay_s: f64, wet: f32) {
    let sr = f64::from(sample_rate);
    let comb_ms = [29.7, 37.1, 41.1, 43.7];
    let mut out = vec![0f32; x.len()];
    for ms in comb_ms {
        let delay = (ms * sr / 1000.0) as usize;
        // Feedback gain for a 60 dB decay in decay_s.
        let g = 10f64.powf(-3.0 * ms / 1000.0 / decay_s) as f32;
        let mut buf = vec![0f32; delay];
        let mut k = 0;
        for (o, &s) in out.iter_mut().zip(x.iter()) {
            let y = buf[k];
            buf[k] = s + g * y;
            k = (k + 1) % delay;
            *o += y * 0.25;
        }
    }
    for ms in [5.0, 1.7] {
        let delay = (ms * sr / 1000.0) as usize;
        let g = 0.7f32;
        let mut buf = vec![0f32; delay];
        let mut k = 0;
        for o in out.iter_mut() {
            let b = buf[k];
            let y = -g * *o + b;
            buf[k] = *o + g * y;
            k = (k + 1) % delay;
            *o = y;
        }
    }
    for (s, r) in x.iter_mut().zip(&out) {
        *s = (1.0 - wet) * *s + wet * r;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverb_rings_after_the_sound_stops() {
        let mut x = vec![0f32; 22050];
        x[..100].iter_mut().for_each(|s| *s = 1.0);
        reverb(&mut x, 22050, 1.0, 0.3);
        let tail: f32 = x[5000..6000].iter().map(|s| s.abs()).sum();
        assert!(tail > 0.1);
    }
}
