//! Frame features for alignment: semitone spectrogram, chroma and an onset feature.
//!
//! Frame parameters follow seed 000 (Agrawal & Dixon): 46 ms Hamming window, 23 ms hop, at
//! 22 050 Hz (1024 / 512 samples). Frame `k` is the window that *ends* at sample `k · hop`, so a
//! frame is complete the moment its time is reached: the live follower never waits for audio
//! from the future, and reference and live frames share the same convention, so the window
//! offset cancels out where the performance keeps the score's tempo; elsewhere times read off an
//! alignment path are taken at the windows' centres ([`FRAME_CENTRE_S`]).
//!
//! There is one extractor, [`FeatureExtractor`], fed block by block; offline extraction is the
//! same extractor fed the whole signal, so the two cannot disagree.

pub mod attack;
pub mod chroma;
pub mod hcqt;
pub mod onset;
pub mod semitone;
pub mod stft;

use crate::audio::StreamResampler;

pub const SAMPLE_RATE: u32 = 22_050;
pub const WINDOW: usize = 1024;
pub const HOP: usize = 512;
/// Seconds between frames.
pub const HOP_S: f64 = HOP as f64 / SAMPLE_RATE as f64;

/// Layout of a classical feature frame: chroma, then the semitone onset feature.
pub const CHROMA_DIM: usize = 12;
pub const ONSET_DIM: usize = semitone::BANDS;
pub const DIM: usize = CHROMA_DIM + ONSET_DIM;

/// Seconds from the centre of a frame's window to the frame's time (the window's end): where the
/// sound a frame describes lies, on average.
pub const FRAME_CENTRE_S: f64 = (WINDOW / 2) as f64 / SAMPLE_RATE as f64;

pub fn frame_time(index: usize) -> f64 {
    index as f64 * HOP_S
}

/// Index of the frame at (or just after) `seconds`.
pub fn frame_at(seconds: f64) -> usize {
    (seconds.max(0.0) / HOP_S).round() as usize
}

/// A sequence of fixed-size feature frames, stored contiguously.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub dim: usize,
    pub data: Vec<f32>,
}

impl Features {
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            data: Vec::new(),
        }
    }

    /// Frames of `dim` values each, from their values row after row.
    pub fn from_rows(dim: usize, data: Vec<f32>) -> Self {
        debug_assert_eq!(data.len() % dim.max(1), 0);
        Self { dim, data }
    }

    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn frame(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub fn push(&mut self, frame: &[f32]) {
        debug_assert_eq!(frame.len(), self.dim);
        self.data.extend_from_slice(frame);
    }

    /// Averages groups of `factor` frames (the last group may be shorter): a coarser time scale
    /// for multiscale alignment.
    pub fn downsample(&self, factor: usize) -> Self {
        Self::averaged(self.dim, self.len(), factor, |i| self.frame(i))
    }

    /// Groups of `factor` of the `len` frames `frame` gives, each averaged (the last group may be
    /// shorter): a coarser time scale of a sequence that need not be stored.
    pub fn averaged<'a>(
        dim: usize,
        len: usize,
        factor: usize,
        frame: impl Fn(usize) -> &'a [f32],
    ) -> Self {
        let mut out = Self::new(dim);
        let mut acc = vec![0f32; dim];
        for start in (0..len).step_by(factor.max(1)) {
            acc.iter_mut().for_each(|a| *a = 0.0);
            let end = (start + factor.max(1)).min(len);
            for i in start..end {
                acc.iter_mut().zip(frame(i)).for_each(|(a, x)| *a += x);
            }
            acc.iter_mut().for_each(|a| *a /= (end - start) as f32);
            out.push(&acc);
        }
        out
    }
}

/// Streaming extractor: audio at any rate in, classical feature frames out.
pub struct FeatureExtractor {
    resampler: StreamResampler,
    resampled: Vec<f32>,
    framer: stft::Framer,
    spectrum: stft::PowerSpectrum,
    bands: semitone::SemitoneFilterbank,
    onset: onset::OnsetFeature,
    semitones: [f32; semitone::BANDS],
    frame: [f32; DIM],
    /// The fine analysis between frames, when asked for ([`with_attacks`](Self::with_attacks)).
    fine: Option<attack::FineBands>,
}

/// What the extractor hands on, in the order of the audio.
pub enum Extracted<'a> {
    /// A feature frame and its compressed semitone spectrogram.
    Frame(&'a [f32], &'a [f32; semitone::BANDS]),
    /// A hop of the fine analysis: its bands and the previous hop's.
    Hop(&'a [f32; semitone::BANDS], &'a [f32; semitone::BANDS]),
}

impl FeatureExtractor {
    pub fn new(input_rate: u32) -> Self {
        Self {
            resampler: StreamResampler::new(input_rate, SAMPLE_RATE),
            resampled: Vec::with_capacity(8192),
            framer: stft::Framer::new(WINDOW, HOP),
            spectrum: stft::PowerSpectrum::new(WINDOW),
            bands: semitone::SemitoneFilterbank::new(WINDOW, SAMPLE_RATE),
            onset: onset::OnsetFeature::new(),
            semitones: [0.0; semitone::BANDS],
            frame: [0.0; DIM],
            fine: None,
        }
    }

    /// This extractor also analyses the audio between frames ([`attack`]), handing on
    /// [`Extracted::Hop`]s among the frames.
    pub fn with_attacks(mut self) -> Self {
        self.fine = Some(attack::FineBands::new());
        self
    }

    /// How long after its end time a frame can be complete, because of resampling (0 at the
    /// internal rate).
    pub fn latency_s(&self) -> f64 {
        self.resampler.latency_s()
    }

    /// Input samples so far that were NaN or infinite and were taken as silence.
    pub fn non_finite_samples(&self) -> u64 {
        self.resampler.non_finite()
    }

    /// Feeds a block of mono samples; every completed frame is passed to `on_frame`.
    pub fn push(&mut self, block: &[f32], mut on_frame: impl FnMut(&[f32])) {
        self.push_with_semitones(block, |frame, _| on_frame(frame));
    }

    /// Flushes the resampler at the end of a signal.
    pub fn finish(&mut self, mut on_frame: impl FnMut(&[f32])) {
        self.finish_with_semitones(|frame, _| on_frame(frame));
    }

    /// As [`push`](Self::push), also passing each frame's compressed semitone spectrogram (the
    /// input of the learned similarity).
    pub fn push_with_semitones(
        &mut self,
        block: &[f32],
        on_frame: impl FnMut(&[f32], &[f32; semitone::BANDS]),
    ) {
        self.push_extracted(block, frames_only(on_frame));
    }

    pub fn finish_with_semitones(&mut self, on_frame: impl FnMut(&[f32], &[f32; semitone::BANDS])) {
        self.resampled.clear();
        self.resampler.finish(&mut self.resampled);
        self.consume(&mut frames_only(on_frame));
    }

    /// Feeds a block; frames and (with [`with_attacks`](Self::with_attacks)) fine hops are handed
    /// on in the order their windows end.
    pub fn push_extracted(&mut self, block: &[f32], mut on: impl FnMut(Extracted)) {
        self.resampled.clear();
        self.resampler.push(block, &mut self.resampled);
        self.consume(&mut on);
    }

    fn consume(&mut self, on: &mut impl FnMut(Extracted)) {
        let Self {
            resampled,
            framer,
            spectrum,
            bands,
            onset,
            semitones,
            frame,
            fine,
            ..
        } = self;
        let mut frames = |piece: &[f32], on: &mut dyn FnMut(Extracted)| {
            framer.push(piece, |window| {
                let power = spectrum.compute(window);
                bands.apply(power, semitones);
                let (c, o) = frame.split_at_mut(CHROMA_DIM);
                chroma::from_semitones(semitones, c.try_into().expect("chroma size"));
                semitone::compress(semitones);
                onset.compute(semitones, o);
                on(Extracted::Frame(&frame[..], semitones));
            })
        };
        let Some(fine) = fine else {
            return frames(resampled, on);
        };
        // In pieces of a hop, so that frames and hops come in the order their windows end.
        for piece in resampled.chunks(attack::FINE_HOP) {
            frames(piece, on);
            fine.push(piece, |now, previous| on(Extracted::Hop(now, previous)));
        }
    }
}

/// Passes on the frames of what the extractor hands on, leaving out the fine hops.
fn frames_only(mut on_frame: impl FnMut(&[f32], &[f32; semitone::BANDS])) -> impl FnMut(Extracted) {
    move |e| {
        if let Extracted::Frame(frame, semitones) = e {
            on_frame(frame, semitones)
        }
    }
}

/// A whole signal is fed to the extractor in pieces of this many samples: fed at once, the
/// resampler and the framer would each hold a copy of it.
const WHOLE_SIGNAL_PIECE: usize = 1 << 16;

/// Features of a whole mono signal, with each frame's compressed semitone spectrogram (frames ×
/// 88, row-major): the input of the learned similarity.
pub fn extract_with_semitones(samples: &[f32], sample_rate: u32) -> (Features, Vec<f32>) {
    let frames = expected_frames(samples.len(), sample_rate);
    let mut out = Features::from_rows(DIM, Vec::with_capacity(frames * DIM));
    let mut bands = Vec::with_capacity(frames * semitone::BANDS);
    let mut ex = FeatureExtractor::new(sample_rate);
    let mut take = |f: &[f32], s: &[f32; semitone::BANDS]| {
        out.push(f);
        bands.extend_from_slice(s);
    };
    for piece in samples.chunks(WHOLE_SIGNAL_PIECE) {
        ex.push_with_semitones(piece, &mut take);
    }
    ex.finish_with_semitones(&mut take);
    (out, bands)
}

/// Features of a whole mono signal at `sample_rate`. For input at the internal rate, the number of
/// frames is `1 + len / HOP`; resampled input may yield a frame more.
pub fn extract(samples: &[f32], sample_rate: u32) -> Features {
    let frames = expected_frames(samples.len(), sample_rate);
    let mut out = Features::from_rows(DIM, Vec::with_capacity(frames * DIM));
    let mut ex = FeatureExtractor::new(sample_rate);
    for piece in samples.chunks(WHOLE_SIGNAL_PIECE) {
        ex.push(piece, |f| out.push(f));
    }
    ex.finish(|f| out.push(f));
    out
}

/// Frames of a whole signal of `len` samples at `sample_rate`, give or take one.
fn expected_frames(len: usize, sample_rate: u32) -> usize {
    let internal = len as u64 * u64::from(SAMPLE_RATE) / u64::from(sample_rate.max(1));
    internal as usize / HOP + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise_music(n: usize) -> Vec<f32> {
        // Deterministic mixture of tones that change every 0.2 s, with a noise floor.
        let mut state = 12345u64;
        (0..n)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.01;
                let seg = i / 4410;
                let f = 220.0 * 2f64.powf((seg % 12) as f64 / 12.0);
                (0.3 * (2.0 * std::f64::consts::PI * f * i as f64 / 22050.0).sin()) as f32 + noise
            })
            .collect()
    }

    #[test]
    fn streaming_equals_offline_for_any_block_size() {
        for rate in [SAMPLE_RATE, 44_100, 48_000] {
            let x = noise_music(rate as usize * 2);
            let offline = extract(&x, rate);
            assert!(offline.len() > 80);
            for block in [1, 2, 7, 64, 511, 512, 1000, 4096, 8192] {
                let mut streamed = Features::new(DIM);
                let mut ex = FeatureExtractor::new(rate);
                for c in x.chunks(block) {
                    ex.push(c, |f| streamed.push(f));
                }
                ex.finish(|f| streamed.push(f));
                assert_eq!(streamed, offline, "rate {rate}, block {block}");
            }
        }
    }

    #[test]
    fn frame_count_and_times() {
        let f = extract(&vec![0.0; 5120], SAMPLE_RATE);
        assert_eq!(f.len(), 11);
        assert!((frame_time(2) - 0.046_44).abs() < 1e-4);
        assert_eq!(frame_at(frame_time(37)), 37);
    }
}
