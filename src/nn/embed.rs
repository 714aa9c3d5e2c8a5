//! Learned frame embeddings (seed 000's Siamese CNN branch, trained by `models/train`): a causal
//! patch of the last few frames of one input representation in, a short vector out, whose
//! Euclidean distance to another is the DTW local cost.
//!
//! Frames are extended, not replaced: a frame becomes the classical features (which the follower
//! still needs to hear attacks) followed by the embedding, so every aligner and cost works on one
//! kind of frame and [`crate::align::cost::LearnedCost`] reads the part it needs.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::features::semitone::BANDS;
use crate::features::{self, Features, CHROMA_DIM, DIM, SAMPLE_RATE};
use crate::nn::runtime::{Device, Model, RuntimeError};
use crate::nn::salience::Salience;
use crate::resources::{Resources, SALIENCE_MODEL_ENV, SALIENCE_MODEL_FILE};

/// Frames per patch (models/train/model.py CONTEXT).
pub const CONTEXT: usize = 8;
/// Reference frames embedded per model call.
const BATCH: usize = 256;

/// Input name of models on pitch salience (models/train/train.py); the others' is `patch`.
pub const SALIENCE_INPUT: &str = "salience";

/// Which frames the model reads, told by the size (and, for salience, the name) of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// The log-compressed 88-band semitone spectrogram.
    Semitone,
    Chroma,
    /// 88 semitones of basic-pitch's pitch salience ([`crate::nn::salience`]); offline only.
    Salience,
}

impl Representation {
    pub fn bands(self) -> usize {
        match self {
            Self::Semitone | Self::Salience => BANDS,
            Self::Chroma => CHROMA_DIM,
        }
    }

    /// This representation of one frame, from the classical frame and its semitone bands.
    fn select<'a>(
        self,
        classical: &'a [f32],
        semitones: &'a [f32; BANDS],
    ) -> Result<&'a [f32], RuntimeError> {
        match self {
            Self::Semitone => Ok(semitones),
            Self::Chroma => Ok(&classical[..CHROMA_DIM]),
            Self::Salience => Err(RuntimeError::Run(LIVE_SALIENCE.into())),
        }
    }
}

/// Why a salience model cannot follow live.
pub const LIVE_SALIENCE: &str = "pitch salience (basic-pitch) looks about a second ahead and costs 30 ms per 2 s window: a salience model aligns recordings offline but cannot follow live; use scnn_semitone for following";

pub struct Embedder {
    model: Model,
    /// The salience front end, for a model on [`Representation::Salience`].
    salience: Option<Salience>,
    pub representation: Representation,
    pub dim: usize,
    /// The last `CONTEXT` frames of the representation, oldest first.
    history: VecDeque<Vec<f32>>,
    patch: Vec<f32>,
    embedding: Vec<f32>,
}

impl Embedder {
    /// Loads a model exported by `models/train/train.py`; `threads` as [`Model::load_with_threads`].
    pub fn load(path: &Path, device: Device, threads: usize) -> Result<Self, RuntimeError> {
        Self::load_with(path, device, threads, &Resources::default())
    }

    /// As [`load`](Self::load); a salience model's front end is looked for in `resources`.
    pub fn load_with(
        path: &Path,
        device: Device,
        threads: usize,
        resources: &Resources,
    ) -> Result<Self, RuntimeError> {
        let mut model = Model::load_with_threads(path, device, threads)?;
        let bad = |message: String| RuntimeError::Model {
            path: path.to_owned(),
            message,
        };
        let representation = match model.input_shape()[..] {
            [_, Some(1), Some(BANDS), Some(CONTEXT)] if model.input_name() == SALIENCE_INPUT => {
                Representation::Salience
            }
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
        model.bind(&[1, 1, representation.bands(), CONTEXT], &[1, dim])?;
        let salience = match representation {
            Representation::Salience => {
                let found = resources.salience_model(path.parent());
                let found = found.ok_or_else(|| bad(format!("a salience model needs basic-pitch's {SALIENCE_MODEL_FILE} (run `cargo xtask setup`, or set {SALIENCE_MODEL_ENV})")))?;
                Some(Salience::load(&found, device, threads)?)
            }
            _ => None,
        };
        let mut e = Self {
            model,
            salience,
            representation,
            dim,
            history: VecDeque::with_capacity(CONTEXT),
            patch: Vec::with_capacity(representation.bands() * CONTEXT),
            embedding: vec![0.0; dim],
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

    /// The extended frame for the next live frame: `classical` followed by the embedding. Runs
    /// the model on its preallocated input and output; the oldest frame's buffer is reused.
    pub fn extend(
        &mut self,
        classical: &[f32],
        semitones: &[f32; BANDS],
        out: &mut Vec<f32>,
    ) -> Result<(), RuntimeError> {
        let frame = self.representation.select(classical, semitones)?;
        let mut oldest = self.history.pop_front().expect("CONTEXT frames of history");
        oldest.copy_from_slice(frame);
        self.history.push_back(oldest);
        self.patch.clear();
        transpose_into(
            self.history.iter().map(Vec::as_slice),
            self.representation.bands(),
            &mut self.patch,
        );
        self.model.run_bound(&self.patch, &mut self.embedding)?;
        out.clear();
        out.extend_from_slice(classical);
        out.extend_from_slice(&self.embedding);
        Ok(())
    }

    /// Extended frames of a whole mono signal at the internal rate (a reference, or a recording
    /// offline), computed in batches.
    pub fn frames_of(&mut self, audio: &[f32]) -> Result<Features, RuntimeError> {
        Ok(self.frames_and_semitones_of(audio)?.0)
    }

    /// As [`frames_of`](Self::frames_of), also returning the audio's semitone spectrogram frames
    /// (what [`crate::locate::dual_stack`] reads).
    pub fn frames_and_semitones_of(
        &mut self,
        audio: &[f32],
    ) -> Result<(Features, Features), RuntimeError> {
        let (classical, semitones) = features::extract_with_semitones(audio, SAMPLE_RATE);
        let representation = match (self.representation, &mut self.salience) {
            (Representation::Semitone, _) => semitones.clone(),
            (Representation::Chroma, _) => chroma_of(&classical),
            (Representation::Salience, Some(s)) => s.frames(audio)?,
            (Representation::Salience, None) => unreachable!("loaded with the model"),
        };
        self.reset();
        let frames = self.extend_all(&classical, &representation)?;
        Ok((frames, Features::from_rows(BANDS, semitones)))
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

/// Embedders of one model, loaded once and lent out: a score's reference, the recordings aligned
/// to it and the follower that comes after take turns with the same model session instead of
/// loading their own. A lent embedder comes back when its [`PooledEmbedder`] is dropped.
pub struct EmbedderPool {
    model: PathBuf,
    device: Device,
    resources: Resources,
    idle: Mutex<Vec<Embedder>>,
}

impl EmbedderPool {
    /// A pool for `model` that starts with `first` (the embedder loaded to check the model).
    pub fn new(first: Embedder, resources: Resources) -> Arc<Self> {
        Arc::new(Self {
            model: first.model().path.clone(),
            device: first.model().device,
            resources,
            idle: Mutex::new(vec![first]),
        })
    }

    /// An idle embedder, or a newly loaded one when all are lent (one core each: see
    /// [`Model::load_with_threads`]).
    pub fn take(self: &Arc<Self>) -> Result<PooledEmbedder, RuntimeError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let embedder = match idle {
            Some(e) => e,
            None => Embedder::load_with(&self.model, self.device, 1, &self.resources)?,
        };
        Ok(PooledEmbedder {
            embedder: Some(embedder),
            pool: Some(self.clone()),
        })
    }

    /// Model sessions loaded and idle (for tests).
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// An embedder, lent by an [`EmbedderPool`] (or owned outright, from an [`Embedder`]).
pub struct PooledEmbedder {
    embedder: Option<Embedder>,
    pool: Option<Arc<EmbedderPool>>,
}

impl From<Embedder> for PooledEmbedder {
    fn from(e: Embedder) -> Self {
        Self {
            embedder: Some(e),
            pool: None,
        }
    }
}

impl std::ops::Deref for PooledEmbedder {
    type Target = Embedder;

    fn deref(&self) -> &Embedder {
        self.embedder.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for PooledEmbedder {
    fn deref_mut(&mut self) -> &mut Embedder {
        self.embedder.as_mut().expect("present until dropped")
    }
}

impl Drop for PooledEmbedder {
    fn drop(&mut self) {
        if let (Some(pool), Some(e)) = (&self.pool, self.embedder.take()) {
            pool.idle.lock().unwrap_or_else(|e| e.into_inner()).push(e);
        }
    }
}
