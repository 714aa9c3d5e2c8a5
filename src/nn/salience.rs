//! Pitch salience (seed 000's SCNN_Sal input) from basic-pitch's pretrained model (Bittner et
//! al., ICASSP 2022; Apache-2.0), whose "contour" output is the deep-salience representation
//! seed 000 cites, trained on real recordings. `cargo xtask setup` takes `nmp.onnx` from the
//! `basic-pitch` wheel on PyPI into `target/models/`, cut to that output (the note and onset
//! heads took a fifth of its time; the whole model works as well); it is never committed. Where
//! Segno looks for it: [`crate::resources`].
//!
//! The model reads 43 844 samples (about 2 s) at 22 050 Hz and writes 172 frames at a hop of 256
//! samples, 264 bins from A0 at 3 per semitone. Its constant-Q front end and convolutions look
//! about a second ahead, so salience is for whole signals (offline alignment, references), not
//! for the live follower.
//!
//! Salience frames follow Segno's frame convention (`features`): frame `k` pools the model's
//! frames `2k−2` and `2k−1` (centred on the middle and the last quarter of Segno's window that
//! ends at sample `512k`), and each semitone pools its three bins, so a salience frame is 88
//! values in 0…1 on the same grid as the semitone spectrogram.

use std::path::Path;

use crate::features::semitone::BANDS;
use crate::features::{HOP, SAMPLE_RATE};
use crate::nn::runtime::{Device, Model, RuntimeError};

const WINDOW: usize = 43_844;
const MODEL_HOP: usize = 256;
const MODEL_FRAMES: usize = 172;
const BINS: usize = 264;
const BINS_PER_SEMITONE: usize = 3;
/// Frames dropped at each side of a window (edge effects; basic-pitch drops 15). Half of that
/// aligned as well on train (`segno eval --cases ../shared/benchmark/train --every 12
/// --no-online --similarity hybrid --model models/scnn_salience.onnx`: within 25 / 50 / 100 ms
/// 81.7 / 88.5 / 91.7 % against 81.7 / 88.6 / 91.7; 4 frames: 81.6 / 88.5 / 91.6) with a tenth
/// fewer windows to run (BENCHMARKS.md, "`segno align` on a 10-minute piece").
const MARGIN: usize = 8;
const KEPT: usize = MODEL_FRAMES - 2 * MARGIN;
/// The model's output with the 264-bin salience ("contour").
const CONTOUR_OUTPUT: &str = "StatefulPartitionedCall:0";

const _: () = assert!(HOP == 2 * MODEL_HOP && SAMPLE_RATE == 22_050);

pub struct Salience {
    model: Model,
    contour: usize,
}

impl Salience {
    pub fn load(path: &Path, device: Device, threads: usize) -> Result<Self, RuntimeError> {
        let model = Model::load_with_threads(path, device, threads)?;
        let bad = |message: String| RuntimeError::Model {
            path: path.to_owned(),
            message,
        };
        if model.input_shape()[1..] != [Some(WINDOW), Some(1)] {
            return Err(bad(format!(
                "input shape {:?} is not (batch, {WINDOW}, 1): not basic-pitch's nmp model",
                model.input_shape()
            )));
        }
        let contour = model.output_index(CONTOUR_OUTPUT).ok_or_else(|| {
            bad(format!(
                "no output {CONTOUR_OUTPUT}: not basic-pitch's nmp model"
            ))
        })?;
        Ok(Self { model, contour })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Salience of a whole mono signal at 22 050 Hz: `1 + len / 512` frames × 88, row-major,
    /// as many frames as `features::extract` gives. Each window's frames are pooled as they come,
    /// so the model's finer frames (12 times the size) are never held for the whole signal.
    pub fn frames(&mut self, audio: &[f32]) -> Result<Vec<f32>, RuntimeError> {
        let frames = 1 + audio.len() / HOP;
        let model_frames = 2 * frames;
        let mut out = vec![0f32; frames * BANDS];
        let mut window = vec![0f32; WINDOW];
        for first in (0..model_frames).step_by(KEPT) {
            // Window whose kept frames start at model frame `first` (centred at sample 256·first).
            let start = (first * MODEL_HOP) as isize - (MARGIN * MODEL_HOP) as isize;
            for (i, w) in window.iter_mut().enumerate() {
                let t = start + i as isize;
                *w = if t >= 0 {
                    audio.get(t as usize).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
            }
            let (shape, contour) = self
                .model
                .run_output(&[1, WINDOW, 1], &window, self.contour)?;
            if shape[1..] != [MODEL_FRAMES, BINS] {
                return Err(RuntimeError::Run(format!(
                    "salience output {shape:?}, expected (1, {MODEL_FRAMES}, {BINS})"
                )));
            }
            let kept = contour[MARGIN * BINS..].chunks_exact(BINS);
            for (j, row) in (first..model_frames.min(first + KEPT)).zip(kept) {
                pool_into(&mut out, j, row);
            }
        }
        Ok(out)
    }
}

/// Pools model frame `j` (264 bins) into the Segno frame that takes it, `j / 2 + 1` (see the
/// module doc): each semitone keeps the loudest of its three bins and of the two model frames.
fn pool_into(out: &mut [f32], j: usize, row: &[f32]) {
    let k = j / 2 + 1;
    let Some(frame) = out.get_mut(k * BANDS..(k + 1) * BANDS) else {
        return;
    };
    for (p, o) in frame.iter_mut().enumerate() {
        let centre = p * BINS_PER_SEMITONE;
        let bins = &row[centre.saturating_sub(1)..(centre + 2).min(BINS)];
        *o = bins.iter().fold(*o, |a, &b| a.max(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_takes_the_loudest_bin_of_each_semitone_and_frame_pair() {
        let frames = 3;
        let mut contour = vec![0f32; 2 * frames * BINS];
        contour[3 * BINS + 3 * 40 + 1] = 0.9; // model frame 3 → Segno frame 2, semitone 40
        contour[2 * BINS + 3 * 40 - 1] = 0.4; // model frame 2 → frame 2, semitone 40 too
        contour[BINS] = 0.5; // model frame 1 → frame 1, semitone 0
        contour[5 * BINS] = 0.7; // model frame 5 → frame 3: past the signal's last frame
        let mut s = vec![0f32; frames * BANDS];
        for (j, row) in contour.chunks_exact(BINS).enumerate() {
            pool_into(&mut s, j, row);
        }
        assert_eq!(s[2 * BANDS + 40], 0.9);
        assert_eq!(s[BANDS], 0.5);
        assert_eq!(s.iter().filter(|&&x| x > 0.0).count(), 2);
    }
}
