//! How live and reference frames are compared: the classical features (chroma + onsets), or the
//! learned similarity of seed 000 (a Siamese CNN's embeddings, [`crate::nn::embed`]). One value
//! of [`Similarity`] builds everything that must agree: the reference's frames, the follower's
//! frames and cost, and the offline aligner's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustysynth::SoundFont;

use crate::align::cost::{ClassicalCost, LearnedCost, LocalCost};
use crate::features::{self, Features, CHROMA_DIM, SAMPLE_RATE};
use crate::follow::{Follower, Method};
use crate::nn::embed::{Embedder, Representation};
use crate::nn::{Device, RuntimeError};
use crate::reference::Reference;
use crate::render::RenderError;
use crate::score::Score;

/// Names the learned model to use instead of the default.
pub const MODEL_ENV: &str = "SEGNO_MODEL";
/// The model used when none is named (models/scnn_semitone.onnx).
pub const DEFAULT_MODEL: &str = "scnn_semitone.onnx";

#[derive(Debug, Clone)]
pub enum Similarity {
    Classical {
        /// Why the learned similarity is not in use, when it was wanted.
        note: Option<String>,
    },
    Learned {
        model: PathBuf,
        device: Device,
        binary: bool,
        /// Model and device, as checked when this was made ("scnn_semitone on CPU").
        description: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SimilarityError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl Similarity {
    pub fn classical() -> Self {
        Self::Classical { note: None }
    }

    /// The learned similarity of `model` on `device`, checked by loading it once.
    pub fn learned(model: &Path, device: Device, binary: bool) -> Result<Self, RuntimeError> {
        let e = Embedder::load(model, device, 1)?;
        let name = model.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let description = format!("learned similarity ({name}, {:?} input) on {}", e.representation, e.model().describe());
        Ok(Self::Learned { model: model.to_owned(), device: e.model().device, binary, description })
    }

    /// The learned similarity with the default model if it and ONNX Runtime are found, else the
    /// classical features with the reason. `extra_dirs` are searched first (a plugin's folder).
    pub fn auto(device: Device, extra_dirs: &[PathBuf]) -> Self {
        let Some(model) = find_default_model(extra_dirs) else {
            return Self::Classical { note: Some(format!("no learned model found ({DEFAULT_MODEL}); set {MODEL_ENV} or run `cargo xtask models`")) };
        };
        Self::learned(&model, device, false).unwrap_or_else(|e| Self::Classical { note: Some(e.to_string()) })
    }

    /// One line for logs and the editor.
    pub fn describe(&self) -> String {
        match self {
            Self::Classical { note: None } => "classical features (chroma + onsets)".into(),
            Self::Classical { note: Some(n) } => format!("classical features (chroma + onsets): {n}"),
            Self::Learned { description, .. } => description.clone(),
        }
    }

    /// A fresh embedder for one stream, if this similarity has one.
    pub fn embedder(&self) -> Result<Option<Embedder>, RuntimeError> {
        match self {
            Self::Classical { .. } => Ok(None),
            // One core: the follower embeds one frame at a time, beside an audio host.
            Self::Learned { model, device, .. } => Embedder::load(model, *device, 1).map(Some),
        }
    }

    pub fn cost(&self, offline: bool) -> Arc<dyn LocalCost + Send> {
        match self {
            Self::Classical { .. } if offline => Arc::new(ClassicalCost::OFFLINE),
            Self::Classical { .. } => Arc::new(ClassicalCost::default()),
            Self::Learned { binary, .. } => Arc::new(LearnedCost { binary: *binary }),
        }
    }

    /// The reference for `score` rendered with `font`, with this similarity's frames.
    pub fn reference(&self, score: Score, font: &Arc<SoundFont>) -> Result<Reference, SimilarityError> {
        match self.embedder()? {
            None => Ok(Reference::render(score, font)?),
            Some(mut e) => {
                let audio = Reference::render_audio(&score, font)?;
                Ok(Reference::from_audio_learned(score, &audio, &mut e)?)
            }
        }
    }

    /// A follower for a reference made by [`reference`](Self::reference).
    pub fn follower(&self, reference: Arc<Reference>, input_rate: u32, method: Method) -> Result<Follower, RuntimeError> {
        let follower = Follower::with_method(reference, input_rate, self.cost(false), method);
        Ok(match self.embedder()? {
            Some(e) => follower.with_embedder(e),
            None => follower,
        })
    }

    /// Frames of a whole recording at the internal rate, for the offline aligner.
    pub fn frames(&self, audio: &[f32]) -> Result<Features, RuntimeError> {
        match self.embedder()? {
            None => Ok(features::extract(audio, SAMPLE_RATE)),
            Some(mut e) => {
                let (classical, semitones) = features::extract_with_semitones(audio, SAMPLE_RATE);
                let representation = match e.representation {
                    Representation::Semitone => semitones,
                    Representation::Chroma => (0..classical.len()).flat_map(|k| classical.frame(k)[..CHROMA_DIM].to_vec()).collect(),
                };
                e.extend_all(&classical, &representation)
            }
        }
    }
}

/// `$SEGNO_MODEL`, else the default model in `extra_dirs`, beside the executable (`models/`), or in
/// this repository's `models/`.
pub fn find_default_model(extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(MODEL_ENV) {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = extra_dirs.to_vec();
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_owned)) {
        dirs.push(exe_dir.join("models"));
        dirs.push(exe_dir.clone());
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    dirs.into_iter().map(|d| d.join(DEFAULT_MODEL)).find(|p| p.is_file())
}
