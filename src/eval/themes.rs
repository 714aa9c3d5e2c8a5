//! The theme search's benchmark (seed 004, §4.2): themes drawn from the dev scores' top voice,
//! searched for among the dev performances rendered on another piano, ranked, and scored by the
//! rank of the one performance that holds each theme (Top-k, MRR).
//!
//! Several dev cases are performances of the same piece; a theme's pool holds one of them (the
//! relevant document, taken in turn) and every performance of the other pieces, so that each
//! query has exactly one relevant document, as in the paper.

use std::path::PathBuf;
use std::time::Instant;

use super::cases::Case;
use super::metrics::truth_perf_at;
use super::run::{render_performance, run_all, EvalConfig, EvalError};
use crate::features::SAMPLE_RATE;
use crate::rng::Rng;
use crate::score::Score;
use crate::themes::{self, ChromaExtractor, RecordingChroma, Theme, ThemeNote, Transpositions};

/// Notes per theme, as the issue asks: the top voice of 4–12-note phrases.
const NOTES: std::ops::RangeInclusive<usize> = 4..=12;
/// A theme lasts at least this long in the score: a few fast notes are a figure, not a theme.
const MIN_THEME_S: f64 = 2.0;
/// Composers whose dev pieces give the themes a trained chroma is measured on, and none of whose
/// train pieces it is trained on: seed 004 splits its themes by composer, so that a model is
/// never tested on a composer it learned from. Together they hold 84 of the 106 dev cases.
pub const HELD_OUT_COMPOSERS: [&str; 8] = [
    "chopin",
    "mozart",
    "schubert",
    "haydn",
    "schumann",
    "ravel",
    "debussy",
    "prokofiev",
];
/// Ranks reported (seed 004, Tables 3–6).
pub const TOP_K: [usize; 5] = [1, 5, 10, 20, 50];
/// A hit is at the right place when its centre lies within the theme's true span, this much
/// to spare either side.
const PLACE_TOLERANCE_S: f64 = 0.5;

/// One theme of the benchmark.
#[derive(Debug, Clone)]
pub struct BenchTheme {
    pub theme: Theme,
    /// Piece number (cases with the same score are one piece).
    pub piece: usize,
    /// The case whose performance is the relevant document.
    pub relevant: usize,
    /// Where the theme is played in that performance, from its truth.
    pub perf_span: (f64, f64),
}

/// The rank of each theme's relevant document, and the cost of the searches.
#[derive(Debug, Clone, Default)]
pub struct ThemeResults {
    /// 1-based rank of the relevant document per theme.
    pub ranks: Vec<usize>,
    /// Themes whose relevant document ranked first with its match at the theme's true place.
    pub placed: usize,
    /// Documents per query (the pool, the same for every theme of a piece).
    pub pool: Vec<usize>,
    pub recordings_s: f64,
    /// Seconds per query, each on one thread, and the seconds of recordings it searched.
    pub query_s: Vec<f64>,
    pub pool_s: Vec<f64>,
}

impl ThemeResults {
    pub fn top(&self, k: usize) -> f64 {
        self.ranks.iter().filter(|&&r| r <= k).count() as f64 / self.ranks.len().max(1) as f64
    }

    /// Seconds a query takes over `hours` of recordings, scaled from the pools searched.
    pub fn seconds_per_query(&self, hours: f64) -> f64 {
        let searched: f64 = self.pool_s.iter().sum();
        self.query_s.iter().sum::<f64>() / searched.max(1e-9) * hours * 3600.0
    }

    pub fn mrr(&self) -> f64 {
        self.ranks.iter().map(|&r| 1.0 / r as f64).sum::<f64>() / self.ranks.len().max(1) as f64
    }
}

/// `per_piece` themes from each piece's top voice (`piece_of`: [`super::cases::pieces`]), at
/// random places (seeded by the piece's first case), each assigned to one of the piece's
/// performances in turn.
pub fn draw_themes(
    cases: &[Case],
    piece_of: &[usize],
    per_piece: usize,
) -> Result<Vec<BenchTheme>, EvalError> {
    let mut out = Vec::new();
    for piece in 0..piece_of.iter().max().map_or(0, |m| m + 1) {
        let performances: Vec<usize> = (0..cases.len()).filter(|&c| piece_of[c] == piece).collect();
        let first = &cases[performances[0]];
        let score = Score::load(&first.score)?;
        let top = Theme::top_voice(&score);
        let starts: Vec<f64> = score.onsets().iter().map(|o| o.score_s).collect();
        let mut rng = Rng::from_name(&first.id);
        let mut taken = Vec::new();
        for _ in 0..per_piece * 50 {
            if taken.len() == per_piece {
                break;
            }
            let k = NOTES.start() + (rng.uniform() * NOTES.clone().count() as f64) as usize;
            let Some(room) = top.notes.len().checked_sub(k) else {
                break;
            };
            let at = (rng.uniform() * (room + 1) as f64) as usize;
            let notes: Vec<ThemeNote> = top.notes[at..at + k].to_vec();
            let span = (
                starts[at],
                starts[at] + notes.iter().map(|n| n.duration_s).sum::<f64>(),
            );
            if span.1 - span.0 < MIN_THEME_S || taken.contains(&at) {
                continue;
            }
            let relevant = performances[taken.len() % performances.len()];
            let Some(perf_span) = perf_span(&cases[relevant].truth, span) else {
                continue;
            };
            taken.push(at);
            out.push(BenchTheme {
                theme: Theme {
                    notes,
                    tempo: top.tempo,
                },
                piece,
                relevant,
                perf_span,
            });
        }
    }
    Ok(out)
}

/// The performance times of a score span, read linearly between truth rows; `None` outside them.
fn perf_span(truth: &[(f64, f64)], (s0, s1): (f64, f64)) -> Option<(f64, f64)> {
    let (first, last) = (truth.first()?.0, truth.last()?.0);
    (s0 >= first && s1 < last).then(|| (truth_perf_at(truth, s0), truth_perf_at(truth, s1)))
}

/// The chroma of `case`'s performance, rendered as `cfg` says and described by `extractor`, and
/// the seconds that chroma took per second of audio (what describing a recording costs before
/// any search).
pub fn performance_chroma(
    case: &Case,
    cfg: &EvalConfig,
    extractor: &mut ChromaExtractor,
) -> Result<(RecordingChroma, f64), EvalError> {
    let (audio, _) = render_performance(case, cfg)?;
    let started = Instant::now();
    let chroma = extractor.chroma(&audio, SAMPLE_RATE)?;
    let per_second = started.elapsed().as_secs_f64() / chroma.duration_s().max(1e-9);
    Ok((chroma, per_second))
}

/// Searches for every theme among its pool (on `threads` threads, each query on one) and scores
/// the ranks.
pub fn search_all(
    themes: &[BenchTheme],
    cases: &[Case],
    piece_of: &[usize],
    recordings: &[RecordingChroma],
    transpositions: Transpositions,
    threads: usize,
) -> ThemeResults {
    let names: Vec<PathBuf> = cases.iter().map(|c| c.id.clone().into()).collect();
    let corpus = Corpus {
        piece_of,
        names: &names,
        recordings,
    };
    let queries = run_all(
        themes,
        threads,
        |_| String::new(),
        &|_, _, _| {},
        |t| Ok(corpus.search(t, transpositions)),
    );
    let mut results = ThemeResults {
        recordings_s: recordings.iter().map(RecordingChroma::duration_s).sum(),
        ..Default::default()
    };
    for q in queries.into_iter().flatten() {
        results.ranks.push(q.rank);
        results.placed += usize::from(q.placed);
        results.pool.push(q.pool);
        results.pool_s.push(q.pool_s);
        results.query_s.push(q.seconds);
    }
    results
}

/// The benchmark's recordings, each named by its case and known by its piece.
struct Corpus<'a> {
    piece_of: &'a [usize],
    names: &'a [PathBuf],
    recordings: &'a [RecordingChroma],
}

/// One theme searched for.
struct Query {
    rank: usize,
    placed: bool,
    pool: usize,
    pool_s: f64,
    seconds: f64,
}

impl Corpus<'_> {
    fn search(&self, t: &BenchTheme, transpositions: Transpositions) -> Query {
        let pool: Vec<usize> = (0..self.names.len())
            .filter(|&c| c == t.relevant || self.piece_of[c] != t.piece)
            .collect();
        let started = Instant::now();
        let hits = themes::rank(
            &t.theme,
            pool.iter()
                .map(|&c| (self.names[c].as_path(), &self.recordings[c])),
            transpositions,
        );
        let seconds = started.elapsed().as_secs_f64();
        let relevant = self.names[t.relevant].as_path();
        let rank = hits
            .iter()
            .position(|h| h.recording == relevant)
            .map_or(pool.len(), |r| r + 1);
        let placed = rank == 1 && {
            let centre = (hits[0].found.start_s + hits[0].found.end_s) / 2.0;
            let (a, b) = t.perf_span;
            centre >= a - PLACE_TOLERANCE_S && centre <= b + PLACE_TOLERANCE_S
        };
        Query {
            rank,
            placed,
            pool: pool.len(),
            pool_s: pool.iter().map(|&c| self.recordings[c].duration_s()).sum(),
            seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_read_between_truth_rows_and_not_beyond() {
        let truth = [(0.0, 1.0), (2.0, 5.0), (4.0, 6.0)];
        assert_eq!(perf_span(&truth, (1.0, 3.0)), Some((3.0, 5.5)));
        assert_eq!(perf_span(&truth, (3.0, 5.0)), None);
    }

    #[test]
    fn ranks_score_as_top_k_and_mrr() {
        let r = ThemeResults {
            ranks: vec![1, 2, 10, 60],
            ..Default::default()
        };
        assert_eq!(r.top(1), 0.25);
        assert_eq!(r.top(10), 0.75);
        assert!((r.mrr() - (1.0 + 0.5 + 0.1 + 1.0 / 60.0) / 4.0).abs() < 1e-12);
    }
}
