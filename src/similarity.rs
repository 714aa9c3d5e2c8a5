//! How live and reference frames are compared: the classical features (chroma + onsets), or the
//! learned similarity of seed 000 (a Siamese CNN's embeddings, [`crate::nn::embed`]), or both.
//!
//! The choice is a [`Similarity`], by one name everywhere: `--similarity` on the command line,
//! `SEGNO_SIMILARITY`, the plugin's saved analysis and the editor's menu. A [`SimilarityPlanner`]
//! turns a choice into a [`SimilarityPlan`] for a [`Task`] (following or aligning): it finds and
//! loads the model once, falls back where `auto` allows, and refuses what cannot work. The plan
//! then builds everything that must agree: the reference's frames, the follower and its cost,
//! and the offline aligner's cost.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use rustysynth::SoundFont;

use crate::align::cost::{ChromaCost, ClassicalCost, HybridCost, LearnedCost, LocalCost};
use crate::features::{self, Features, SAMPLE_RATE};
use crate::follow::{Follower, Method};
use crate::nn::embed::{Embedder, EmbedderPool, PooledEmbedder, Representation, LIVE_SALIENCE};
use crate::nn::{Device, RuntimeError};
use crate::reference::Reference;
use crate::render::RenderError;
use crate::resources::{self, Resources, MODEL_ENV, SIMILARITY_ENV};
use crate::score::Score;

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

/// How frames are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Similarity {
    /// The hybrid when a model and ONNX Runtime are found (for alignment, the salience model's
    /// first), else the classical features, saying why.
    #[default]
    Auto,
    /// Classical features plus [`HYBRID_WEIGHT`] × the learned distance.
    Hybrid,
    /// The learned distance alone (seed 000's distance matrix).
    Learned,
    /// Seed 000's binary matrix: 0 where the network calls two frames a match, else 1.
    LearnedBinary,
    /// Chroma and onsets.
    Classical,
    /// Chroma alone: the plain "DTW on chroma" baseline of seed 000's Table II.
    Chroma,
}

impl Similarity {
    pub const ALL: [Self; 6] = [
        Self::Auto,
        Self::Hybrid,
        Self::Learned,
        Self::LearnedBinary,
        Self::Classical,
        Self::Chroma,
    ];
    /// The choices offered to a musician (the editor's menu); the others are benchmark baselines.
    pub const FOR_MUSICIANS: [Self; 4] = [Self::Auto, Self::Hybrid, Self::Learned, Self::Classical];

    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Hybrid => "hybrid",
            Self::Learned => "learned",
            Self::LearnedBinary => "learned-binary",
            Self::Classical => "classical",
            Self::Chroma => "chroma",
        }
    }

    /// `$SEGNO_SIMILARITY`, if set.
    pub fn from_env() -> Result<Option<Self>, SimilarityError> {
        resources::setting(SIMILARITY_ENV)
            .map(|v| v.parse())
            .transpose()
    }

    fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

impl fmt::Display for Similarity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Similarity {
    type Err = SimilarityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| SimilarityError::Unknown(s.to_owned()))
    }
}

/// What the frames are compared for: it decides which model `auto` prefers, what is refused
/// (salience cannot follow live) and the cost's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Task {
    /// Following live, with this online aligner.
    Follow(Method),
    /// Aligning a whole recording offline.
    Align,
}

#[derive(Debug, thiserror::Error)]
pub enum SimilarityError {
    #[error("unknown similarity '{0}': use {names}", names = Similarity::names())]
    Unknown(String),
    #[error("no learned model found ({DEFAULT_MODEL}): name one, set {MODEL_ENV}, or run `cargo xtask models`")]
    NoModel,
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Makes plans: where models are found, which device they run on, and the hybrid's weight.
#[derive(Debug, Clone)]
pub struct SimilarityPlanner {
    resources: Resources,
    device: Device,
    model: Option<PathBuf>,
    hybrid_weight: f32,
}

impl SimilarityPlanner {
    pub fn new(resources: Resources, device: Device) -> Self {
        Self {
            resources,
            device,
            model: None,
            hybrid_weight: HYBRID_WEIGHT,
        }
    }

    /// Uses `model` instead of the default one.
    pub fn with_model(mut self, model: Option<PathBuf>) -> Self {
        self.model = model;
        self
    }

    pub fn with_device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    pub fn with_hybrid_weight(mut self, weight: f32) -> Self {
        self.hybrid_weight = weight;
        self
    }

    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The device models are planned on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The plan for `similarity` on `task`. `auto` never fails: what cannot be had falls back to
    /// the classical features with the reason. A named learned similarity fails instead.
    pub fn plan(
        &self,
        similarity: Similarity,
        task: Task,
    ) -> Result<SimilarityPlan, SimilarityError> {
        let hybrid = Some(self.hybrid_weight);
        match similarity {
            Similarity::Classical => Ok(SimilarityPlan::classical()),
            Similarity::Chroma => Ok(SimilarityPlan::of(Kind::Chroma, None)),
            Similarity::Hybrid => self.learned(&self.named_model()?, hybrid, false, task),
            Similarity::Learned => self.learned(&self.named_model()?, None, false, task),
            Similarity::LearnedBinary => self.learned(&self.named_model()?, None, true, task),
            Similarity::Auto => Ok(self.auto(task)),
        }
    }

    /// As [`plan`](Self::plan), falling back to the classical features with the reason where the
    /// choice cannot be had: for the places with nobody to answer an error (a plugin starting).
    pub fn plan_or_classical(&self, similarity: Similarity, task: Task) -> SimilarityPlan {
        self.plan(similarity, task)
            .unwrap_or_else(|e| SimilarityPlan::classical_because(e.to_string()))
    }

    fn auto(&self, task: Task) -> SimilarityPlan {
        let unnamed = self.model.is_none() && self.resources.model_from_env().is_none();
        if task == Task::Align && unnamed {
            let salience = self.resources.model(OFFLINE_MODEL);
            let plan =
                salience.and_then(|m| self.learned(&m, Some(self.hybrid_weight), false, task).ok());
            if let Some(plan) = plan {
                return plan;
            }
        }
        match self.named_model() {
            Ok(m) => self
                .learned(&m, Some(self.hybrid_weight), false, task)
                .unwrap_or_else(|e| SimilarityPlan::classical_because(e.to_string())),
            Err(_) => SimilarityPlan::classical_because(format!(
                "no learned model found ({DEFAULT_MODEL}); set {MODEL_ENV} or run `cargo xtask models`"
            )),
        }
    }

    /// The model named (here or in `$SEGNO_MODEL`), else the default one found.
    fn named_model(&self) -> Result<PathBuf, SimilarityError> {
        self.model
            .clone()
            .or_else(|| self.resources.model_from_env())
            .or_else(|| self.resources.model(DEFAULT_MODEL))
            .ok_or(SimilarityError::NoModel)
    }

    /// Loads `model` once, to check it and describe it; that session serves the plan's first user.
    fn learned(
        &self,
        model: &Path,
        hybrid: Option<f32>,
        binary: bool,
        task: Task,
    ) -> Result<SimilarityPlan, SimilarityError> {
        // The ONNX Runtime of this process is the one these resources find.
        crate::nn::runtime::runtime_in(&self.resources).map_err(RuntimeError::clone)?;
        // One core: the follower embeds one frame at a time, beside an audio host.
        let e = Embedder::load_with(model, self.device, 1, &self.resources)?;
        if matches!(task, Task::Follow(_)) && e.representation == Representation::Salience {
            return Err(RuntimeError::Model {
                path: model.to_owned(),
                message: LIVE_SALIENCE.into(),
            }
            .into());
        }
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
        let mut plan = SimilarityPlan::of(Kind::Learned { binary, hybrid }, Some(description));
        plan.embedders = Some(EmbedderPool::new(e, self.resources.clone()));
        Ok(plan)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Classical,
    Chroma,
    Learned {
        binary: bool,
        /// Add the classical cost, the learned distance weighted by this ([`HybridCost`]).
        hybrid: Option<f32>,
    },
}

/// A similarity ready to use: what it compares, and the model sessions it lends out.
#[derive(Clone)]
pub struct SimilarityPlan {
    kind: Kind,
    description: String,
    embedders: Option<Arc<EmbedderPool>>,
}

impl fmt::Debug for SimilarityPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimilarityPlan({})", self.description)
    }
}

impl SimilarityPlan {
    fn of(kind: Kind, description: Option<String>) -> Self {
        let description = description.unwrap_or_else(|| match kind {
            Kind::Chroma => "chroma features alone".into(),
            _ => CLASSICAL.into(),
        });
        Self {
            kind,
            description,
            embedders: None,
        }
    }

    /// The classical features.
    pub fn classical() -> Self {
        Self::of(Kind::Classical, None)
    }

    /// The classical features, because what was wanted cannot be had (`why`).
    pub fn classical_because(why: String) -> Self {
        Self::of(Kind::Classical, Some(format!("{CLASSICAL}: {why}")))
    }

    pub fn is_classical(&self) -> bool {
        self.kind == Kind::Classical
    }

    /// One line for logs and the editor, with the model, the device, and why a wanted one is not
    /// in use.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// The local cost for `task`.
    pub fn cost(&self, task: Task) -> Arc<dyn LocalCost + Send> {
        let classical = match task {
            Task::Align => ClassicalCost::OFFLINE,
            Task::Follow(_) => ClassicalCost::default(),
        };
        match self.kind {
            Kind::Classical => match task {
                Task::Follow(Method::Oltw(_)) => Arc::new(ClassicalCost::OLTW),
                _ => Arc::new(classical),
            },
            Kind::Chroma => Arc::new(ChromaCost),
            Kind::Learned {
                hybrid: Some(w), ..
            } => Arc::new(HybridCost {
                classical,
                learned_weight: w,
            }),
            Kind::Learned { binary, .. } => Arc::new(LearnedCost { binary }),
        }
    }

    fn embedder(&self) -> Result<Option<PooledEmbedder>, RuntimeError> {
        self.embedders.as_ref().map(|p| p.take()).transpose()
    }

    /// The reference for `score` rendered with `font`, with this plan's frames.
    pub fn reference(
        &self,
        score: Score,
        font: &Arc<SoundFont>,
    ) -> Result<Reference, SimilarityError> {
        self.frame_maker()?.reference(score, font)
    }

    /// One maker of this plan's frames for whole signals: a score's reference and the recordings
    /// aligned to it share one model session.
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
        let follower = Follower::with_method(
            reference,
            input_rate,
            self.cost(Task::Follow(method)),
            method,
        );
        Ok(match self.embedder()? {
            Some(e) => follower.with_embedder(e),
            None => follower,
        })
    }

    /// Model sessions loaded and idle (for tests of their reuse).
    pub fn idle_sessions(&self) -> usize {
        self.embedders.as_ref().map_or(0, |p| p.idle())
    }
}

const CLASSICAL: &str = "classical features (chroma + onsets)";

/// Frames of whole signals (references, recordings offline) with one embedder for all of them, so
/// an alignment uses one model session (basic-pitch's too), not one per signal.
pub struct FrameMaker(Option<PooledEmbedder>);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_reads_back_its_own_name() {
        for s in Similarity::ALL {
            assert_eq!(s.to_string().parse::<Similarity>().unwrap(), s);
        }
        let e = "gpu".parse::<Similarity>().unwrap_err().to_string();
        assert!(
            e.contains("auto, hybrid, learned, learned-binary, classical, chroma"),
            "{e}"
        );
    }

    #[test]
    fn auto_without_a_model_falls_back_and_says_why_a_named_choice_fails() {
        let planner = SimilarityPlanner::new(Resources::isolated(None), Device::Cpu);
        let follow = Task::Follow(Method::default());
        let auto = planner.plan(Similarity::Auto, follow).unwrap();
        assert!(auto.is_classical());
        assert!(
            auto.describe().contains("no learned model found"),
            "{}",
            auto.describe()
        );
        assert!(matches!(
            planner.plan(Similarity::Hybrid, follow),
            Err(SimilarityError::NoModel)
        ));
        let chroma = planner.plan(Similarity::Chroma, Task::Align).unwrap();
        assert!(!chroma.is_classical() && chroma.embedders.is_none());
    }

    #[test]
    fn the_classical_cost_suits_the_task() {
        let frame_a = [0.5f32; crate::features::DIM];
        let mut frame_b = frame_a;
        frame_b[crate::features::CHROMA_DIM] = 0.0; // an onset the live frame lacks
        let plan = SimilarityPlan::classical();
        let d = |task| plan.cost(task).distance(&frame_b, &frame_a);
        let oltw = Task::Follow(Method::Oltw(Default::default()));
        assert_eq!(
            d(Task::Align),
            ClassicalCost::OFFLINE.distance(&frame_b, &frame_a)
        );
        assert_eq!(d(oltw), ClassicalCost::OLTW.distance(&frame_b, &frame_a));
        assert_eq!(
            d(Task::Follow(Method::default())),
            ClassicalCost::default().distance(&frame_b, &frame_a)
        );
    }
}
