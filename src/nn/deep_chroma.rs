//! Seed 004's deep chroma network (`models/deep_chroma.onnx`, trained by
//! `models/train/train_deep_chroma.py`): from a recording's HCQT ([`crate::features::hcqt`]), per
//! frame a probability over the twelve pitch classes and a blank. As seed 004 does, the blank is
//! dropped and each frame scaled to unit length: the chroma the theme search matches.
//!
//! The shipped model is trained frame-wise with cross-entropy (seed 004's Table 5 ablation), not
//! with seed 004's CTC loss: on this project's data and budget it found themes better
//! (BENCHMARKS.md, "Theme search", has the figures). It is three such networks in one graph, with
//! the mean of their probabilities; this module sees only the graph's input and output.
//! `train_deep_chroma.py --loss ctc` trains the CTC model, which this module reads the same way.
//!
//! The network sees five frames (200 ms) either side of a frame, so a long recording is run in
//! pieces that overlap by [`CONTEXT`] frames and only each piece's middle is kept: the same
//! values as one run over the whole, at bounded memory.

use std::path::Path;

use crate::features::hcqt::{self, Hcqt, FRAME};
use crate::features::CHROMA_DIM;
use crate::nn::runtime::{Device, Model, RuntimeError};

pub const MODEL_FILE: &str = "deep_chroma.onnx";
/// Outputs per frame: the pitch classes, then the blank.
pub const OUTPUTS: usize = CHROMA_DIM + 1;
/// Frames of context kept either side of each piece (the network needs five).
const CONTEXT: usize = 8;
/// Frames kept per run (40 s).
const PIECE: usize = 1000;
/// Frames whose pitch-class probabilities sum to less than this keep their small norm. Seed 004
/// scales every frame up, and rightly: with the CTC model, a floor of 0.5 (which would leave
/// blank-dominated frames near zero) brought the MRR from 0.704 to 0.317.
const NORM_FLOOR: f32 = 1e-6;

pub struct DeepChroma {
    model: Model,
    hcqt: Hcqt,
}

impl DeepChroma {
    pub fn load(path: &Path, device: Device, threads: usize) -> Result<Self, RuntimeError> {
        let model = Model::load_with_threads(path, device, threads)?;
        let shape = model.input_shape();
        if shape.len() != 4 || shape[2..] != [Some(hcqt::HARMONICS.len()), Some(hcqt::BINS)] {
            return Err(RuntimeError::Model {
                path: path.to_owned(),
                message: format!(
                    "input shape {shape:?} is not (batch, frames, {}, {}): not a deep chroma model",
                    hcqt::HARMONICS.len(),
                    hcqt::BINS
                ),
            });
        }
        Ok(Self {
            model,
            hcqt: Hcqt::new(),
        })
    }

    /// Unit chroma frames at [`hcqt::HCQT_RATE_HZ`] of mono audio at [`crate::features::SAMPLE_RATE`].
    pub fn frames(&mut self, samples: &[f32]) -> Result<Vec<[f32; CHROMA_DIM]>, RuntimeError> {
        let features = self.hcqt.frames(samples);
        let probabilities = self.probabilities(&features)?;
        Ok(probabilities
            .chunks_exact(OUTPUTS)
            .map(unit_chroma)
            .collect())
    }

    /// The model's output, 13 values a frame (the pitch classes from C, then the blank), for HCQT
    /// frames of [`FRAME`] values each.
    pub fn probabilities(&mut self, hcqt: &[f32]) -> Result<Vec<f32>, RuntimeError> {
        let n = hcqt.len() / FRAME;
        let mut out = Vec::with_capacity(n * OUTPUTS);
        for first in (0..n).step_by(PIECE) {
            let from = first.saturating_sub(CONTEXT);
            let to = (first + PIECE + CONTEXT).min(n);
            let shape = [1, to - from, hcqt::HARMONICS.len(), hcqt::BINS];
            let (_, probs) = self.model.run(&shape, &hcqt[from * FRAME..to * FRAME])?;
            let kept = first - from..(first + PIECE).min(n) - from;
            out.extend_from_slice(&probs[kept.start * OUTPUTS..kept.end * OUTPUTS]);
        }
        Ok(out)
    }
}

/// The pitch classes of one output frame, the blank dropped, scaled to unit length.
fn unit_chroma(probabilities: &[f32]) -> [f32; CHROMA_DIM] {
    let mut c: [f32; CHROMA_DIM] = probabilities[..CHROMA_DIM]
        .try_into()
        .expect("an output frame");
    crate::features::chroma::normalize(&mut c, NORM_FLOOR);
    c
}
