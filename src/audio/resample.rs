//! Streaming resampling to the internal rate with `rubato`.
//!
//! Input is gathered into fixed-size chunks before it reaches the resampler, so the output depends
//! only on the samples, never on how the caller split them into blocks: feeding a file at once
//! or in host-sized blocks gives the same samples. The resampler's delay is removed so that
//! output time 0 is input time 0.
//!
//! It is also where live audio enters: a NaN or infinite sample from a host or a file would
//! poison the FFT (rubato panics on it), so such samples become silence here and are counted.

use rubato::{FftFixedIn, Resampler};

/// Input samples per resampler chunk: small, because a chunk must be complete before any of it
/// is resampled, which is latency for a live input (256 samples: 5.8 ms at 44.1 kHz).
const CHUNK: usize = 256;

pub struct StreamResampler {
    inner: Option<FftFixedIn<f32>>,
    input_rate: u32,
    output_rate: u32,
    pending: Vec<f32>,
    out: Vec<Vec<f32>>,
    to_skip: usize,
    non_finite: u64,
}

impl StreamResampler {
    /// Passes audio through untouched when the rates are equal.
    pub fn new(input_rate: u32, output_rate: u32) -> Self {
        let inner = (input_rate != output_rate).then(|| {
            FftFixedIn::new(input_rate as usize, output_rate as usize, CHUNK, 1, 1)
                .expect("sample rates validated by the caller")
        });
        let to_skip = inner.as_ref().map_or(0, |r| r.output_delay());
        let out = inner
            .as_ref()
            .map_or_else(Vec::new, |r| r.output_buffer_allocate(true));
        Self {
            inner,
            input_rate,
            output_rate,
            pending: Vec::with_capacity(CHUNK),
            out,
            to_skip,
            non_finite: 0,
        }
    }

    /// Input samples so far that were NaN or infinite and were taken as silence.
    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    /// Worst-case delay between an input sample arriving and its resampled output leaving, in seconds.
    pub fn latency_s(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |r| {
            r.input_frames_max() as f64 / self.input_rate as f64
                + r.output_delay() as f64 / self.output_rate as f64
        })
    }

    /// Feeds input samples; resampled output is appended to `sink`.
    pub fn push(&mut self, input: &[f32], sink: &mut Vec<f32>) {
        let Some(r) = self.inner.as_mut() else {
            extend_finite(sink, input, &mut self.non_finite);
            return;
        };
        let mut rest = input;
        while !rest.is_empty() {
            let need = r.input_frames_next() - self.pending.len();
            let take = need.min(rest.len());
            extend_finite(&mut self.pending, &rest[..take], &mut self.non_finite);
            rest = &rest[take..];
            if self.pending.len() == r.input_frames_next() {
                let (_, produced) = r
                    .process_into_buffer(&[&self.pending], &mut self.out, None)
                    .expect("buffer sizes come from the resampler");
                self.pending.clear();
                let skip = self.to_skip.min(produced);
                self.to_skip -= skip;
                sink.extend_from_slice(&self.out[0][skip..produced]);
            }
        }
    }

    /// Flushes what is buffered (zero-padded), e.g. at the end of a file.
    pub fn finish(&mut self, sink: &mut Vec<f32>) {
        if let Some(r) = self.inner.as_ref() {
            let pad = vec![0.0; r.input_frames_next() - self.pending.len() + r.output_delay() * 4];
            self.push(&pad, sink);
        }
    }
}

/// Appends `input` to `sink`, non-finite samples as silence (counted in `non_finite`). Within
/// capacity this allocates nothing, as the audio thread requires.
fn extend_finite(sink: &mut Vec<f32>, input: &[f32], non_finite: &mut u64) {
    sink.extend(input.iter().map(|&s| finite(s, non_finite)));
}

/// A non-finite sample as silence (counted in `non_finite`). Finite samples are clamped far above
/// full scale (±1 million), where a sum of them in the FFT could still overflow to infinity.
fn finite(s: f32, non_finite: &mut u64) -> f32 {
    const LIMIT: f32 = 1.0e6;
    if s.is_finite() {
        s.clamp(-LIMIT, LIMIT)
    } else {
        *non_finite += 1;
        0.0
    }
}

/// [`resample`], taking `samples` over instead of copying them when the rates are equal: a long
/// recording is then held once, not twice.
pub fn resample_owned(mut samples: Vec<f32>, input_rate: u32, output_rate: u32) -> Vec<f32> {
    if input_rate != output_rate {
        return resample(&samples, input_rate, output_rate);
    }
    let mut non_finite = 0;
    samples
        .iter_mut()
        .for_each(|s| *s = finite(*s, &mut non_finite));
    samples
}

/// Resamples a whole signal (see [`StreamResampler`]), trimmed to the exact output length.
pub fn resample(input: &[f32], input_rate: u32, output_rate: u32) -> Vec<f32> {
    let mut out =
        Vec::with_capacity(input.len() * output_rate as usize / input_rate.max(1) as usize + CHUNK);
    let mut r = StreamResampler::new(input_rate, output_rate);
    r.push(input, &mut out);
    r.finish(&mut out);
    out.truncate((input.len() as u64 * u64::from(output_rate) / u64::from(input_rate)) as usize);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, secs: f64) -> Vec<f32> {
        (0..(secs * f64::from(rate)) as usize)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    /// rubato panicked on NaN ("Imaginary part of first value was non-zero"), and at the
    /// internal rate NaN went on into the features.
    #[test]
    fn non_finite_input_is_silence_and_counted_at_any_rate() {
        let mut x = sine(440.0, 44_100, 0.5);
        x[100] = f32::NAN;
        x[5000] = f32::INFINITY;
        x[9000] = f32::NEG_INFINITY;
        x[9001] = f32::MAX;
        for rate in [44_100, 22_050] {
            let mut r = StreamResampler::new(rate, 22_050);
            let mut out = Vec::new();
            x.chunks(64).for_each(|c| r.push(c, &mut out));
            r.finish(&mut out);
            assert_eq!(r.non_finite(), 3, "{rate} Hz");
            assert!(out.iter().all(|s| s.is_finite()), "{rate} Hz");
        }
    }

    #[test]
    fn block_size_does_not_change_output() {
        let x = sine(440.0, 48_000, 0.5);
        let whole = resample(&x, 48_000, 22_050);
        for block in [1, 7, 512, 4096] {
            let mut out = Vec::new();
            let mut r = StreamResampler::new(48_000, 22_050);
            x.chunks(block).for_each(|c| r.push(c, &mut out));
            r.finish(&mut out);
            out.truncate(whole.len());
            assert_eq!(out, whole, "block {block}");
        }
    }

    #[test]
    fn keeps_timing_and_frequency() {
        let x = sine(440.0, 44_100, 1.0);
        let y = resample(&x, 44_100, 22_050);
        let expect = sine(440.0, 22_050, 1.0);
        assert_eq!(y.len(), expect.len());
        // Compare away from the edges: same phase means no delay was left in.
        let err = y[2000..20000]
            .iter()
            .zip(&expect[2000..20000])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(err < 0.02, "max error {err}");
    }
}
