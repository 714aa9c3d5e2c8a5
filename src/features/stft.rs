//! Framing and the power spectrum of a Hamming-windowed frame.

use std::sync::Arc;

use realfft::{num_complex::Complex32, RealFftPlanner, RealToComplex};

/// Cuts a stream into overlapping windows. Frame `k` ends at sample `k · hop`; samples before the
/// start of the stream count as silence.
pub struct Framer {
    window: usize,
    hop: usize,
    /// Samples from absolute index `buf_start` on (negative: the leading silence).
    buf: Vec<f32>,
    buf_start: i64,
    next_frame: i64,
}

impl Framer {
    pub fn new(window: usize, hop: usize) -> Self {
        Self {
            window,
            hop,
            buf: vec![0.0; window],
            buf_start: -(window as i64),
            next_frame: 0,
        }
    }

    pub fn push(&mut self, samples: &[f32], mut on_window: impl FnMut(&[f32])) {
        self.buf.extend_from_slice(samples);
        let available_end = self.buf_start + self.buf.len() as i64;
        while self.next_frame * self.hop as i64 <= available_end {
            let end = (self.next_frame * self.hop as i64 - self.buf_start) as usize;
            on_window(&self.buf[end - self.window..end]);
            self.next_frame += 1;
        }
        // Keep only what the next frame still needs.
        let keep_from = self.next_frame * self.hop as i64 - self.window as i64;
        let drop = (keep_from - self.buf_start).clamp(0, self.buf.len() as i64) as usize;
        if drop > 0 {
            self.buf.drain(..drop);
            self.buf_start += drop as i64;
        }
    }
}

/// Power spectrum of one frame, scaled so that a full-scale sine has a peak of about 1.
pub struct PowerSpectrum {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    input: Vec<f32>,
    output: Vec<Complex32>,
    scratch: Vec<Complex32>,
    power: Vec<f32>,
    scale: f32,
}

impl PowerSpectrum {
    pub fn new(size: usize) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(size);
        let window: Vec<f32> = (0..size)
            .map(|i| {
                0.54 - 0.46 * (2.0 * std::f32::consts::PI * i as f32 / (size - 1) as f32).cos()
            })
            .collect();
        let gain: f32 = window.iter().sum::<f32>() / 2.0;
        Self {
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; size / 2 + 1],
            fft,
            window,
            scale: 1.0 / (gain * gain),
        }
    }

    pub fn compute(&mut self, frame: &[f32]) -> &[f32] {
        for ((i, x), w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *i = x * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .expect("buffers sized by the planner");
        for (p, c) in self.power.iter_mut().zip(&self.output) {
            *p = c.norm_sqr() * self.scale;
        }
        &self.power
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_end_at_multiples_of_hop() {
        let mut f = Framer::new(4, 2);
        let mut got = Vec::new();
        let x: Vec<f32> = (1..=6).map(|v| v as f32).collect();
        f.push(&x, |w| got.push(w.to_vec()));
        assert_eq!(
            got,
            vec![
                vec![0., 0., 0., 0.],
                vec![0., 0., 1., 2.],
                vec![1., 2., 3., 4.],
                vec![3., 4., 5., 6.]
            ]
        );
    }

    #[test]
    fn full_scale_sine_peaks_near_one() {
        let mut ps = PowerSpectrum::new(1024);
        let bin = 40.0;
        let x: Vec<f32> = (0..1024)
            .map(|i| (2.0 * std::f32::consts::PI * bin * i as f32 / 1024.0).sin())
            .collect();
        let p = ps.compute(&x);
        assert!((p[40] - 1.0).abs() < 0.05, "{}", p[40]);
    }
}
