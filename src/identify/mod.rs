//! Piece identification, "what am I playing?" (seed 002): a recording, or a fragment of one, is
//! cut into snippets, each described by its chroma statistics ([`cens`]), and the snippet sequence
//! is aligned with every piece of a score library ([`library`]) by subsequence DTW ([`rank`]).
//! The same alignment answers the reverse question: which of these recordings plays this score.
//!
//! Two descriptors ([`Descriptor`]): seed 003's learned cross-modal embedding ([`crossmodal`]),
//! which seed 002 ranks by and which is the default, and classical chroma statistics ([`cens`]),
//! which need no model (BENCHMARKS.md, "Piece identification", measures both).

pub mod cens;
pub mod crossmodal;
pub mod library;
pub mod listen;
pub mod neighbours;
pub mod rank;

use crate::nn::runtime::RuntimeError;
use crate::themes::RecordingChroma;

use crossmodal::{CrossModal, EMBEDDING_DIM};

pub use library::{AddReport, Library, LibraryError, Piece};
pub use rank::{Catalogue, Fit, Method, Query, TEMPO_SCALES};

/// The best fit is a match from this confidence up, by the chroma. Chosen on the train split
/// (BENCHMARKS.md, "Piece identification").
pub const MIN_CONFIDENCE: f32 = 0.15;
/// The same by the cross-modal embedding, also chosen on the train split: from 0.10 to 0.15 the
/// pieces falsely named stayed at 4.6 % while those named fell from 81.5 to 69.2 %.
pub const MIN_CROSSMODAL_CONFIDENCE: f32 = 0.10;

impl Query {
    /// A recording's snippets at every tempo scale.
    pub fn from_chroma(chroma: &RecordingChroma) -> Self {
        Self::from_frames(&chroma.frames)
    }

    /// Chroma frames' snippets (at [`cens::CHROMA_RATE_HZ`]) at every tempo scale.
    pub fn from_frames(frames: &[[f32; crate::features::CHROMA_DIM]]) -> Self {
        Self {
            scaled: TEMPO_SCALES
                .iter()
                .map(|&s| (s, cens::snippets(frames, s)))
                .collect(),
        }
    }
}

/// The library's pieces ranked for a recording's chroma, best first, and the query they were
/// ranked for.
pub fn identify(chroma: &RecordingChroma, library: &Library, method: Method) -> (Query, Vec<Fit>) {
    let query = Query::from_chroma(chroma);
    let fits = library.catalogue().rank(method, &query);
    (query, fits)
}

/// What a recording's and a score's snippets are described and compared by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Descriptor {
    /// Seed 003's learned cross-modal embedding (`models/crossmodal_*.onnx`).
    #[default]
    CrossModal,
    /// Chroma energy statistics ([`cens`]): no model needed.
    Chroma,
}

impl Descriptor {
    pub const ALL: [Self; 2] = [Self::CrossModal, Self::Chroma];

    pub fn name(self) -> &'static str {
        match self {
            Self::CrossModal => "crossmodal",
            Self::Chroma => "chroma",
        }
    }

    /// The confidence from which the best fit is named ([`MIN_CONFIDENCE`],
    /// [`MIN_CROSSMODAL_CONFIDENCE`]).
    pub fn min_confidence(self) -> f32 {
        match self {
            Self::CrossModal => MIN_CROSSMODAL_CONFIDENCE,
            Self::Chroma => MIN_CONFIDENCE,
        }
    }
}

impl std::fmt::Display for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Descriptor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown descriptor '{s}'; use crossmodal or chroma"))
    }
}

/// The pieces of `library` (as `catalogue`, [`Library::crossmodal_catalogue`]) ranked by the
/// cross-modal embedding for a recording's semitone spectrogram
/// ([`crate::features::extract_with_semitones`]), best first, with how sure the first is
/// ([`confidence_against`] its nearest rival).
pub fn identify_crossmodal(
    semitones: &[f32],
    library: &Library,
    catalogue: &Catalogue<'_, EMBEDDING_DIM>,
    model: &mut CrossModal,
    method: Method,
) -> Result<(Vec<Fit>, f32), RuntimeError> {
    let query: Query<EMBEDDING_DIM> = model.query(semitones)?;
    let fits = catalogue.rank(method, &query);
    let confidence = crossmodal_confidence(&query, &fits, library, model)?;
    Ok((fits, confidence))
}

/// How sure it is that `query` plays the piece of `fits[0]`: against the next piece of other
/// music, and against the same piece a semitone up and down where its fit lies (the rival
/// [`confidence_of`] takes for the chroma: the piece's texture and pace with other notes).
pub fn crossmodal_confidence(
    query: &Query<EMBEDDING_DIM>,
    fits: &[Fit],
    library: &Library,
    model: &mut CrossModal,
) -> Result<f32, RuntimeError> {
    let Some(best) = fits.first() else {
        return Ok(0.0);
    };
    // A score that cannot be read again (moved, changed) leaves only the other pieces as rivals.
    let transposed = match crate::score::Score::load(&library.pieces[best.piece].path) {
        Ok(score) => {
            let mut least: Option<f32> = None;
            for shift in [-1, 1] {
                let moved = model.transposed(&score, shift, best.start_s, best.end_s)?;
                if let Some(f) = rank::fit(query, &moved, best.piece) {
                    least = Some(least.map_or(f.cost, |l| l.min(f.cost)));
                }
            }
            least
        }
        Err(_) => None,
    };
    Ok(confidence_against(fits, 0, library, transposed))
}

/// How sure it is that `query` plays the piece of `fits[0]` (the ranking for it, best first):
/// 1 minus its cost over that of its nearest rival, the next piece with other music or the same
/// piece in another key ([`rank::transposed_cost`]). 1 is certain, 0 no better than the rival.
/// Another file of the same music (a MIDI and a MusicXML of one piece) is no rival.
pub fn confidence(query: &Query, fits: &[Fit], library: &Library) -> f32 {
    confidence_of(query, fits, 0, library)
}

/// [`confidence`] for the piece of `fits[k]`: against the best other piece with other music
/// (for `k` > 0 that is usually the better `fits[0]`, and the confidence is 0), or its own
/// music in another key.
pub fn confidence_of(query: &Query, fits: &[Fit], k: usize, library: &Library) -> f32 {
    let Some(this) = fits.get(k) else {
        return 0.0;
    };
    let transposed = rank::transposed_cost(query, &library.pieces[this.piece].snippets);
    confidence_against(fits, k, library, transposed)
}

/// How sure it is that the query of `fits` plays the piece of `fits[k]`: 1 minus its cost over
/// that of its nearest rival, the best other piece with other music or `rival` where given.
pub fn confidence_against(fits: &[Fit], k: usize, library: &Library, rival: Option<f32>) -> f32 {
    let Some(this) = fits.get(k) else {
        return 0.0;
    };
    let music = &library.pieces[this.piece].snippets;
    let rival = fits
        .iter()
        .enumerate()
        .filter(|&(j, f)| j != k && !cens::same_music(music, &library.pieces[f.piece].snippets))
        .map(|(_, f)| f.cost)
        .next()
        .into_iter()
        .chain(rival)
        .min_by(f32::total_cmp);
    rival.map_or(1.0, |r| (1.0 - this.cost / r.max(1e-6)).max(0.0))
}
