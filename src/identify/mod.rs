//! Piece identification, "what am I playing?" (seed 002): a recording, or a fragment of one, is
//! cut into snippets, each described by its chroma statistics ([`cens`]), and the snippet sequence
//! is aligned with every piece of a score library ([`library`]) by subsequence DTW ([`rank`]).
//! The same alignment answers the reverse question: which of these recordings plays this score.
//!
//! Seed 002 compares learned cross-modal embeddings (seed 003); this module's descriptors are
//! classical ones that a score and a recording share without training. The learned embedding is
//! not built yet (BENCHMARKS.md, "Piece identification", says how the classical one measures).

pub mod cens;
pub mod library;
pub mod listen;
pub mod rank;

use crate::themes::RecordingChroma;

pub use library::{AddReport, Library, LibraryError, Piece};
pub use rank::{Catalogue, Fit, Method, Query, TEMPO_SCALES};

/// The best fit is a match from this confidence up. Chosen on the train split (BENCHMARKS.md,
/// "Piece identification").
pub const MIN_CONFIDENCE: f32 = 0.15;

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
    let music = &library.pieces[this.piece].snippets;
    let transposed = rank::transposed_cost(query, music);
    let rival = fits
        .iter()
        .enumerate()
        .filter(|&(j, f)| j != k && !cens::same_music(music, &library.pieces[f.piece].snippets))
        .map(|(_, f)| f.cost)
        .next()
        .into_iter()
        .chain(transposed)
        .min_by(f32::total_cmp);
    rival.map_or(1.0, |r| (1.0 - this.cost / r.max(1e-6)).max(0.0))
}
