//! Learned frame embeddings (seed 000's Siamese CNN branch, trained by `models/train`): a causal
//! patch of the last few frames of one input representation in, a short vector out, whose
//! Euclidean distance to another is the DTW local cost.
//!
//! Frames are extended, not replaced: a frame becomes the classical features (which the follower
//! still needs to hear attacks) followed by the embedding, so every aligner and cost works on one
//! kind of frame and [`crate::align::cost::LearnedCost`] reads the part it needs.

use std::collections::VecDeque;
use std::path::Path;

use crate::features::semitone::BANDS;
use crate::features::{Features, CHROMA_DIM, DIM};
use crate::nn::runtime::{Device, Model, RuntimeError};

/// Frames per patch (models/train/model.py CONTEXT).
pub const CONTEXT: usize = 8;
/// Reference frames embedded per model call.
const BATCH: usize = 256;

/// Which frames the model reads, told by the size of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// The log-compressed 88-band semitone spectrogram.
    Semitone,
    Chroma,
}

impl Representation {
    pub fn bands(self) -> usize {
        match self {
            Self::Semitone => BANDS,
            Self::Chroma => CHROMA_DIM,
        }
    }

    /// This representation of a whole sequence (frames × bands, row-major), from its classical
    /// frames and their semitone bands (`features::extract_with_semitones`).
    pub fn of_sequence(self, classical: &Features, semitones: Vec<f32>) -> Vec<f32> {
        match self {
            Self::Semitone => semitones,
            Self::Chroma => chroma_of(classical),
        }
    }

    /// This representation of one frame, from the classical frame and its semitone bands.
    fn select<'a>(self, classical: &'a [f32], semitones: &'a [f32; BANDS]) -> &'a [f32] {
        match self {
            Self::Semitone => semitones,
            Self::Chroma => &classical[..CHROMA_DIM],
        }
    }
}

pub struct Embedder {
    model: Model,
    pub representation: Representation,
    pub dim: usize,
    /// The last `CONTEXT` frames of the representation, oldest first.
    history: VecDeque<Vec<f32>>,
    patch: Vec<f32>,
}

impl Embedder {
    /// Loads a model exported by `models/train/train.py`; `threads` as [`Model::load_with_threads`].
    pub fn load(path: &Path, device: Device, threads: usize) -> Result<Self, RuntimeError> {
        let mut model = Model::load_with_threads(path, device, threads)?;
        let bad = |message: String| RuntimeError::Model {
            path: path.to_owned(),
            message,
        };
        let representation = match model.input_shape()[..] {
            [_, Some(1), Some(BANDS), Some(CONTEXT)] => Representation::Semitone,
            [_, Some(1), Some(CHROMA_DIM), Some(CONTEXT)] => Representation::Chroma,
            ref other => {
                return Err(bad(format!(
                    "input shape {other:?} is not (batch, 1, 88 or 12, {CONTEXT})"
                )))
            }
        };
        let (shape, _) = model.run(
            &[1, 1, representation.bands(), CONTEXT],
            &vec![0.0; representation.bands() * CONTEXT],
        )?;
        let dim = match shape[..] {
            [1, d] if d > 0 => d,
            ref other => return Err(bad(format!("output shape {other:?} is not (batch, dim)"))),
        };
        let mut e = Self {
            model,
            representation,
            dim,
            history: VecDeque::with_capacity(CONTEXT),
            patch: Vec::new(),
        };
        e.reset();
        Ok(e)
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Forgets the past frames (a new stream starts with silence before it, as in training).
    pub fn reset(&mut self) {
        self.history.clear();
        self.history
            .extend((0..CONTEXT).map(|_| vec![0.0; self.representation.bands()]));
    }

    /// The extended frame for the next live frame: `classical` followed by the embedding.
    pub fn extend(
        &mut self,
        classical: &[f32],
        semitones: &[f32; BANDS],
        out: &mut Vec<f32>,
    ) -> Result<(), RuntimeError> {
        self.history.pop_front();
        self.history
            .push_back(self.representation.select(classical, semitones).to_vec());
        self.patch.clear();
        transpose_into(
            self.history.iter().map(Vec::as_slice),
            self.representation.bands(),
            &mut self.patch,
        );
        let (_, embedding) = self
            .model
            .run(&[1, 1, self.representation.bands(), CONTEXT], &self.patch)?;
        out.clear();
        out.extend_from_slice(classical);
        out.extend_from_slice(&embedding);
        Ok(())
    }

    /// Extended frames for a whole sequence (a reference, or a recording offline), in batches.
    /// `representation` holds the frames' chosen representation, row-major.
    pub fn extend_all(
        &mut self,
        classical: &Features,
        representation: &[f32],
    ) -> Result<Features, RuntimeError> {
        let bands = self.representation.bands();
        let n = classical.len();
        debug_assert_eq!(representation.len(), n * bands);
        let padded: Vec<f32> = std::iter::repeat_n(0.0, (CONTEXT - 1) * bands)
            .chain(representation.iter().copied())
            .collect();
        let mut out = Features::new(DIM + self.dim);
        let mut patches = Vec::with_capacity(BATCH * bands * CONTEXT);
        for start in (0..n).step_by(BATCH) {
            let end = (start + BATCH).min(n);
            patches.clear();
            for k in start..end {
                let window = &padded[k * bands..(k + CONTEXT) * bands];
                transpose_into(window.chunks_exact(bands), bands, &mut patches);
            }
            let (_, embeddings) = self
                .model
                .run(&[end - start, 1, bands, CONTEXT], &patches)?;
            for (k, e) in (start..end).zip(embeddings.chunks_exact(self.dim)) {
                out.data.extend_from_slice(classical.frame(k));
                out.data.extend_from_slice(e);
            }
        }
        Ok(out)
    }
}

/// The chroma part of every classical frame, row-major.
pub fn chroma_of(classical: &Features) -> Vec<f32> {
    (0..classical.len())
        .flat_map(|k| classical.frame(k)[..CHROMA_DIM].to_vec())
        .collect()
}

/// Appends CONTEXT frames of `bands` values as a (bands, CONTEXT) patch: band-major, time last.
fn transpose_into<'a>(frames: impl Iterator<Item = &'a [f32]>, bands: usize, out: &mut Vec<f32>) {
    let start = out.len();
    out.resize(start + bands * CONTEXT, 0.0);
    for (t, f) in frames.enumerate() {
        for (b, &x) in f.iter().enumerate() {
            out[start + b * CONTEXT + t] = x;
        }
    }
}
