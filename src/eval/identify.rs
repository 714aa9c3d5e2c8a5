//! The piece identification benchmark (seed 002, Tables I and II): a library of every dev and
//! train score, and queries cut from the dev performances rendered on another piano (fragments
//! of 10, 20, 30 and 60 s from random points, and whole performances). Each query is scored by
//! the rank of its own piece (any score file of its work); the same ranking without that work
//! says how often a piece that is not in the library would be named anyway.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::cases::{Case, PieceNames};
use super::run::EvalError;
use crate::features::{semitone::BANDS, CHROMA_DIM, HOP_S};
use crate::identify::cens::Snippet;
use crate::identify::crossmodal::{CrossModal, Embedding, EMBEDDING_DIM};
use crate::identify::neighbours::NeighbourIndex;
use crate::identify::{
    confidence, crossmodal_confidence, Catalogue, Fit, Library, Method, Piece, Query,
    MIN_CONFIDENCE,
};
use crate::resources::Resources;
use crate::rng::Rng;
use crate::score::Score;
use crate::stamp::Stamp;
use crate::themes::{RecordingChroma, THEME_RATE_HZ};

/// What a query holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    /// This many seconds from a random point.
    Fragment(f64),
    Whole,
}

/// The query spans of seed 002's Table II, then whole pieces (Table I).
pub const SPANS: [Span; 5] = [
    Span::Fragment(10.0),
    Span::Fragment(20.0),
    Span::Fragment(30.0),
    Span::Fragment(60.0),
    Span::Whole,
];

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fragment(s) => write!(f, "{s:.0} s"),
            Self::Whole => f.write_str("whole"),
        }
    }
}

/// The benchmark's library, which of its pieces each score file's bytes belong to, and which
/// pieces are one work: ASAP writes a score file per performance (the repeats as played), so a
/// work may be in the library more than once, and only another work is another piece.
pub struct BenchLibrary {
    pub library: Library,
    by_bytes: HashMap<u64, usize>,
    /// The work of each piece: the first piece of it.
    works: Vec<usize>,
    by_name: HashMap<String, usize>,
}

impl BenchLibrary {
    /// One piece per distinct score among the `.score.mid` files of the case folders under
    /// `splits`, then one per distinct score file under `more` (other corpora: pieces no query
    /// plays). A file of `more` that does not read as a score is left out, and counted.
    pub fn build(splits: &[PathBuf], more: &[PathBuf]) -> Result<(Self, usize), EvalError> {
        let mut bench = Self {
            library: Library::default(),
            by_bytes: HashMap::new(),
            works: Vec::new(),
            by_name: HashMap::new(),
        };
        for split in splits {
            let names = PieceNames::beside(split);
            for (id, score) in score_files(split)? {
                bench.push(score, Some(&names.of(&id)))?;
            }
        }
        let mut unread = 0;
        if !more.is_empty() {
            let found = Library::find_scores(more).map_err(|e| EvalError::Performance {
                path: more[0].clone(),
                message: e.to_string(),
            })?;
            for score in found {
                // A file that cannot be opened is as unread as one that is not a score.
                if bench.push(score, None).is_err() {
                    unread += 1;
                }
            }
        }
        Ok((bench, unread))
    }

    /// `score` as a piece, of the work `name` (a case's [`Case::piece`]; `None`: a work of its
    /// own), unless a file of the same bytes is one already.
    fn push(&mut self, score: PathBuf, name: Option<&str>) -> Result<(), EvalError> {
        let key = bytes_key(&score)?;
        if self.by_bytes.contains_key(&key) {
            return Ok(());
        }
        let parsed = Score::load(&score)?;
        let stamp = Stamp::of(&score).unwrap_or(Stamp {
            len: 0,
            modified_ns: 0,
        });
        let piece = self.library.pieces.len();
        self.by_bytes.insert(key, piece);
        let work = name.map_or(piece, |n| {
            *self.by_name.entry(n.to_owned()).or_insert(piece)
        });
        self.works.push(work);
        self.library
            .pieces
            .push(Piece::from_score(score, stamp, &parsed));
        Ok(())
    }

    /// The library's piece for `case`'s score.
    pub fn piece_of(&self, case: &Case) -> Result<Option<usize>, EvalError> {
        Ok(self.by_bytes.get(&bytes_key(&case.score)?).copied())
    }

    /// The work of each piece (pieces of one work share it).
    pub fn works(&self) -> &[usize] {
        &self.works
    }
}

/// Each case folder's id and score file, in order of id.
fn score_files(split: &Path) -> Result<Vec<(String, PathBuf)>, EvalError> {
    let io = |source| EvalError::Io {
        path: split.to_owned(),
        source,
    };
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(split)
        .map_err(io)?
        .filter_map(|e| e.ok())
        .map(|e| {
            let id = e.file_name().to_string_lossy().into_owned();
            let score = e.path().join(format!("{id}.score.mid"));
            (id, score)
        })
        .filter(|(_, p)| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

fn bytes_key(path: &Path) -> Result<u64, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(crate::stamp::fnv1a(&bytes))
}

/// One query's outcome under one method.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub method: Method,
    pub span: Span,
    /// 1-based rank of the query's own piece (the library's size + 1 where it was not ranked).
    pub rank: usize,
    /// The confidence ([`crate::identify::confidence`]) of the ranking where its own piece came
    /// first (0 where it did not), and of the ranking without its own piece: what is said when
    /// the piece is not in the library.
    pub own_confidence: f32,
    pub other_confidence: f32,
    pub seconds: f64,
}

/// The queries of one performance (its chroma, its piece `relevant`) against `library`.
pub fn query_case(
    case_id: &str,
    chroma: &RecordingChroma,
    relevant: usize,
    bench: &BenchLibrary,
    catalogue: &Catalogue,
) -> Vec<Outcome> {
    let (library, works) = (&bench.library, bench.works());
    let mut rng = Rng::from_name(case_id);
    let mut out = Vec::new();
    for span in SPANS {
        let frames = match span {
            Span::Fragment(len) => match cut(chroma, len, &mut rng) {
                Some(frames) => frames,
                None => continue,
            },
            Span::Whole => &chroma.frames[..],
        };
        for method in Method::ALL {
            let started = Instant::now();
            let query = Query::from_frames(frames);
            let fits = catalogue.rank(method, &query);
            let seconds = started.elapsed().as_secs_f64();
            let (rank, without) = place_of(&fits, relevant, works);
            let judged = method != Method::Voting;
            out.push(Outcome {
                method,
                span,
                rank,
                own_confidence: if judged && rank == 1 {
                    confidence(&query, &fits, library)
                } else {
                    0.0
                },
                other_confidence: if judged {
                    confidence(&query, &without, library)
                } else {
                    0.0
                },
                seconds,
            });
        }
    }
    out
}

/// The 1-based rank in `fits` of the first piece of `relevant`'s work (`works`:
/// [`BenchLibrary::works`]; one past the library's size where none was ranked), and the ranking
/// without that work: what is said when the piece is not in the library.
fn place_of(fits: &[Fit], relevant: usize, works: &[usize]) -> (usize, Vec<Fit>) {
    let of_work = |f: &&Fit| works[f.piece] == works[relevant];
    let rank = fits
        .iter()
        .position(|f| of_work(&f))
        .map_or(works.len() + 1, |k| k + 1);
    let without = fits.iter().filter(|f| !of_work(f)).copied().collect();
    (rank, without)
}

impl Outcome {
    /// Named its own piece: ranked it first, sure enough to say so.
    pub fn named(&self) -> bool {
        self.rank == 1 && self.own_confidence >= MIN_CONFIDENCE
    }

    /// Without its own piece in the library, another would have been named.
    pub fn false_match(&self) -> bool {
        self.other_confidence >= MIN_CONFIDENCE
    }
}

/// Library sizes of the scaling run (the issue's).
pub const SCALING_SIZES: [usize; 4] = [100, 300, 1000, 3000];

/// What a query costs as the library grows.
#[derive(Debug, Clone, Copy)]
pub struct ScalingRow {
    pub pieces: usize,
    /// Milliseconds per query on one thread, filter and refine and every piece aligned.
    pub filtered_ms: f64,
    pub full_ms: f64,
    /// The library file's size.
    pub bytes: usize,
}

/// `library` grown to `size` pieces with copies of its pieces in other keys (copy k up k
/// semitones): as long and as dense as real pieces, so a query costs what it would among real
/// ones; the figures are times, not ranks.
pub fn grown(library: &Library, size: usize) -> Library {
    let n = library.pieces.len().max(1);
    let pieces = (0..size)
        .map(|k| {
            let mut p = library.pieces[k % n].clone();
            let shift = (k / n) % 11;
            if shift > 0 {
                p.snippets = p
                    .snippets
                    .iter()
                    .map(|s| std::array::from_fn(|c| s[(c + shift) % CHROMA_DIM]))
                    .collect();
            }
            p
        })
        .collect();
    Library::new(pieces)
}

/// Times `queries` against `library` grown to each of [`SCALING_SIZES`].
pub fn scaling(library: &Library, queries: &[Query]) -> Vec<ScalingRow> {
    SCALING_SIZES
        .iter()
        .map(|&size| {
            let lib = grown(library, size);
            let catalogue = lib.catalogue();
            let time = |method: Method| {
                let started = Instant::now();
                for q in queries {
                    std::hint::black_box(catalogue.rank(method, q));
                }
                1000.0 * started.elapsed().as_secs_f64() / queries.len().max(1) as f64
            };
            ScalingRow {
                pieces: size,
                filtered_ms: time(Method::Alignment),
                full_ms: time(Method::FullAlignment),
                bytes: lib.encoded_len(),
            }
        })
        .collect()
}

/// A query of `span` seconds from `chroma` at a random point (seeded by `case_id`).
pub fn fragment_query(case_id: &str, chroma: &RecordingChroma, span: f64) -> Option<Query> {
    cut(chroma, span, &mut Rng::from_name(case_id)).map(Query::from_frames)
}

/// `span` seconds of `chroma` from a random point; `None` if it is shorter.
fn cut<'a>(
    chroma: &'a RecordingChroma,
    span: f64,
    rng: &mut Rng,
) -> Option<&'a [[f32; CHROMA_DIM]]> {
    fragment_start(chroma.duration_s(), span, rng).map(|start| {
        let first = (start * THEME_RATE_HZ) as usize;
        let last = (first + (span * THEME_RATE_HZ) as usize).min(chroma.frames.len());
        &chroma.frames[first..last]
    })
}

/// Where a fragment of `span` seconds of a `duration` long recording starts, at random; `None`
/// if the recording is shorter.
fn fragment_start(duration: f64, span: f64, rng: &mut Rng) -> Option<f64> {
    (span < duration).then(|| rng.uniform() * (duration - span))
}

/// One query's ranks under seed 003's cross-modal embedding ([`crate::identify::crossmodal`]).
#[derive(Debug, Clone, Copy)]
pub struct CrossModalOutcome {
    pub span: Span,
    /// 1-based rank of the query's own piece, and by snippet voting (seed 002's baseline).
    pub rank: usize,
    pub voting_rank: usize,
    /// The own piece's place in the shortlist's rough ranking (the snippet index's votes).
    pub shortlist_rank: usize,
    /// As [`Outcome`]'s ([`crate::identify::crossmodal_confidence`]).
    pub own_confidence: f32,
    pub other_confidence: f32,
    /// Embedding the query at every tempo scale, ranking the pieces and the confidence.
    pub seconds: f64,
}

/// The queries of one performance ([`query_case`]'s, from the same points) described by the
/// cross-modal embedding and ranked as `segno identify` ranks them (filter and refine):
/// `semitones` is the recording's semitone spectrogram, `chroma_s` its chroma's duration (what
/// the fragments are drawn from), `catalogue` the library's pieces embedded.
pub fn crossmodal_case(
    case_id: &str,
    semitones: &[f32],
    chroma_s: f64,
    relevant: usize,
    bench: &BenchLibrary,
    catalogue: &Catalogue<'_, EMBEDDING_DIM>,
    model: &mut CrossModal,
) -> Result<CrossModalQueries, EvalError> {
    let (library, works) = (&bench.library, bench.works());
    let mut rng = Rng::from_name(case_id);
    let (mut out, mut whole) = (Vec::new(), None);
    for span in SPANS {
        let bands = match span {
            Span::Fragment(len) => {
                // The same draw as the chroma's queries ([`cut`]), from the same point.
                let Some(start) = fragment_start(chroma_s, len, &mut rng) else {
                    continue;
                };
                semitone_span(semitones, start, len)
            }
            Span::Whole => semitones,
        };
        let started = Instant::now();
        let query = model.query(bands)?;
        let fits = catalogue.rank(Method::Alignment, &query);
        let own_confidence = crossmodal_confidence(&query, &fits, library, model)?;
        let seconds = started.elapsed().as_secs_f64();
        if span == Span::Whole {
            whole = Some(query.clone());
        }
        let (rank, without) = place_of(&fits, relevant, works);
        let (voting_rank, _) = place_of(&catalogue.rank(Method::Voting, &query), relevant, works);
        let rough = catalogue.shortlist().rough_ranking(&query);
        let (shortlist_rank, _) = place_of(&rough, relevant, works);
        out.push(CrossModalOutcome {
            span,
            rank,
            voting_rank,
            shortlist_rank,
            own_confidence: if rank == 1 { own_confidence } else { 0.0 },
            other_confidence: crossmodal_confidence(&query, &without, library, model)?,
            seconds,
        });
    }
    Ok((out, whole))
}

/// One performance's outcomes, and its whole recording's query (the score-to-audio direction
/// ranks it).
pub type CrossModalQueries = (Vec<CrossModalOutcome>, Option<Query<EMBEDDING_DIM>>);

/// `len` seconds of a semitone spectrogram (hops × [`BANDS`]) from `start_s`.
fn semitone_span(semitones: &[f32], start_s: f64, len: f64) -> &[f32] {
    let hops = semitones.len() / BANDS;
    let hop = |s: f64| ((s / HOP_S) as usize).min(hops) * BANDS;
    &semitones[hop(start_s)..hop(start_s + len)]
}

/// The first fragment [`crossmodal_case`] draws for `case_id`, of `span` seconds.
pub fn crossmodal_fragment<'a>(
    case_id: &str,
    semitones: &'a [f32],
    chroma_s: f64,
    span: f64,
) -> Option<&'a [f32]> {
    fragment_start(chroma_s, span, &mut Rng::from_name(case_id))
        .map(|start| semitone_span(semitones, start, span))
}

/// What cross-modal queries cost as the library grows.
#[derive(Debug, Clone, Copy)]
pub struct CrossModalScalingRow {
    pub row: ScalingRow,
    /// Embedding a query at every tempo scale, ms (the same at every size).
    pub embed_ms: f64,
    /// Building the snippet index ([`NeighbourIndex`], one thread), s.
    pub index_s: f64,
    /// Of filter and refine, the filter alone (the index's votes), ms per query.
    pub filter_ms: f64,
    /// The confidence after the ranking (the transposed rival embedded and aligned), ms.
    pub confidence_ms: f64,
}

/// Times `queries` (semitone spectrograms) against `library` with `pieces` as its embeddings,
/// grown to each of [`SCALING_SIZES`] as [`grown`] grows it (the embeddings copied as they are).
pub fn crossmodal_scaling(
    library: &Library,
    pieces: &[Vec<Embedding>],
    queries: &[&[f32]],
    model: &mut CrossModal,
) -> Result<Vec<CrossModalScalingRow>, EvalError> {
    let started = Instant::now();
    let embedded: Vec<Query<EMBEDDING_DIM>> = queries
        .iter()
        .map(|q| model.query(q))
        .collect::<Result<_, _>>()?;
    let embed_ms = 1000.0 * started.elapsed().as_secs_f64() / queries.len().max(1) as f64;
    let mut with_embeddings = Library::new(library.pieces.clone());
    for (p, e) in with_embeddings.pieces.iter_mut().zip(pieces) {
        p.embeddings = e.clone();
    }
    SCALING_SIZES
        .iter()
        .map(|&size| {
            let lib = grown(&with_embeddings, size);
            let music = lib.embedding_lists();
            let started = Instant::now();
            let index = NeighbourIndex::build(&music)?;
            let index_s = started.elapsed().as_secs_f64();
            let catalogue = Catalogue::with_shortlist(music.iter().copied(), &index);
            let per_query = |started: Instant| {
                1000.0 * started.elapsed().as_secs_f64() / embedded.len().max(1) as f64
            };
            let time = |method: Method| {
                let started = Instant::now();
                for q in &embedded {
                    std::hint::black_box(catalogue.rank(method, q));
                }
                per_query(started)
            };
            let started = Instant::now();
            for q in &embedded {
                std::hint::black_box(catalogue.shortlist().rough_ranking(q));
            }
            let filter_ms = per_query(started);
            let ranked: Vec<Vec<Fit>> = embedded
                .iter()
                .map(|q| catalogue.rank(Method::Alignment, q))
                .collect();
            let started = Instant::now();
            for (q, fits) in embedded.iter().zip(&ranked) {
                std::hint::black_box(crossmodal_confidence(q, fits, &lib, model)?);
            }
            let confidence_ms = per_query(started);
            Ok(CrossModalScalingRow {
                row: ScalingRow {
                    pieces: size,
                    filtered_ms: time(Method::Alignment),
                    full_ms: time(Method::FullAlignment),
                    bytes: lib.encoded_len() + index.serialized_len(),
                },
                embed_ms,
                index_s,
                filter_ms,
                confidence_ms,
            })
        })
        .collect()
}

/// The library's pieces embedded by the cross-modal score pathway, on `threads` threads (each
/// piece by the model `resources` finds).
pub fn embed_library(
    library: &Library,
    resources: &Resources,
    threads: usize,
) -> Result<Vec<Vec<Embedding>>, EvalError> {
    let results = super::run::run_all(
        &library.pieces,
        threads,
        |p| p.title(),
        &|_, _, _| {},
        |piece| {
            let score = Score::load(&piece.path)?;
            let mut model = CrossModal::installed(resources, crate::nn::Device::Cpu)?;
            Ok(model.score(&score, piece.duration_s)?)
        },
    );
    results
        .into_iter()
        .map(|r| {
            r.map_err(|(path, message)| EvalError::Performance {
                path: path.into(),
                message,
            })
        })
        .collect()
}

/// Score to audio (seed 002's other direction): each performance's score is the query, and its
/// performance is ranked among the performances of every other piece, so that exactly one
/// document is relevant (as in the theme search). `pieces[r]` is recording `r`'s piece in
/// `library`, `works[p]` piece `p`'s work ([`BenchLibrary::works`]: the recordings of another
/// file of the same work are not ranked against); the result is each recording's 1-based rank
/// for its own score.
pub fn score_to_audio_ranks(
    library: &Library,
    works: &[usize],
    pieces: &[usize],
    recordings: &[Query],
) -> Vec<usize> {
    let music: Vec<&[Snippet]> = library
        .pieces
        .iter()
        .map(|p| p.snippets.as_slice())
        .collect();
    score_to_audio_ranks_by(&music, works, pieces, recordings)
}

/// [`score_to_audio_ranks`] by any snippet descriptor: `music[p]` is piece `p`'s.
pub fn score_to_audio_ranks_by<const N: usize>(
    music: &[&[[f32; N]]],
    works: &[usize],
    pieces: &[usize],
    recordings: &[Query<N>],
) -> Vec<usize> {
    let mut costs: HashMap<usize, Vec<f32>> = HashMap::new();
    for &p in pieces {
        costs.entry(p).or_insert_with(|| {
            let music = music[p];
            recordings
                .iter()
                .map(|q| crate::identify::rank::fit(q, music, p).map_or(f32::INFINITY, |f| f.cost))
                .collect()
        });
    }
    pieces
        .iter()
        .enumerate()
        .map(|(r, p)| {
            let cost = &costs[p];
            // Ties count against the relevant recording.
            1 + pieces
                .iter()
                .zip(cost)
                .filter(|&(other, c)| works[*other] != works[*p] && *c <= cost[r])
                .count()
        })
        .collect()
}

/// Seed 002's retrieval figures over a set of ranks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub queries: usize,
    pub recall: [f64; 3],
    pub mrr: f64,
    pub median_rank: f64,
}

/// Recall is reported at these ranks.
pub const RECALL_AT: [usize; 3] = [1, 5, 10];

impl Figures {
    pub fn of(ranks: &[usize]) -> Self {
        let n = ranks.len().max(1) as f64;
        let mut sorted = ranks.to_vec();
        sorted.sort_unstable();
        let median_rank = match sorted.len() {
            0 => f64::NAN,
            l if l % 2 == 1 => sorted[l / 2] as f64,
            l => (sorted[l / 2 - 1] + sorted[l / 2]) as f64 / 2.0,
        };
        Self {
            queries: ranks.len(),
            recall: RECALL_AT.map(|k| ranks.iter().filter(|&&r| r <= k).count() as f64 / n),
            mrr: ranks.iter().map(|&r| 1.0 / r as f64).sum::<f64>() / n,
            median_rank,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_to_audio_ranks_each_recording_among_the_other_pieces_recordings() {
        use crate::identify::cens::snippets;
        // Three pieces of different music, two recordings of the first.
        let music = |seed: u64| -> Vec<[f32; CHROMA_DIM]> {
            let mut rng = Rng::new(seed);
            let mut frames = Vec::new();
            for _ in 0..40 {
                let mut f = [0.05; CHROMA_DIM];
                f[(rng.next_u64() % 12) as usize] = 1.0;
                f[(rng.next_u64() % 12) as usize] = 0.8;
                frames.extend(std::iter::repeat_n(f, 12));
            }
            frames
        };
        let pieces: Vec<Vec<[f32; CHROMA_DIM]>> = (1..=3).map(music).collect();
        let mut library = Library::default();
        for (k, frames) in pieces.iter().enumerate() {
            library.pieces.push(Piece {
                path: format!("p{k}.mid").into(),
                stamp: Stamp {
                    len: 0,
                    modified_ns: 0,
                },
                duration_s: 0.0,
                snippets: snippets(frames, 1.0),
                embeddings: Vec::new(),
                measures: Vec::new(),
            });
        }
        let recordings: Vec<Query> = [0, 0, 1, 2]
            .iter()
            .map(|&k| Query::from_frames(&pieces[k]))
            .collect();
        let works = [0, 1, 2];
        let ranks = score_to_audio_ranks(&library, &works, &[0, 0, 1, 2], &recordings);
        assert_eq!(ranks, vec![1, 1, 1, 1]);
        // A recording of piece 2 said to be of piece 0, beside one of piece 0 said to be of
        // piece 1: piece 0's score finds the latter first.
        let swapped = [2, 0].map(|k| Query::from_frames(&pieces[k]));
        assert_eq!(
            score_to_audio_ranks(&library, &works, &[0, 1], &swapped)[0],
            2
        );
        // Unless pieces 0 and 1 are files of one work: then the latter is no other piece's.
        assert_eq!(
            score_to_audio_ranks(&library, &[0, 0, 2], &[0, 1], &swapped)[0],
            1
        );
    }

    #[test]
    fn another_file_of_the_querys_work_is_a_hit_and_never_another_piece() {
        let fit = |piece| Fit {
            piece,
            cost: 0.1 * piece as f32,
            start_s: 0.0,
            end_s: 1.0,
            scale: 1.0,
        };
        let fits = [fit(3), fit(1), fit(2), fit(0)];
        // Pieces 1 and 2 are two score files of one work; 0 and 3 are works of their own.
        let works = [0, 1, 1, 3];
        let (rank, without) = place_of(&fits, 2, &works);
        assert_eq!(rank, 2);
        assert_eq!(without.iter().map(|f| f.piece).collect::<Vec<_>>(), [3, 0]);
        let (rank, without) = place_of(&fits, 0, &works);
        assert_eq!(rank, 4);
        assert_eq!(without.len(), 3);
        assert_eq!(place_of(&fits[..1], 0, &works).0, works.len() + 1);
    }

    #[test]
    fn figures_follow_seed_002s_definitions() {
        let f = Figures::of(&[1, 1, 2, 7, 30]);
        assert_eq!(f.queries, 5);
        assert_eq!(f.recall, [0.4, 0.6, 0.8]);
        assert!((f.mrr - (1.0 + 1.0 + 0.5 + 1.0 / 7.0 + 1.0 / 30.0) / 5.0).abs() < 1e-12);
        assert_eq!(f.median_rank, 2.0);
        assert_eq!(Figures::of(&[3, 5]).median_rank, 4.0);
    }
}
