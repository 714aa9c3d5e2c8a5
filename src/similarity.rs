//! How live and reference frames are compared: the classical features (chroma + onsets), or the
//! learned similarity of seed 000 (a Siamese CNN's embeddings, [`crate::nn::embed`]). One value
//! of [`Similarity`] builds everything that must agree: the reference's frames, the follower's
//! frames and cost, and the offline aligner's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustysynth::SoundFont;

use crate::align::cost::{ClassicalCost, HybridCost, LearnedCost, LocalCost};
use crate::features::{self, Features, SAMPLE_RATE};
use crate::follow::{Follower, Method};
use crate::nn::embed::{Embedder, Representation, LIVE_SALIENCE};
use crate::nn::{Device, RuntimeError};
use crate::reference::Reference;
use crate::render::RenderError;
use crate::score::Score;

/// Names the learned model to use instead of the default.
pub const MODEL_ENV: &str = "SEGNO_MODEL";
/// Chooses the similarity where there is no command line (the plugin): auto, classical, learned.
pub const CHOICE_ENV: &str = "SEGNO_SIMILARITY";
/// What Segno uses unless told otherwise: the hybrid when the model and ONNX Runtime are there.
pub const DEFAULT_CHOICE: &str = "auto";
/// Weight of the learned distance in the hybrid cost, chosen on a tenth of the dev set
/// (0.3 and 1.0 tried); BENCHMARKS.md, Table II. Alone, the learned distance follows worse than the
/// classical features; added to them, it follows better at every threshold online.
pub const HYBRID_WEIGHT: f32 = 0.3;
/// The model used when none is named (models/scnn_semitone.onnx).
pub const DEFAULT_MODEL: &str = "scnn_semitone.onnx";
/// The model offline alignment prefers when none is named: the salience model (seed 000's
/// SCNN_Sal), whose hybrid aligns better than the classical cost at every threshold (BENCHMARKS.md)
/// but cannot follow live.
pub const OFFLINE_MODEL: &str = "scnn_salience.onnx";

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
        /// Add the classical cost, the learned distance weighted by this ([`HybridCost`]).
        hybrid: Option<f32>,
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
        Self::learned_with(model, device, binary, None)
    }

    pub fn learned_with(
        model: &Path,
        device: Device,
        binary: bool,
        hybrid: Option<f32>,
    ) -> Result<Self, RuntimeError> {
        let e = Embedder::load(model, device, 1)?;
        let name = model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let what = if hybrid.is_some() {
            "classical features + learned similarity"
        } else {
            "learned similarity"
        };
        let description = format!(
            "{what} ({name}, {:?} input) on {}",
            e.representation,
            e.model().describe()
        );
        Ok(Self::Learned {
            model: model.to_owned(),
            device: e.model().device,
            binary,
            hybrid,
            description,
        })
    }

    /// The hybrid with the default model if it and ONNX Runtime are found, else the classical
    /// features with the reason. `extra_dirs` are searched first (a plugin's folder).
    pub fn auto(device: Device, extra_dirs: &[PathBuf]) -> Self {
        let Some(model) = find_default_model(extra_dirs) else {
            return Self::Classical { note: Some(format!("no learned model found ({DEFAULT_MODEL}); set {MODEL_ENV} or run `cargo xtask models`")) };
        };
        Self::learned_with(&model, device, false, Some(HYBRID_WEIGHT)).unwrap_or_else(|e| {
            Self::Classical {
                note: Some(e.to_string()),
            }
        })
    }

    /// `choice` is `auto` (the hybrid when the model and ONNX Runtime are found, else classical),
    /// `hybrid` (classical + learned), `learned` (learned alone) or `classical`; `model`
    /// overrides the default model.
    pub fn choose(
        choice: &str,
        model: Option<&Path>,
        device: Device,
        extra_dirs: &[PathBuf],
    ) -> Result<Self, String> {
        let named = || {
            let model = model
                .map(Path::to_owned)
                .or_else(|| find_default_model(extra_dirs));
            model.ok_or_else(|| format!("no learned model found ({DEFAULT_MODEL}): name one, set {MODEL_ENV}, or run `cargo xtask models`"))
        };
        match choice {
            "classical" => Ok(Self::classical()),
            "auto" => Ok(match model {
                Some(m) => Self::learned_with(m, device, false, Some(HYBRID_WEIGHT))
                    .unwrap_or_else(|e| Self::Classical {
                        note: Some(e.to_string()),
                    }),
                None => Self::auto(device, extra_dirs),
            }),
            "hybrid" => Self::learned_with(&named()?, device, false, Some(HYBRID_WEIGHT))
                .map_err(|e| e.to_string()),
            "learned" => Self::learned(&named()?, device, false).map_err(|e| e.to_string()),
            other => Err(format!(
                "unknown similarity '{other}': use auto, hybrid, learned or classical"
            )),
        }
    }

    /// The choice of `$SEGNO_SIMILARITY` (default [`DEFAULT_CHOICE`]) on `$SEGNO_DEVICE`; what
    /// cannot be had falls back to the classical features with the reason.
    /// As [`choose`](Self::choose), for offline alignment: `auto` with no model named (here or in
    /// `$SEGNO_MODEL`) prefers the salience model's hybrid when it and basic-pitch's model are
    /// found, and otherwise chooses as for following.
    pub fn choose_offline(
        choice: &str,
        model: Option<&Path>,
        device: Device,
        extra_dirs: &[PathBuf],
    ) -> Result<Self, String> {
        let unnamed = model.is_none() && std::env::var_os(MODEL_ENV).is_none();
        if choice == "auto" && unnamed {
            let salience = find_model(extra_dirs, OFFLINE_MODEL)
                .and_then(|m| Self::learned_with(&m, device, false, Some(HYBRID_WEIGHT)).ok());
            if let Some(s) = salience {
                return Ok(s);
            }
        }
        Self::choose(choice, model, device, extra_dirs)
    }

    pub fn from_env(extra_dirs: &[PathBuf]) -> Self {
        let choice = std::env::var(CHOICE_ENV).unwrap_or_else(|_| DEFAULT_CHOICE.into());
        let device = Device::from_env().unwrap_or_default();
        Self::choose(&choice, None, device, extra_dirs)
            .unwrap_or_else(|e| Self::Classical { note: Some(e) })
    }

    /// One line for logs and the editor.
    pub fn describe(&self) -> String {
        match self {
            Self::Classical { note: None } => "classical features (chroma + onsets)".into(),
            Self::Classical { note: Some(n) } => {
                format!("classical features (chroma + onsets): {n}")
            }
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
            Self::Learned {
                hybrid: Some(w), ..
            } => Arc::new(HybridCost {
                classical: if offline {
                    ClassicalCost::OFFLINE
                } else {
                    ClassicalCost::default()
                },
                learned_weight: *w,
            }),
            Self::Learned { binary, .. } => Arc::new(LearnedCost { binary: *binary }),
        }
    }

    /// The reference for `score` rendered with `font`, with this similarity's frames.
    pub fn reference(
        &self,
        score: Score,
        font: &Arc<SoundFont>,
    ) -> Result<Reference, SimilarityError> {
        self.frame_maker()?.reference(score, font)
    }

    /// One maker of this similarity's frames for whole signals: a score's reference and the
    /// recordings aligned to it share its model sessions.
    pub fn frame_maker(&self) -> Result<FrameMaker, RuntimeError> {
        self.embedder().map(FrameMaker)
    }

    /// A follower for a reference made by [`reference`](Self::reference).
    pub fn follower(
        &self,
        reference: Arc<Reference>,
        input_rate: u32,
        method: Method,
    ) -> Result<Follower, RuntimeError> {
        let embedder = self.embedder()?;
        if let Some(e) = embedder
            .as_ref()
            .filter(|e| e.representation == Representation::Salience)
        {
            return Err(RuntimeError::Model {
                path: e.model().path.clone(),
                message: LIVE_SALIENCE.into(),
            });
        }
        let follower = Follower::with_method(reference, input_rate, self.cost(false), method);
        Ok(match embedder {
            Some(e) => follower.with_embedder(e),
            None => follower,
        })
    }
}

/// Frames of whole signals (references, recordings offline) with one embedder for all of them, so
/// an alignment creates its model sessions (basic-pitch's too) once, not once per signal.
pub struct FrameMaker(Option<Embedder>);

impl FrameMaker {
    /// The reference for `score` rendered with `font`.
    pub fn reference(
        &mut self,
        score: Score,
        font: &Arc<SoundFont>,
    ) -> Result<Reference, SimilarityError> {
        match &mut self.0 {
            None => Ok(Reference::render(score, font)?),
            Some(e) => {
                let audio = Reference::render_audio(&score, font)?;
                Ok(Reference::from_audio_learned(score, &audio, e)?)
            }
        }
    }

    /// Frames of a whole recording at the internal rate, for the offline aligner.
    pub fn frames(&mut self, audio: &[f32]) -> Result<Features, RuntimeError> {
        match &mut self.0 {
            None => Ok(features::extract(audio, SAMPLE_RATE)),
            Some(e) => e.frames_of(audio),
        }
    }
}

/// `$SEGNO_MODEL`, else the default model in `extra_dirs`, beside the executable (`models/`), or in
/// this repository's `models/`.
pub fn find_default_model(extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(MODEL_ENV) {
        return Some(PathBuf::from(p));
    }
    find_model(extra_dirs, DEFAULT_MODEL)
}

/// The model file `name` in `extra_dirs`, beside the executable (`models/`), or in this
/// repository's `models/`.
fn find_model(extra_dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra_dirs.to_vec();
    if let Some(exe_dir) = crate::nn::runtime::executable_dir() {
        dirs.push(exe_dir.join("models"));
        dirs.push(exe_dir.clone());
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}
