//! Seed 003's cross-modal snippet embedding: an audio snippet (about 2 s of a recording's
//! semitone spectrogram) and a score snippet (the piano roll of the same music) are mapped by two
//! convolutional pathways into one 32-dimensional space, where a snippet of a recording lies near
//! the snippet of the score it plays (`models/train/train_crossmodal.py`, `models/crossmodal.md`).
//!
//! Seed 003 uses a 92-bin log-frequency spectrogram at about 22 ms per frame; the audio side here
//! is the follower's 88-band semitone spectrogram (one band per piano key), two hops pooled into
//! each of the snippet's 42 frames, so that one extractor serves the follower and the embedding.
//!
//! An audio pathway with seed 002's soft attention reads a context twice as long
//! ([`CONTEXT_FRAMES`]), centred on the snippet, and weighs its frames itself; which kind a model
//! is, its input's shape says.

use std::path::Path;

use crate::features::{semitone::BANDS, HOP_S};
use crate::nn::runtime::{model_in, Device, Model, RuntimeError};
use crate::resources::Resources;
use crate::score::Score;
use crate::stamp::fnv1a;

use super::cens::SNIPPET_RATE_HZ;
use super::rank::{Query, TEMPO_SCALES};

/// The two pathways' files in `models/` (`models/crossmodal.md`).
pub const AUDIO_MODEL_FILE: &str = "crossmodal_audio.onnx";
pub const SCORE_MODEL_FILE: &str = "crossmodal_score.onnx";

/// Frames of a snippet, on either side (seed 003: 42).
pub const SNIPPET_FRAMES: usize = 42;
/// Feature hops ([`HOP_S`]) pooled into one snippet frame: a snippet spans 1.95 s.
pub const HOPS_PER_FRAME: usize = 2;
/// Pitches of the piano roll (MIDI's 128).
pub const ROLL_PITCHES: usize = 128;
/// Frames of an audio pathway with attention: twice a snippet's music, centred on it (seed 002:
/// 4 s, 84 frames).
pub const CONTEXT_FRAMES: usize = 2 * SNIPPET_FRAMES;
/// Dimensions of the shared space.
pub const EMBEDDING_DIM: usize = 32;

/// Feature hops a snippet reads at the written tempo.
const SNIPPET_HOPS: usize = SNIPPET_FRAMES * HOPS_PER_FRAME;
/// Snippets embedded per run of a pathway.
const BATCH: usize = 256;

/// A snippet's place in the shared space, unit length.
pub type Embedding = [f32; EMBEDDING_DIM];

/// One piano-roll frame: per pitch, the share of the hop during which it sounds in the score.
pub type RollFrame = [f32; ROLL_PITCHES];

/// The score's piano roll, one frame per feature hop ([`HOP_S`]) of its played timeline, `frames`
/// long: the share of each hop during which each pitch sounds.
pub fn piano_roll(score: &Score, frames: usize) -> Vec<RollFrame> {
    let mut roll = vec![[0f32; ROLL_PITCHES]; frames];
    for note in &score.notes {
        let (start, end) = (
            note.onset_s / HOP_S,
            note.offset_s.max(note.onset_s) / HOP_S,
        );
        let first = start.floor().max(0.0) as usize;
        let last = (end.ceil() as usize).min(frames);
        for (k, frame) in roll.iter_mut().enumerate().take(last).skip(first) {
            let covered = (end.min(k as f64 + 1.0) - start.max(k as f64)).clamp(0.0, 1.0);
            let cell = &mut frame[usize::from(note.pitch) % ROLL_PITCHES];
            *cell = cell.max(covered as f32);
        }
    }
    roll
}

/// `length` hops of `frames` (rows of `width` values, one per hop) from hop `start`, read by
/// linear interpolation (silence outside the frames) at `rows` × [`HOPS_PER_FRAME`] points and
/// pooled in pairs: one snippet of `rows` rows ([`SNIPPET_FRAMES`], or [`CONTEXT_FRAMES`] for an
/// attention's context), appended to `out`. A recording played `s` times as slowly as written is
/// read over `s` times as many hops. Training reads its samples the same way
/// (`models/train/features.py`, `snippet`; checked against this in tests/model_parity.rs).
pub fn snippet(
    frames: &[f32],
    width: usize,
    (start, length): (f64, f64),
    rows: usize,
    out: &mut Vec<f32>,
) {
    let n = frames.len() / width;
    let row = |i: i64| -> Option<&[f32]> {
        usize::try_from(i)
            .ok()
            .filter(|&i| i < n)
            .map(|i| &frames[i * width..(i + 1) * width])
    };
    let hops = rows * HOPS_PER_FRAME;
    let step = length / hops as f64;
    let first = out.len();
    out.resize(first + rows * width, 0.0);
    for h in 0..hops {
        let t = start + (h as f64 + 0.5) * step - 0.5;
        let i0 = t.floor();
        let w = (t - i0) as f32;
        let pooled = &mut out[first + (h / HOPS_PER_FRAME) * width..][..width];
        for (i, weight) in [(i0 as i64, 1.0 - w), (i0 as i64 + 1, w)] {
            if let Some(r) = row(i) {
                for (o, x) in pooled.iter_mut().zip(r) {
                    *o += weight * x / HOPS_PER_FRAME as f32;
                }
            }
        }
    }
}

/// Where snippet `k` of a timeline described `scale` times as slowly as written starts, in hops,
/// and how many hops it reads for `rows` rows: centred on `k` snippet periods
/// ([`SNIPPET_RATE_HZ`]), as the classical snippets ([`super::cens::snippets`]) are.
fn window(k: usize, scale: f64, rows: usize) -> (f64, f64) {
    let centre = k as f64 * scale / SNIPPET_RATE_HZ / HOP_S;
    let length = (rows * HOPS_PER_FRAME) as f64 * scale;
    (centre - length / 2.0, length)
}

/// Snippets of a timeline of `hops` hops at `scale`.
fn count(hops: usize, scale: f64) -> usize {
    (hops as f64 * HOP_S * SNIPPET_RATE_HZ / scale).ceil() as usize
}

/// Seed 003's two pathways, loaded.
pub struct CrossModal {
    audio: Model,
    score: Model,
    /// Rows the audio pathway reads: [`SNIPPET_FRAMES`], or [`CONTEXT_FRAMES`] with attention.
    audio_rows: usize,
    /// Which pair of pathways this is ([`Self::id`]).
    id: u64,
}

/// Which side of the shared space a snippet comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pathway {
    /// [`SNIPPET_FRAMES`] × [`BANDS`] of a recording's semitone spectrogram.
    Audio,
    /// [`SNIPPET_FRAMES`] × [`ROLL_PITCHES`] of a score's piano roll.
    Score,
}

impl Pathway {
    /// Values per snippet frame.
    pub fn width(self) -> usize {
        match self {
            Self::Audio => BANDS,
            Self::Score => ROLL_PITCHES,
        }
    }
}

impl CrossModal {
    pub fn load(audio: &Path, score: &Path, device: Device) -> Result<Self, RuntimeError> {
        let load = |path: &Path, rows: &[usize], bins: usize| {
            let model = Model::load_with_threads(path, device, 1)?;
            let shape = model.input_shape();
            match shape[1..] {
                [Some(r), Some(b)] if rows.contains(&r) && b == bins => Ok((model, r)),
                _ => Err(RuntimeError::Model {
                    path: path.to_owned(),
                    message: format!("input shape {shape:?} is not (batch, {rows:?}, {bins}): not a cross-modal pathway"),
                }),
            }
        };
        let (audio_model, audio_rows) = load(audio, &[SNIPPET_FRAMES, CONTEXT_FRAMES], BANDS)?;
        let score_model = load(score, &[SNIPPET_FRAMES], ROLL_PITCHES)?.0;
        let digest = |path: &Path| {
            std::fs::read(path)
                .map(|bytes| fnv1a(&bytes))
                .map_err(|e| RuntimeError::Model {
                    path: path.to_owned(),
                    message: e.to_string(),
                })
        };
        Ok(Self {
            audio: audio_model,
            score: score_model,
            audio_rows,
            id: digest(score)? ^ digest(audio)?.rotate_left(32),
        })
    }

    /// A digest of the two pathways' files: embeddings made by pathways of another id are not
    /// comparable with these (a library embedded before the models were retrained).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The shipped pathways, from `resources`' models folders.
    pub fn installed(resources: &Resources, device: Device) -> Result<Self, RuntimeError> {
        Self::load(
            &model_in(resources, AUDIO_MODEL_FILE)?,
            &model_in(resources, SCORE_MODEL_FILE)?,
            device,
        )
    }

    /// The snippets of a recording's semitone spectrogram (hops × [`BANDS`], as
    /// [`crate::features::extract_with_semitones`] gives it) described `scale` times as slowly as
    /// written.
    pub fn recording(
        &mut self,
        semitones: &[f32],
        scale: f64,
    ) -> Result<Vec<Embedding>, RuntimeError> {
        let hops = semitones.len() / BANDS;
        let rows = self.audio_rows;
        self.embed(Pathway::Audio, count(hops, scale), |k, out| {
            snippet(semitones, BANDS, window(k, scale, rows), rows, out);
        })
    }

    /// A recording's query: its snippets at every tempo scale ([`TEMPO_SCALES`]).
    pub fn query(&mut self, semitones: &[f32]) -> Result<Query<EMBEDDING_DIM>, RuntimeError> {
        Ok(Query {
            scaled: TEMPO_SCALES
                .iter()
                .map(|&s| Ok((s, self.recording(semitones, s)?)))
                .collect::<Result<_, RuntimeError>>()?,
        })
    }

    /// The snippets of a score at its written tempo, `duration_s` long.
    pub fn score(
        &mut self,
        score: &Score,
        duration_s: f64,
    ) -> Result<Vec<Embedding>, RuntimeError> {
        let hops = (duration_s / HOP_S).ceil() as usize + 1;
        let roll: Vec<f32> = piano_roll(score, hops).into_iter().flatten().collect();
        self.embed(Pathway::Score, count(hops, 1.0), |k, out| {
            snippet(
                &roll,
                ROLL_PITCHES,
                window(k, 1.0, SNIPPET_FRAMES),
                SNIPPET_FRAMES,
                out,
            );
        })
    }

    /// The snippets of `score` with every note `shift` semitones up, between `from_s` and `to_s`
    /// of its written timeline: the same texture and pace with other notes, the rival a
    /// confidence is measured against ([`super::confidence_against`]).
    pub fn transposed(
        &mut self,
        score: &Score,
        shift: i8,
        from_s: f64,
        to_s: f64,
    ) -> Result<Vec<Embedding>, RuntimeError> {
        let mut moved = score.clone();
        moved.notes.retain_mut(|n| {
            let pitch = i16::from(n.pitch) + i16::from(shift);
            n.pitch = pitch.clamp(0, ROLL_PITCHES as i16 - 1) as u8;
            i16::from(n.pitch) == pitch
        });
        let hops = (to_s / HOP_S).ceil() as usize + SNIPPET_HOPS;
        let roll: Vec<f32> = piano_roll(&moved, hops).into_iter().flatten().collect();
        let first = (from_s * SNIPPET_RATE_HZ).floor() as usize;
        let last = (to_s * SNIPPET_RATE_HZ).ceil() as usize;
        self.embed(Pathway::Score, last.saturating_sub(first), |k, out| {
            let place = window(first + k, 1.0, SNIPPET_FRAMES);
            snippet(&roll, ROLL_PITCHES, place, SNIPPET_FRAMES, out);
        })
    }

    /// Rows of a snippet the pathway reads.
    pub fn rows(&self, pathway: Pathway) -> usize {
        match pathway {
            Pathway::Audio => self.audio_rows,
            Pathway::Score => SNIPPET_FRAMES,
        }
    }

    /// The embeddings of snippets (each [`Self::rows`] rows of the pathway's width, one after
    /// another) through one pathway.
    pub fn run(
        &mut self,
        pathway: Pathway,
        snippets: &[f32],
    ) -> Result<Vec<Embedding>, RuntimeError> {
        let (rows, width) = (self.rows(pathway), pathway.width());
        let model = match pathway {
            Pathway::Audio => &mut self.audio,
            Pathway::Score => &mut self.score,
        };
        let batch = snippets.len() / (rows * width);
        let (_, y) = model.run(&[batch, rows, width], snippets)?;
        Ok(y.chunks_exact(EMBEDDING_DIM)
            .map(|e| <Embedding>::try_from(e).expect("an embedding"))
            .collect())
    }

    /// `n` snippets, each written by `fill`, embedded in batches.
    fn embed(
        &mut self,
        pathway: Pathway,
        n: usize,
        mut fill: impl FnMut(usize, &mut Vec<f32>),
    ) -> Result<Vec<Embedding>, RuntimeError> {
        let mut out = Vec::with_capacity(n);
        let mut input = Vec::new();
        for first in (0..n).step_by(BATCH) {
            input.clear();
            (first..(first + BATCH).min(n)).for_each(|k| fill(k, &mut input));
            out.extend(self.run(pathway, &input)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_at_the_written_tempo_pools_each_pair_of_hops() {
        let frames: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let mut out = Vec::new();
        snippet(
            &frames,
            1,
            (10.0, SNIPPET_HOPS as f64),
            SNIPPET_FRAMES,
            &mut out,
        );
        assert_eq!(out.len(), SNIPPET_FRAMES);
        assert_eq!(out[0], 10.5);
        assert_eq!(out[SNIPPET_FRAMES - 1], 10.5 + 2.0 * 41.0);
        // Twice as slow: every other hop, then pairs of those; before the start is silence.
        out.clear();
        snippet(
            &frames,
            1,
            (-2.0, 2.0 * SNIPPET_HOPS as f64),
            SNIPPET_FRAMES,
            &mut out,
        );
        assert!((out[0] - 0.25).abs() < 1e-6, "{}", out[0]);
        assert!((out[1] - 3.5).abs() < 1e-6, "{}", out[1]);
    }

    #[test]
    fn an_attentions_context_is_twice_the_snippet_centred_on_it() {
        for scale in TEMPO_SCALES {
            let (start, length) = window(7, scale, SNIPPET_FRAMES);
            let (wide_start, wide_length) = window(7, scale, CONTEXT_FRAMES);
            assert!((wide_length - 2.0 * length).abs() < 1e-9);
            assert!((wide_start + wide_length / 2.0 - start - length / 2.0).abs() < 1e-9);
        }
        let frames: Vec<f32> = (0..400).map(|i| i as f32).collect();
        let (mut context, mut inner) = (Vec::new(), Vec::new());
        snippet(
            &frames,
            1,
            window(7, 1.0, CONTEXT_FRAMES),
            CONTEXT_FRAMES,
            &mut context,
        );
        snippet(
            &frames,
            1,
            window(7, 1.0, SNIPPET_FRAMES),
            SNIPPET_FRAMES,
            &mut inner,
        );
        assert_eq!(context.len(), CONTEXT_FRAMES);
        // Its middle half is the snippet, row for row.
        let middle = &context[SNIPPET_FRAMES / 2..][..SNIPPET_FRAMES];
        assert!(
            middle.iter().zip(&inner).all(|(a, b)| (a - b).abs() < 1e-3),
            "{middle:?} {inner:?}"
        );
    }

    #[test]
    fn a_note_fills_the_hops_it_sounds_in_and_shares_the_ones_it_starts_or_ends_in() {
        let score = Score {
            notes: vec![crate::score::Note {
                pitch: 60,
                velocity: 80,
                onset_beats: 0.0,
                duration_beats: 1.0,
                onset_s: 0.5 * HOP_S,
                offset_s: 3.25 * HOP_S,
                staff: None,
                measure: 0,
                grace: false,
            }],
            tempo: crate::score::TempoMap::constant(120.0),
            measures: Vec::new(),
        };
        let roll = piano_roll(&score, 5);
        let column: Vec<f32> = roll.iter().map(|f| f[60]).collect();
        let want = [0.5, 1.0, 1.0, 0.25, 0.0];
        for (got, want) in column.iter().zip(want) {
            assert!((got - want).abs() < 1e-5, "{column:?}");
        }
        assert!(roll.iter().all(|f| f.iter().sum::<f32>() == f[60]));
    }
}
