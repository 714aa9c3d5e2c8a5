//! The filter of filter and refine (seed 002, §III-D) for a library of learned snippets: an
//! approximate nearest-neighbour index over every piece's snippet embeddings (USearch's HNSW
//! graph), in which each query snippet looks up its nearest library snippets and votes for their
//! pieces. The pieces with the most votes are the shortlist the full alignment re-ranks.
//!
//! A query snippet at every tempo scale votes: at the wrong scale a snippet covers more or less
//! music than the library's and its neighbours are noise spread over many pieces, while at the
//! right one they fall in the piece it plays. Each snippet votes once for every piece among its
//! [`NEIGHBOURS`] nearest, so that a passage the piece plays twice, or another piece quotes,
//! does not crowd the right piece out of the top.
//!
//! Why USearch rather than `hnsw_rs` (both maintained HNSW implementations): its index saves
//! into and loads from one byte buffer, which the library file holds, where `hnsw_rs` dumps two
//! files of its own and ties the loaded graph to the loader's lifetime.

use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::rank::{ranked_by_votes, Fit, Query, Shortlist};

/// Nearest library snippets each query snippet looks up.
pub const NEIGHBOURS: usize = 8;
/// Pieces with the most votes that the full alignment re-ranks. On the train split (39
/// performances, 195 queries of 10 s to whole, a library of 838 pieces with another corpus) the
/// own piece had the most votes for 93.3 % of queries, was among the best 16 for 99.5 % and the
/// best 24 for all (BENCHMARKS.md, "Piece identification").
pub const KEEP: usize = 24;
/// The graph's links per node and the candidates kept while building and searching (USearch's
/// connectivity, expansion_add and expansion_search).
const CONNECTIVITY: usize = 16;
const EXPANSION_ADD: usize = 64;
const EXPANSION_SEARCH: usize = 32;

/// What went wrong in the index (USearch's message).
#[derive(Debug, thiserror::Error)]
#[error("the snippet index: {0}")]
pub struct IndexError(String);

fn failed(e: impl std::fmt::Display) -> IndexError {
    IndexError(e.to_string())
}

/// Every piece's snippets in one nearest-neighbour index; a snippet's key is its piece's index
/// in the high 32 bits and its own in the low ones.
pub struct NeighbourIndex {
    index: Index,
    pieces: usize,
}

fn options(dimensions: usize) -> IndexOptions {
    IndexOptions {
        dimensions,
        metric: MetricKind::IP,
        // Half precision halves the file; a shortlist needs no more.
        quantization: ScalarKind::F16,
        connectivity: CONNECTIVITY,
        expansion_add: EXPANSION_ADD,
        expansion_search: EXPANSION_SEARCH,
        multi: false,
    }
}

impl NeighbourIndex {
    /// The index of `pieces`' snippets (unit vectors; silent, all-zero ones are left out). Built
    /// on one thread: HNSW graphs built by several threads at once differ from run to run, and
    /// so would the shortlists of borderline queries.
    pub fn build<const N: usize>(pieces: &[&[[f32; N]]]) -> Result<Self, IndexError> {
        let index = Index::new(&options(N)).map_err(failed)?;
        let total = pieces.iter().map(|p| p.len()).sum();
        index.reserve(total).map_err(failed)?;
        for (p, snippets) in pieces.iter().enumerate() {
            for (k, s) in snippets.iter().enumerate() {
                if s.iter().any(|&x| x != 0.0) {
                    let key = ((p as u64) << 32) | k as u64;
                    index.add(key, s.as_slice()).map_err(failed)?;
                }
            }
        }
        Ok(Self {
            index,
            pieces: pieces.len(),
        })
    }

    /// The index as bytes, for the library file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, IndexError> {
        let mut out = vec![0u8; self.index.serialized_length()];
        self.index.save_to_buffer(&mut out).map_err(failed)?;
        Ok(out)
    }

    /// An index of `pieces` pieces of `N`-value snippets read back from [`Self::to_bytes`].
    pub fn from_bytes<const N: usize>(bytes: &[u8], pieces: usize) -> Result<Self, IndexError> {
        let index = Index::new(&options(N)).map_err(failed)?;
        index.load_from_buffer(bytes).map_err(failed)?;
        if index.dimensions() != N {
            return Err(IndexError(format!(
                "it holds {}-value snippets, not {N}",
                index.dimensions()
            )));
        }
        Ok(Self { index, pieces })
    }

    /// Bytes [`Self::to_bytes`] gives.
    pub fn serialized_len(&self) -> usize {
        self.index.serialized_length()
    }

    /// Snippets indexed.
    pub fn len(&self) -> usize {
        self.index.size()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each piece's votes from `query`'s snippets at every tempo scale.
    fn votes<const N: usize>(&self, query: &Query<N>) -> (Vec<usize>, usize) {
        let mut votes = vec![0usize; self.pieces];
        let mut voters = 0;
        let mut seen: Vec<usize> = Vec::with_capacity(NEIGHBOURS);
        for (_, snippets) in &query.scaled {
            for q in snippets.iter().filter(|q| q.iter().any(|&x| x != 0.0)) {
                let Ok(hits) = self.index.search(q.as_slice(), NEIGHBOURS) else {
                    continue;
                };
                voters += 1;
                seen.clear();
                for key in hits.keys {
                    let piece = (key >> 32) as usize;
                    if piece < self.pieces && !seen.contains(&piece) {
                        seen.push(piece);
                        votes[piece] += 1;
                    }
                }
            }
        }
        (votes, voters)
    }
}

impl<const N: usize> Shortlist<N> for NeighbourIndex {
    /// Pieces by their share of the query snippets' votes, most first (cost 1 less the share);
    /// pieces without a vote last, in library order.
    fn rough_ranking(&self, query: &Query<N>) -> Vec<Fit> {
        let (votes, voters) = self.votes(query);
        ranked_by_votes(votes.into_iter().enumerate(), voters)
    }

    fn keeps(&self) -> usize {
        KEEP
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    const N: usize = 8;

    fn unit(rng: &mut Rng) -> [f32; N] {
        let mut v: [f32; N] = std::array::from_fn(|_| rng.uniform() as f32 - 0.5);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }

    #[test]
    fn a_piece_s_snippets_vote_it_first_and_the_index_reads_back_the_same() {
        let mut rng = Rng::from_name("neighbours");
        let pieces: Vec<Vec<[f32; N]>> = (0..40)
            .map(|_| (0..50).map(|_| unit(&mut rng)).collect())
            .collect();
        let lists: Vec<&[[f32; N]]> = pieces.iter().map(Vec::as_slice).collect();
        let index = NeighbourIndex::build(&lists).unwrap();
        assert_eq!(index.len(), 40 * 50);
        // Twenty snippets of piece 17, a little off, at the written tempo; silence votes for none.
        let mut played: Vec<[f32; N]> = pieces[17][10..30]
            .iter()
            .map(|s| {
                let mut v = *s;
                v[0] += 0.05;
                v
            })
            .collect();
        played.push([0.0; N]);
        let query = Query {
            scaled: vec![(1.0, played)],
        };
        let rough = index.rough_ranking(&query);
        assert_eq!(rough.len(), 40);
        assert_eq!(rough[0].piece, 17);
        assert!(rough[0].cost < 0.2, "{:?}", rough[0]);
        assert!(rough[1].cost > 0.5, "{:?}", rough[1]);
        let again = NeighbourIndex::from_bytes::<N>(&index.to_bytes().unwrap(), 40).unwrap();
        assert_eq!(again.rough_ranking(&query), rough);
        assert!(NeighbourIndex::from_bytes::<{ N + 1 }>(&index.to_bytes().unwrap(), 40).is_err());
        assert!(NeighbourIndex::from_bytes::<N>(&[1, 2, 3], 40).is_err());
    }
}
