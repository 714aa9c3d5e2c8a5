//! "What am I playing?" while the pianist plays: the last seconds of live audio are identified
//! against a library, again every few seconds, so that the answer is refined as more is heard.
//! [`Listening`] keeps the audio and decides when to look; the looking itself
//! ([`identify_audio`]) takes a fraction of a second to seconds, so the live worker runs it on a
//! thread of its own.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use super::crossmodal::CrossModal;
use super::{
    confidence_against, confidence_of, identify, identify_crossmodal, Descriptor, Fit, Library,
    Method,
};
use crate::features::extract_with_semitones;
use crate::nn::Device;
use crate::resources::Resources;
use crate::themes::RecordingChroma;

/// The most recent audio identified, in seconds (seed 002's longest fragments are 30 s; longer
/// only slows each look).
pub const LISTEN_S: f64 = 30.0;
/// The first look waits for this much audio: shorter fragments name the wrong piece more often
/// (BENCHMARKS.md, "Piece identification": 4.7 % of dev's 10 s fragments of a piece not in the
/// library name another, against none from 20 s on).
pub const FIRST_LOOK_S: f64 = 8.0;
/// Then a look every this many seconds of new audio.
pub const LOOK_EVERY_S: f64 = 4.0;
/// Candidates shown.
pub const TOP: usize = 3;

/// One piece the audio may be.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub title: String,
    pub path: PathBuf,
    /// From 0 to 1 ([`super::confidence_of`]).
    pub confidence: f32,
    /// Where in the piece the audio ended, in seconds at its written tempo, and the written
    /// measure there: where the pianist is now, if this is the piece.
    pub now_s: f64,
    pub now_measure: Option<String>,
}

/// What a look found.
#[derive(Debug, Clone, PartialEq)]
pub struct Identification {
    /// Seconds of audio looked at …
    pub heard_s: f64,
    /// … ending this many seconds after listening began (0 outside the live worker).
    pub until_s: f64,
    /// Best first; empty for an empty library.
    pub candidates: Vec<Candidate>,
    /// What the audio was compared by: the chroma where the cross-modal model is missing or the
    /// library was indexed without it.
    pub descriptor: Descriptor,
}

impl Identification {
    /// The piece named: the best candidate if it is sure enough, else `None`, "not in your
    /// library" (the least bad piece is not proposed as if it were the one).
    pub fn named(&self) -> Option<&Candidate> {
        self.candidates
            .first()
            .filter(|c| c.confidence >= self.descriptor.min_confidence())
    }
}

/// The best `top` pieces of `library` for mono audio at `rate`, by the cross-modal embedding
/// where the library holds it and the model loads from `resources`, else by chroma.
pub fn identify_audio(
    samples: &[f32],
    rate: u32,
    library: &Library,
    top: usize,
    resources: &Resources,
) -> Identification {
    let (descriptor, fits, confidences) = match by_embedding(samples, rate, library, top, resources)
    {
        Some((fits, confidences)) => (Descriptor::CrossModal, fits, confidences),
        None => {
            let chroma = RecordingChroma::from_audio(samples, rate);
            let (query, fits) = identify(&chroma, library, Method::Alignment);
            let confidences = (0..top.min(fits.len()))
                .map(|k| confidence_of(&query, &fits, k, library))
                .collect();
            (Descriptor::Chroma, fits, confidences)
        }
    };
    let candidates = fits
        .iter()
        .zip(confidences)
        .map(|(fit, confidence)| {
            let piece = &library.pieces[fit.piece];
            Candidate {
                title: piece.title(),
                path: piece.path.clone(),
                confidence,
                now_s: fit.end_s,
                now_measure: piece.measure_at(fit.end_s).map(str::to_owned),
            }
        })
        .collect();
    Identification {
        heard_s: samples.len() as f64 / f64::from(rate.max(1)),
        until_s: 0.0,
        candidates,
        descriptor,
    }
}

/// The ranking by the cross-modal embedding and the first `top` confidences; `None` where the
/// library lacks embeddings made by the installed model, or the model cannot run.
fn by_embedding(
    samples: &[f32],
    rate: u32,
    library: &Library,
    top: usize,
    resources: &Resources,
) -> Option<(Vec<Fit>, Vec<f32>)> {
    // Checked before the model is loaded too: a library indexed without it never needs it.
    if !library.embedded() {
        return None;
    }
    let mut model = CrossModal::installed(resources, Device::Cpu).ok()?;
    if !library.embedded_by(&model) {
        return None;
    }
    let (_, semitones) = extract_with_semitones(samples, rate);
    let (catalogue, _) = library.crossmodal_catalogue();
    let (fits, first) = identify_crossmodal(
        &semitones,
        library,
        &catalogue,
        &mut model,
        Method::Alignment,
    )
    .ok()?;
    // The others' rival is mostly the first piece, which beats them: their confidence is low.
    let confidences = std::iter::once(first)
        .chain((1..top.min(fits.len())).map(|k| confidence_against(&fits, k, library, None)))
        .take(fits.len())
        .collect();
    Some((fits, confidences))
}

/// Opens `library` and identifies `samples` in it (the model found by `resources`); the error is
/// in words for the musician.
pub fn identify_in(
    library: &Path,
    samples: &[f32],
    rate: u32,
    resources: &Resources,
) -> Result<Identification, String> {
    let opened = Library::open(library).map_err(|e| e.to_string())?;
    if opened.pieces.is_empty() {
        return Err(format!(
            "The library {} has no pieces: add scores with `segno library add FOLDER`, or choose another library.",
            library.display()
        ));
    }
    Ok(identify_audio(samples, rate, &opened, TOP, resources))
}

/// The last [`LISTEN_S`] of live audio, and when to look at it next.
#[derive(Debug)]
pub struct Listening {
    rate: u32,
    recent: VecDeque<f32>,
    /// Samples kept since listening began.
    total: u64,
    /// Samples since the last look was due (or since listening began).
    since_look: u64,
    looked: bool,
}

impl Listening {
    /// Listening to audio at `rate` Hz. Nothing is allocated before audio comes (a plugin that
    /// is only scanned or never asked keeps little).
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            recent: VecDeque::new(),
            total: 0,
            since_look: 0,
            looked: false,
        }
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Keeps `block`, forgetting what is older than [`LISTEN_S`].
    pub fn keep(&mut self, block: &[f32]) {
        let cap = capacity(self.rate);
        let block = &block[block.len().saturating_sub(cap)..];
        let excess = (self.recent.len() + block.len()).saturating_sub(cap);
        self.recent.drain(..excess);
        self.recent.extend(block);
        self.since_look += block.len() as u64;
        self.total += block.len() as u64;
    }

    /// A new question: the next look is due as soon as enough has been heard.
    pub fn ask(&mut self) {
        self.looked = false;
    }

    /// The audio to look at now, if a look is due: the first once [`FIRST_LOOK_S`] is held, then
    /// every [`LOOK_EVERY_S`].
    pub fn due(&mut self) -> Option<Look> {
        let held_s = self.recent.len() as f64 / f64::from(self.rate);
        let since_s = self.since_look as f64 / f64::from(self.rate);
        let due = held_s >= FIRST_LOOK_S && (!self.looked || since_s >= LOOK_EVERY_S);
        due.then(|| {
            self.looked = true;
            self.since_look = 0;
            Look {
                audio: self.recent.iter().copied().collect(),
                until_s: self.total as f64 / f64::from(self.rate),
            }
        })
    }
}

/// The audio one look identifies, and when it ended ([`Identification::until_s`]).
pub struct Look {
    pub audio: Vec<f32>,
    pub until_s: f64,
}

fn capacity(rate: u32) -> usize {
    (LISTEN_S * f64::from(rate)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_once_enough_is_heard_then_every_few_seconds_on_the_last_seconds() {
        let rate = 1000;
        let mut l = Listening::new(rate);
        l.keep(&vec![0.0; 7000]);
        assert!(l.due().is_none(), "7 s is too little");
        l.keep(&vec![1.0; 2000]);
        let look = l.due().unwrap();
        assert_eq!((look.audio.len(), look.until_s), (9000, 9.0));
        l.keep(&vec![2.0; 3000]);
        assert!(l.due().is_none(), "3 s after the last look");
        l.keep(&vec![3.0; 30_000]);
        let look = l.due().unwrap();
        assert_eq!(look.audio.len(), 30_000, "only the last 30 s");
        assert!(look.audio.iter().all(|&x| x == 3.0));
        assert_eq!(look.until_s, 42.0);
        l.ask();
        assert!(l.due().is_some(), "a new question is looked at at once");
    }

    #[test]
    fn the_least_bad_piece_is_not_named() {
        let c = |confidence| Candidate {
            title: "x".into(),
            path: "x.mid".into(),
            confidence,
            now_s: 0.0,
            now_measure: None,
        };
        let id = |confidence| Identification {
            heard_s: 10.0,
            until_s: 10.0,
            candidates: vec![c(confidence)],
            descriptor: Descriptor::CrossModal,
        };
        assert!(id(0.5).named().is_some());
        assert!(id(0.05).named().is_none());
        let by_chroma = Identification {
            descriptor: Descriptor::Chroma,
            ..id(0.12)
        };
        assert!(id(0.12).named().is_some() && by_chroma.named().is_none());
    }
}
