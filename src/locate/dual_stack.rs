//! Seed 001's dual-stack localiser (`models/localiser.onnx`, trained by
//! `models/train/train_localiser.py`): about 12 s of the rendered score and the last 1.35 s of
//! live audio in, for every 46 ms of those 12 s the probability that the live audio is there now.
//!
//! The follower's relocation asks it to check the places a cheap search over the whole piece
//! proposes ([`crate::locate::relocation`]): one window around each candidate and one around the
//! place the follower holds, scored in one batch.

use std::path::{Path, PathBuf};

use crate::features::semitone::BANDS;
use crate::features::{Features, HOP_S};
use crate::nn::runtime::{Device, Model, RuntimeError};
use crate::resources::Resources;

/// The model's file name in the models folder.
pub const MODEL_FILE: &str = "localiser.onnx";
/// Live frames the model reads (1.35 s).
pub const SNIPPET_FRAMES: usize = 58;
/// Reference frames per window (12.0 s), as in training.
pub const WINDOW_FRAMES: usize = 518;
/// Frames per model frame: the model pools pairs.
pub const POOL: usize = 2;
/// Model frames per window.
pub const MODEL_FRAMES: usize = WINDOW_FRAMES / POOL;
/// Seconds per model frame.
pub const MODEL_FRAME_S: f64 = POOL as f64 * HOP_S;

pub struct DualStack {
    model: Model,
    /// The output index of the logits.
    logits: usize,
    reference: Vec<f32>,
}

/// What a window gives for each of its model frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The softmax over the window (seed 001's output).
    Probabilities,
    /// What the softmax is taken of. A logit depends only on the snippet and the 1.4 s of
    /// reference up to its frame, not on the window, so logits of different windows compare.
    Logits,
}

impl DualStack {
    /// Loads the model and checks its inputs and output on a window of silence.
    pub fn load(path: &Path, device: Device) -> Result<Self, RuntimeError> {
        let model = Model::load_with_threads(path, device, 1)?;
        let bad = |message: String| RuntimeError::Model {
            path: path.to_owned(),
            message,
        };
        let logits = model
            .output_index("logits")
            .ok_or_else(|| bad("no `logits` output: not a localiser of this version".into()))?;
        let mut s = Self {
            model,
            logits,
            reference: Vec::new(),
        };
        if s.model.input_names() != ["reference", "snippet"] {
            return Err(bad(format!(
                "inputs {:?} are not (reference, snippet): not a localiser",
                s.model.input_names()
            )));
        }
        let silence = Features::from_rows(BANDS, vec![0.0; BANDS]);
        let probabilities = s.windows(
            &silence,
            &[0],
            &vec![0.0; SNIPPET_FRAMES * BANDS],
            Output::Probabilities,
        )?;
        if probabilities.len() != MODEL_FRAMES {
            return Err(bad(format!(
                "{} outputs per window, {MODEL_FRAMES} expected",
                probabilities.len()
            )));
        }
        Ok(s)
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// For each window of `reference` (semitone frames) starting at one of `starts` (frames;
    /// beyond the reference is silence), the `output` for each of its model frames: how likely
    /// its snippet ends there; window after window. `snippets` holds [`SNIPPET_FRAMES`] live
    /// semitone frames (oldest first) for every window, or once for all of them.
    pub fn windows(
        &mut self,
        reference: &Features,
        starts: &[isize],
        snippets: &[f32],
        output: Output,
    ) -> Result<Vec<f32>, RuntimeError> {
        let snippet = SNIPPET_FRAMES * BANDS;
        let shared = snippets.len() == snippet;
        if !(shared || snippets.len() == snippet * starts.len()) || reference.dim != BANDS {
            return Err(RuntimeError::Run(format!(
                "the localiser reads {SNIPPET_FRAMES} live frames of {BANDS} semitones per window"
            )));
        }
        self.reference.clear();
        for &start in starts {
            for f in start..start + WINDOW_FRAMES as isize {
                match usize::try_from(f).ok().filter(|&f| f < reference.len()) {
                    Some(f) => self.reference.extend_from_slice(reference.frame(f)),
                    None => self.reference.extend(std::iter::repeat_n(0.0, BANDS)),
                }
            }
        }
        let repeated;
        let snippets = if shared && starts.len() > 1 {
            repeated = snippets.repeat(starts.len());
            &repeated
        } else {
            snippets
        };
        let output = match output {
            Output::Probabilities => 0,
            Output::Logits => self.logits,
        };
        let (_, out) = self.model.run_pair(
            (&[starts.len(), WINDOW_FRAMES, BANDS], &self.reference),
            (&[starts.len(), SNIPPET_FRAMES, BANDS], snippets),
            output,
        )?;
        Ok(out)
    }
}

/// The most probable model frame of a window.
pub fn most_probable(window: &[f32]) -> usize {
    (0..window.len())
        .max_by(|&a, &b| window[a].total_cmp(&window[b]))
        .unwrap_or(0)
}

/// Turns the logits of several windows into one softmax over all of them, in place.
pub fn softmax_over_all(logits: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    logits.iter_mut().for_each(|l| *l = (*l - max).exp());
    let sum: f32 = logits.iter().sum();
    logits.iter_mut().for_each(|l| *l /= sum);
}

/// The probability a window (starting at reference frame `start`) gives to the reference frames
/// within `radius` of `frame`, and the most probable frame among them.
pub fn mass_near(window: &[f32], start: isize, frame: usize, radius: usize) -> (f32, usize) {
    let model_frame = |f: isize| (f - start).div_euclid(POOL as isize);
    let lo = model_frame(frame as isize - radius as isize).clamp(0, window.len() as isize) as usize;
    let hi = (model_frame((frame + radius) as isize) + 1).clamp(0, window.len() as isize) as usize;
    if lo >= hi {
        return (0.0, frame);
    }
    let best = lo + most_probable(&window[lo..hi]);
    let position = start + (best * POOL + POOL - 1) as isize;
    (window[lo..hi].iter().sum(), position.max(0) as usize)
}

/// The localiser model in the models folder, if there is one.
pub fn find_model(resources: &Resources) -> Option<PathBuf> {
    resources.model(MODEL_FILE)
}

/// The localiser in the models folder, loaded.
pub fn installed(resources: &Resources, device: Device) -> Result<DualStack, RuntimeError> {
    DualStack::load(
        &crate::nn::runtime::model_in(resources, MODEL_FILE)?,
        device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_near_counts_the_model_frames_around_a_reference_frame() {
        // A window starting at reference frame 100: model frame k covers frames 100 + 2k and
        // 100 + 2k + 1.
        let mut window = vec![0.0; MODEL_FRAMES];
        window[10] = 0.5; // frames 120, 121
        window[14] = 0.25; // frames 128, 129
        window[40] = 0.25; // frames 180, 181
        let (mass, best) = mass_near(&window, 100, 124, 6);
        assert_eq!((mass, best), (0.75, 121));
        let (mass, _) = mass_near(&window, 100, 124, 2);
        assert_eq!(mass, 0.0);
        // Beyond the window: nothing.
        assert_eq!(mass_near(&window, 100, 5000, 10).0, 0.0);
        assert_eq!(mass_near(&window, 100, 0, 10).0, 0.0);
        // A window hanging over the start of the reference.
        let (mass, best) = mass_near(&window, -20, 0, 2);
        assert_eq!((mass, best), (0.5, 1));
    }
}
