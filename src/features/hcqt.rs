//! The harmonic constant-Q transform (HCQT) that seed 004's deep chroma reads (after Bittner et
//! al.'s deep salience): for each harmonic h of [`HARMONICS`], a constant-Q spectrum of [`BINS`]
//! bins a third of a semitone apart starting at h × [`F_MIN_HZ`], so that harmonically related
//! bins sit on top of each other across the harmonics. [`HCQT_RATE_HZ`] frames a second.
//!
//! The definition is Segno's own and is written twice, here and in `models/train/hcqt.py` (the
//! training code); `tests/model_parity.rs` checks the two agree within 1e-4. Each bin is the
//! magnitude of the signal's inner product with a Hann-windowed complex sinusoid of Q cycles
//! (Brown's constant-Q kernel), computed on the signal decimated by 2 as many times as the bin's
//! frequency allows: low bins need windows of seconds, and at the full rate they would cost a
//! hundred times more. Magnitudes are log-compressed, then each frame (all harmonics together)
//! is scaled to unit length, as seed 004 normalises its input columns, so that loudness drops out.

use std::f64::consts::PI;

use super::SAMPLE_RATE;

/// Harmonics stacked (Bittner et al.: a subharmonic and the first five).
pub const HARMONICS: [f64; 6] = [0.5, 1.0, 2.0, 3.0, 4.0, 5.0];
/// Bins per harmonic: six octaves at three bins a semitone.
pub const BINS: usize = 216;
pub const BINS_PER_SEMITONE: usize = 3;
/// C1 (MIDI 24). Bin `3k + 1` of the first harmonic is MIDI `24 + k` exactly; bins `3k` and
/// `3k + 2` lie a third of a semitone below and above it.
pub const F_MIN_HZ: f64 = 32.703_195_662_574_83;
pub const LOWEST_PITCH: u8 = 24;
/// Frames a second (seed 004's rate), centred on samples `m · HOP`.
pub const HCQT_RATE_HZ: f64 = 25.0;
pub const HOP: usize = (SAMPLE_RATE as f64 / HCQT_RATE_HZ) as usize;
/// Values per frame: harmonics × bins, harmonic-major.
pub const FRAME: usize = HARMONICS.len() * BINS;

/// Cycles in a bin's window: the Q for a third of a semitone, 1 / (2^(1/36) − 1).
fn q() -> f64 {
    1.0 / ((2f64).powf(1.0 / (12.0 * BINS_PER_SEMITONE as f64)) - 1.0)
}
/// Magnitudes are compressed as ln(1 + γ·|X|).
const GAMMA: f32 = 100.0;
/// Frames below this norm (after compression) are silence and keep their small norm.
const NORM_FLOOR: f32 = 1e-3;
/// A bin is computed at the deepest decimation where it lies below this fraction of the rate.
const MAX_RELATIVE_FREQUENCY: f64 = 0.2;
const MAX_LEVEL: usize = 8;
/// The half-band low-pass used before each halving: a Hann-windowed sinc of this many taps.
const TAPS: usize = 31;

/// One bin's kernel at its decimation level.
struct Kernel {
    level: usize,
    /// Re and im parts, window and 1/Σwindow included.
    re: Vec<f32>,
    im: Vec<f32>,
}

/// The HCQT of whole signals at [`SAMPLE_RATE`]; its kernels are made once.
pub struct Hcqt {
    kernels: Vec<Kernel>,
    lowpass: [f32; TAPS],
}

impl Default for Hcqt {
    fn default() -> Self {
        Self::new()
    }
}

impl Hcqt {
    pub fn new() -> Self {
        let kernels = HARMONICS
            .iter()
            .flat_map(|&h| (0..BINS).map(move |b| kernel(bin_frequency(h, b))))
            .collect();
        Self {
            kernels,
            lowpass: lowpass(),
        }
    }

    /// Frames of [`FRAME`] values (harmonic-major), one per [`HOP`] samples from sample 0.
    pub fn frames(&self, samples: &[f32]) -> Vec<f32> {
        let n_frames = samples.len().div_ceil(HOP);
        let mut out = vec![0f32; n_frames * FRAME];
        let deeper = self.halvings(samples);
        for (k, kernel) in self.kernels.iter().enumerate() {
            let x = match kernel.level {
                0 => samples,
                d => &deeper[d - 1],
            };
            for m in 0..n_frames {
                out[m * FRAME + k] = compress(magnitude(kernel, x, centre(m, kernel.level)));
            }
        }
        for frame in out.chunks_exact_mut(FRAME) {
            normalize(frame);
        }
        out
    }

    /// The signal's successive halvings, as deep as any kernel needs.
    fn halvings(&self, samples: &[f32]) -> Vec<Vec<f32>> {
        let deepest = self.kernels.iter().map(|k| k.level).max().unwrap_or(0);
        let mut levels: Vec<Vec<f32>> = Vec::with_capacity(deepest);
        for _ in 0..deepest {
            let next = halve(levels.last().map_or(samples, Vec::as_slice), &self.lowpass);
            levels.push(next);
        }
        levels
    }
}

/// Frequency of bin `b` of harmonic `h`.
pub fn bin_frequency(h: f64, b: usize) -> f64 {
    h * F_MIN_HZ * (2f64).powf((b as f64 - 1.0) / (12.0 * BINS_PER_SEMITONE as f64))
}

/// The pitch class of bin `b` (of any harmonic's own grid, counted from [`LOWEST_PITCH`]).
pub fn pitch_class(b: usize) -> usize {
    (usize::from(LOWEST_PITCH) + b / BINS_PER_SEMITONE) % 12
}

fn level_of(f: f64) -> usize {
    (0..=MAX_LEVEL)
        .rev()
        .find(|&d| f <= MAX_RELATIVE_FREQUENCY * f64::from(SAMPLE_RATE) / (1u64 << d) as f64)
        .unwrap_or(0)
}

fn kernel(f: f64) -> Kernel {
    let level = level_of(f);
    let rate = f64::from(SAMPLE_RATE) / (1u64 << level) as f64;
    let n = ((q() * rate / f).round() as usize).max(1);
    let window: Vec<f64> = (0..n)
        .map(|j| 0.5 - 0.5 * (2.0 * PI * (j as f64 + 0.5) / n as f64).cos())
        .collect();
    let sum: f64 = window.iter().sum();
    let centre = (n as f64 - 1.0) / 2.0;
    let phase = |j: usize| -2.0 * PI * f * (j as f64 - centre) / rate;
    Kernel {
        level,
        re: (0..n)
            .map(|j| (window[j] * phase(j).cos() / sum) as f32)
            .collect(),
        im: (0..n)
            .map(|j| (window[j] * phase(j).sin() / sum) as f32)
            .collect(),
    }
}

/// Hann-windowed sinc with its cut-off at a quarter of the rate, unit gain at 0 Hz.
fn lowpass() -> [f32; TAPS] {
    let half = (TAPS / 2) as f64;
    let raw: Vec<f64> = (0..TAPS)
        .map(|k| {
            let t = k as f64 - half;
            let sinc = if t == 0.0 {
                0.5
            } else {
                (PI * t / 2.0).sin() / (PI * t)
            };
            sinc * (0.5 + 0.5 * (PI * t / (half + 1.0)).cos())
        })
        .collect();
    let sum: f64 = raw.iter().sum();
    std::array::from_fn(|k| (raw[k] / sum) as f32)
}

/// Low-passes `x` and keeps every second sample: sample n of the result is centred on sample 2n.
fn halve(x: &[f32], lowpass: &[f32; TAPS]) -> Vec<f32> {
    let half = TAPS / 2;
    (0..x.len().div_ceil(2))
        .map(|n| {
            let centre = 2 * n;
            let mut acc = 0f64;
            for (k, &h) in lowpass.iter().enumerate() {
                if let Some(&v) = (centre + k).checked_sub(half).and_then(|i| x.get(i)) {
                    acc += f64::from(h) * f64::from(v);
                }
            }
            acc as f32
        })
        .collect()
}

/// The sample of decimation level `level` nearest to the centre of frame `m`.
fn centre(m: usize, level: usize) -> usize {
    let scale = 1usize << level;
    (m * HOP + scale / 2) / scale
}

/// |⟨x, kernel⟩| with the kernel centred on sample `centre` (zero beyond the signal).
fn magnitude(kernel: &Kernel, x: &[f32], centre: usize) -> f32 {
    let n = kernel.re.len();
    let start = centre as isize - (n / 2) as isize;
    let (from, to) = (start.max(0), (start + n as isize).min(x.len() as isize));
    if from >= to {
        return 0.0;
    }
    let skip = (from - start) as usize;
    let xs = &x[from as usize..to as usize];
    let (re, im) = (
        &kernel.re[skip..skip + xs.len()],
        &kernel.im[skip..skip + xs.len()],
    );
    let (mut a, mut b) = ([0f32; 8], [0f32; 8]);
    let mut chunks = xs
        .chunks_exact(8)
        .zip(re.chunks_exact(8).zip(im.chunks_exact(8)));
    for (x8, (r8, i8)) in chunks.by_ref() {
        for l in 0..8 {
            a[l] += x8[l] * r8[l];
            b[l] += x8[l] * i8[l];
        }
    }
    let tail = xs.len() / 8 * 8;
    let (mut sa, mut sb): (f32, f32) = (a.iter().sum(), b.iter().sum());
    for j in tail..xs.len() {
        sa += xs[j] * re[j];
        sb += xs[j] * im[j];
    }
    sa.hypot(sb)
}

fn compress(magnitude: f32) -> f32 {
    (GAMMA * magnitude).ln_1p()
}

fn normalize(frame: &mut [f32]) {
    let norm = frame
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(NORM_FLOOR);
    frame.iter_mut().for_each(|x| *x /= norm);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, seconds: f64) -> Vec<f32> {
        (0..(seconds * f64::from(SAMPLE_RATE)) as usize)
            .map(|i| (0.3 * (2.0 * PI * hz * i as f64 / f64::from(SAMPLE_RATE)).sin()) as f32)
            .collect()
    }

    fn peak_bin(frame: &[f32], harmonic: usize) -> usize {
        let bins = &frame[harmonic * BINS..(harmonic + 1) * BINS];
        (0..BINS)
            .max_by(|&a, &b| bins[a].total_cmp(&bins[b]))
            .expect("bins")
    }

    #[test]
    fn a_tone_peaks_at_its_pitch_in_every_harmonic_that_reaches_it() {
        // A3 (MIDI 57, 220 Hz): bin 3·(57 − 24) + 1 of the first harmonic.
        let h = Hcqt::new();
        let frames = h.frames(&tone(220.0, 3.0));
        assert_eq!(frames.len(), 75 * FRAME);
        let frame = &frames[40 * FRAME..41 * FRAME];
        assert_eq!(peak_bin(frame, 1), 100);
        assert_eq!(pitch_class(100), 9);
        // In the subharmonic's grid it sits an octave higher; in the second's, an octave lower.
        assert_eq!(peak_bin(frame, 0), 136);
        assert_eq!(peak_bin(frame, 2), 64);
        let norm: f32 = frame.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }

    #[test]
    fn low_tones_are_resolved_on_decimated_signals_too() {
        // E1 (MIDI 28, 41.2 Hz) is computed several halvings down.
        assert!(level_of(41.2) >= 5);
        let frames = Hcqt::new().frames(&tone(41.203, 6.0));
        let frame = &frames[75 * FRAME..76 * FRAME];
        assert_eq!(peak_bin(frame, 1), 3 * 4 + 1);
    }

    #[test]
    fn silence_stays_silent() {
        let frames = Hcqt::new().frames(&vec![0.0; 4410]);
        assert!(frames.iter().all(|&x| x == 0.0));
    }
}
