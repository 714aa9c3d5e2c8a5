//! Ranking pieces for a query (seed 002): the query's snippet sequence is aligned to each piece's
//! with subsequence DTW ([`crate::align::dtw::subsequence_match`]) over the snippets' cosine
//! distance, and pieces are ranked by the cost of their best alignment. Snippet voting, seed
//! 002's baseline, is kept for comparison.
//!
//! Subsequence DTW serves whole pieces and fragments alike: a whole recording aligns with all of
//! its score, a fragment with the part it plays. A pianist's tempo can be a third or more than
//! three times the written one (the dev set's range: 0.54 to 3.64 times as long), more than the
//! DTW's local steps (half to twice) cover, so the query is also described at several tempi
//! ([`TEMPO_SCALES`]).

use crate::align::dtw::subsequence_match;
use crate::features::CHROMA_DIM;

use super::cens::{distance, Snippet, SNIPPET_RATE_HZ};

/// The recording is described as if played this many times as slowly as written. With the DTW's
/// steps this covers about a third to five and a half times the written duration.
pub const TEMPO_SCALES: [f64; 5] = [0.7, 1.0, 1.4, 2.0, 2.8];

/// A query: one snippet sequence per tempo scale ([`TEMPO_SCALES`]), of chroma snippets or of
/// other unit descriptors of `N` values ([`super::crossmodal`]'s embeddings).
#[derive(Debug, Clone)]
pub struct Query<const N: usize = CHROMA_DIM> {
    pub scaled: Vec<(f64, Vec<[f32; N]>)>,
}

/// How well a query matches one piece.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// The piece's index in what was ranked.
    pub piece: usize,
    /// Alignment cost per query snippet: 0 alike, 1 unrelated (votes: 1 less the piece's share).
    pub cost: f32,
    /// Where in the piece the query matches, in seconds of its written timeline.
    pub start_s: f64,
    pub end_s: f64,
    /// How many times as slowly as written the query is played there.
    pub scale: f64,
}

/// How pieces are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Subsequence DTW of the snippet sequences (seed 002's method), on a shortlist of pieces
    /// that a coarse alignment of every piece picks ([`filter_and_refine`]).
    Alignment,
    /// The same alignment with every piece of the library.
    FullAlignment,
    /// Each query snippet at the written tempo votes for the piece of its nearest snippet
    /// (seed 002's baseline).
    Voting,
}

impl Method {
    pub const ALL: [Self; 3] = [Self::Alignment, Self::FullAlignment, Self::Voting];

    pub fn name(self) -> &'static str {
        match self {
            Self::Alignment => "alignment",
            Self::FullAlignment => "full-alignment",
            Self::Voting => "voting",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!("unknown ranking method '{s}'; use alignment, full-alignment or voting")
            })
    }
}

/// The best alignment of `query` in `piece`, over the tempo scales; `None` where the piece is
/// too short for the query at every scale.
pub fn fit<const N: usize>(query: &Query<N>, piece: &[[f32; N]], index: usize) -> Option<Fit> {
    let mut best: Option<Fit> = None;
    for (scale, q) in &query.scaled {
        let similar = similarities(q, piece);
        let Some(m) = subsequence_match(q.len(), piece.len(), |i, j| {
            1.0 - similar[i * piece.len() + j]
        }) else {
            continue;
        };
        let cost = m.total / q.len() as f32;
        if best.is_none_or(|b| cost < b.cost) {
            best = Some(Fit {
                piece: index,
                cost,
                start_s: m.start as f64 / SNIPPET_RATE_HZ,
                end_s: (m.end + 1) as f64 / SNIPPET_RATE_HZ,
                scale: *scale,
            });
        }
    }
    best
}

/// Every pair's cosine similarity (unit snippets), row by row: `a[i]`'s with `b[j]` at
/// `i * b.len() + j`. One matrix product rather than a dot product per DTW cell: it is most of
/// an alignment's time, and the product uses the processor's widest vector instructions, which
/// it detects when run ([`ndarray`]'s `matrixmultiply`).
fn similarities<const N: usize>(a: &[[f32; N]], b: &[[f32; N]]) -> Vec<f32> {
    fn view<const N: usize>(x: &[[f32; N]]) -> ndarray::ArrayView2<'_, f32> {
        ndarray::ArrayView2::from_shape((x.len(), N), x.as_flattened()).expect("rows of N")
    }
    let mut out = ndarray::Array2::zeros((a.len(), b.len()));
    ndarray::linalg::general_mat_mul(1.0, &view(a), &view(b).t(), 0.0, &mut out);
    out.into_raw_vec_and_offset().0
}

/// The least `query` costs against `piece` in any of the eleven other keys: music with the
/// piece's texture, rhythm and harmonic pace, but other notes. A query that plays the piece costs
/// far less in its own key; one that fits it only as music in a related key would (a fifth away
/// shares six of its seven scale notes) costs about as much in that key. `None` where the piece
/// is too short for the query.
pub fn transposed_cost(query: &Query, piece: &[Snippet]) -> Option<f32> {
    (1..CHROMA_DIM)
        .filter_map(|shift| {
            let moved: Vec<Snippet> = piece
                .iter()
                .map(|s| std::array::from_fn(|c| s[(c + shift) % CHROMA_DIM]))
                .collect();
            fit(query, &moved, 0).map(|f| f.cost)
        })
        .min_by(f32::total_cmp)
}

/// Pieces ranked by alignment, best first; pieces too short for the query are left out.
pub fn by_alignment<'a, const N: usize>(
    query: &Query<N>,
    pieces: impl IntoIterator<Item = &'a [[f32; N]]>,
) -> Vec<Fit> {
    let mut fits: Vec<Fit> = pieces
        .into_iter()
        .enumerate()
        .filter_map(|(k, p)| fit(query, p, k))
        .collect();
    fits.sort_by(|a, b| a.cost.total_cmp(&b.cost));
    fits
}

/// Snippets are averaged in runs of one of these many for the coarse alignment: the longest run
/// that leaves the query [`MIN_COARSE_ROWS`] at the written tempo (a 10 s query 2, 20 s and
/// longer 4: a sixteenth of the cells). Runs of 8 (a sixty-fourth) halved the time of a 30 s
/// query in a library of 1000 pieces but lost the right piece from the shortlist for 2 of 39
/// one-minute queries on train (BENCHMARKS.md, "Piece identification").
pub const COARSE_RUNS: [usize; 2] = [2, 4];
const MIN_COARSE_ROWS: usize = 8;
/// The coarse alignment's shortlist: this many pieces are aligned in full.
pub const SHORTLIST: usize = 24;

/// `snippets` averaged in runs of `run`, each unit length again.
pub fn coarse<const N: usize>(snippets: &[[f32; N]], run: usize) -> Vec<[f32; N]> {
    snippets
        .chunks(run)
        .map(|run| {
            let mut s = [0f32; N];
            for x in run {
                s.iter_mut().zip(x).for_each(|(s, x)| *s += x);
            }
            let norm = s.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                s.iter_mut().for_each(|x| *x /= norm);
            }
            s
        })
        .collect()
}

/// What picks the pieces worth a full alignment: all of them, ranked roughly, best first. On one
/// machine, learned snippets vote through a nearest-neighbour index
/// ([`super::neighbours::NeighbourIndex`]) and chroma snippets, too weak to vote, align every
/// piece coarsely ([`CoarseAlignment`]); a library beyond one machine would put a vector engine
/// behind this trait (docs/identify-at-scale.md).
pub trait Shortlist<const N: usize = CHROMA_DIM> {
    fn rough_ranking(&self, query: &Query<N>) -> Vec<Fit>;

    /// How many of the rough ranking's best the full alignment re-ranks.
    fn keeps(&self) -> usize {
        SHORTLIST
    }
}

impl<const N: usize, T: Shortlist<N> + ?Sized> Shortlist<N> for &T {
    fn rough_ranking(&self, query: &Query<N>) -> Vec<Fit> {
        (**self).rough_ranking(query)
    }

    fn keeps(&self) -> usize {
        (**self).keeps()
    }
}

/// Every piece aligned with snippets averaged in runs ([`COARSE_RUNS`]) both ways.
pub struct CoarseAlignment<const N: usize = CHROMA_DIM> {
    /// Per run length, every piece's averaged snippets.
    levels: Vec<(usize, Vec<Vec<[f32; N]>>)>,
}

impl<const N: usize> CoarseAlignment<N> {
    pub fn new<'a>(pieces: impl IntoIterator<Item = &'a [[f32; N]]> + Clone) -> Self {
        Self {
            levels: COARSE_RUNS
                .iter()
                .map(|&run| {
                    (
                        run,
                        pieces.clone().into_iter().map(|p| coarse(p, run)).collect(),
                    )
                })
                .collect(),
        }
    }
}

impl<const N: usize> Shortlist<N> for CoarseAlignment<N> {
    fn rough_ranking(&self, query: &Query<N>) -> Vec<Fit> {
        let rows = query
            .scaled
            .iter()
            .find(|(s, _)| *s == 1.0)
            .map_or(0, |(_, q)| q.len());
        let (run, pieces) = self
            .levels
            .iter()
            .rev()
            .find(|(run, _)| rows / run >= MIN_COARSE_ROWS)
            .unwrap_or(&self.levels[0]);
        let coarse_query = Query {
            scaled: query
                .scaled
                .iter()
                .map(|(s, q)| (*s, coarse(q, *run)))
                .collect(),
        };
        by_alignment(&coarse_query, pieces.iter().map(Vec::as_slice))
    }
}

/// Filter and refine (seed 002, §III-D): the best of `shortlist`'s rough ranking (as many as it
/// [keeps](Shortlist::keeps)) are aligned in full. Ranked best first: the shortlist by their full
/// alignment, then the rest in their rough order.
pub fn filter_and_refine<const N: usize>(
    query: &Query<N>,
    fine: &[&[[f32; N]]],
    shortlist: &dyn Shortlist<N>,
) -> Vec<Fit> {
    let mut rough = shortlist.rough_ranking(query);
    let keep = shortlist.keeps().min(rough.len());
    let mut refined: Vec<Fit> = rough[..keep]
        .iter()
        .filter_map(|r| fit(query, fine[r.piece], r.piece))
        .collect();
    refined.sort_by(|a, b| a.cost.total_cmp(&b.cost));
    let rest = rough.split_off(keep);
    // The rest keep their rough order, after the shortlist whatever their rough cost.
    let floor = refined.last().map_or(0.0, |f| f.cost);
    refined.extend(rest.into_iter().map(|r| Fit {
        cost: r.cost.max(floor),
        ..r
    }));
    refined
}

/// Pieces ranked by votes, most first, with each piece's share of the votes as `1 - cost`; pieces
/// that got none are left out.
pub fn by_voting<'a, const N: usize>(
    query: &Query<N>,
    pieces: impl IntoIterator<Item = &'a [[f32; N]]>,
) -> Vec<Fit> {
    let pieces: Vec<&[[f32; N]]> = pieces.into_iter().collect();
    let written = query
        .scaled
        .iter()
        .min_by(|a, b| (a.0 - 1.0).abs().total_cmp(&(b.0 - 1.0).abs()))
        .map_or(&[][..], |(_, q)| q.as_slice());
    let mut votes = vec![0usize; pieces.len()];
    for q in written.iter().filter(|q| q.iter().any(|&x| x != 0.0)) {
        let nearest = pieces
            .iter()
            .enumerate()
            .flat_map(|(k, p)| p.iter().map(move |s| (k, distance(q, s))))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((k, _)) = nearest {
            votes[k] += 1;
        }
    }
    let total = votes.iter().sum();
    ranked_by_votes(votes.into_iter().enumerate().filter(|&(_, v)| v > 0), total)
}

/// Pieces (`(piece, votes)`) ranked by their share of `voters` votes, most first, the share as
/// `1 - cost`; ties keep their order.
pub fn ranked_by_votes(votes: impl IntoIterator<Item = (usize, usize)>, voters: usize) -> Vec<Fit> {
    let mut fits: Vec<Fit> = votes
        .into_iter()
        .map(|(piece, v)| Fit {
            piece,
            cost: 1.0 - v as f32 / voters.max(1) as f32,
            start_s: 0.0,
            end_s: 0.0,
            scale: 1.0,
        })
        .collect();
    fits.sort_by(|a, b| a.cost.total_cmp(&b.cost));
    fits
}

/// The pieces a query is ranked among, with what the filter compares (made once, kept for every
/// query).
pub struct Catalogue<'a, const N: usize = CHROMA_DIM> {
    fine: Vec<&'a [[f32; N]]>,
    shortlist: Box<dyn Shortlist<N> + Send + Sync + 'a>,
}

impl<'a, const N: usize> Catalogue<'a, N> {
    /// `pieces`, shortlisted by their coarse alignment ([`CoarseAlignment`]).
    pub fn new(pieces: impl IntoIterator<Item = &'a [[f32; N]]>) -> Self {
        let fine: Vec<&[[f32; N]]> = pieces.into_iter().collect();
        let shortlist = Box::new(CoarseAlignment::new(fine.iter().copied()));
        Self { fine, shortlist }
    }

    /// `pieces`, shortlisted by `shortlist` (such as [`super::neighbours::NeighbourIndex`]).
    pub fn with_shortlist(
        pieces: impl IntoIterator<Item = &'a [[f32; N]]>,
        shortlist: impl Shortlist<N> + Send + Sync + 'a,
    ) -> Self {
        Self {
            fine: pieces.into_iter().collect(),
            shortlist: Box::new(shortlist),
        }
    }

    /// What picks the pieces worth a full alignment.
    pub fn shortlist(&self) -> &dyn Shortlist<N> {
        self.shortlist.as_ref()
    }

    /// The pieces ranked for `query` by `method`, best first.
    pub fn rank(&self, method: Method, query: &Query<N>) -> Vec<Fit> {
        match method {
            Method::Alignment => filter_and_refine(query, &self.fine, self.shortlist.as_ref()),
            Method::FullAlignment => by_alignment(query, self.fine.iter().copied()),
            Method::Voting => by_voting(query, self.fine.iter().copied()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::CHROMA_DIM;
    use crate::identify::cens::snippets;
    use crate::rng::Rng;

    /// Chroma frames of random chords, `frames_each` frames per chord.
    fn piece(seed: u64, chords: usize, frames_each: usize) -> Vec<[f32; CHROMA_DIM]> {
        let mut rng = Rng::new(seed);
        (0..chords)
            .flat_map(|_| {
                let mut f = [0f32; CHROMA_DIM];
                for _ in 0..3 {
                    f[(rng.uniform() * 12.0) as usize % 12] = 1.0;
                }
                std::iter::repeat_n(f, frames_each)
            })
            .collect()
    }

    fn query_of(frames: &[[f32; CHROMA_DIM]]) -> Query {
        Query {
            scaled: TEMPO_SCALES.map(|s| (s, snippets(frames, s))).to_vec(),
        }
    }

    #[test]
    fn a_slow_fragment_finds_its_piece_and_place_among_others() {
        let scores: Vec<Vec<Snippet>> =
            (0..40).map(|k| snippets(&piece(k, 120, 12), 1.0)).collect();
        // piece 4 played 2.2 times as slowly, from chord 40 to chord 70
        let played: Vec<_> = piece(4, 120, 12)
            .chunks(12)
            .skip(40)
            .take(30)
            .flat_map(|c| std::iter::repeat_n(c[0], 26))
            .collect();
        let query = query_of(&played);
        let fits = by_alignment(&query, scores.iter().map(Vec::as_slice));
        assert_eq!(fits[0].piece, 4, "{fits:?}");
        assert!(fits[0].cost < 0.5 * fits[1].cost, "{fits:?}");
        let chord_s = 12.0 / crate::identify::cens::CHROMA_RATE_HZ;
        assert!((fits[0].start_s - 40.0 * chord_s).abs() < 1.5, "{fits:?}");
        assert!((fits[0].end_s - 70.0 * chord_s).abs() < 1.5, "{fits:?}");
        assert!(fits[0].scale >= 1.4, "{fits:?}");
        // The shortlist (24 of the 40) keeps the piece, and refining gives the same fit.
        let catalogue = Catalogue::new(scores.iter().map(Vec::as_slice));
        let refined = catalogue.rank(Method::Alignment, &query);
        assert_eq!(refined[0], fits[0]);
        assert_eq!(refined.len(), fits.len());
        let votes = catalogue.rank(Method::Voting, &query);
        assert!(!votes.is_empty());
    }

    #[test]
    fn methods_parse_and_print_by_name() {
        for m in Method::ALL {
            assert_eq!(m.to_string().parse::<Method>(), Ok(m));
        }
        assert!("nearest".parse::<Method>().is_err());
    }
}
