//! Finding the pianist anywhere in the piece: where in the whole reference the last seconds of
//! live audio match best. The follower tracks one position closely ([`crate::align`]); a
//! localiser looks everywhere, cheaply, so that a restart, a skip or a start in the middle is
//! found again within seconds (practice-proof following).
//!
//! A [`Localiser`] sees every live frame and now and then proposes [`Candidate`]s; the follower
//! decides whether to move to one ([`crate::follow`]). [`search::SubsequenceSearch`] is the
//! classical one: subsequence DTW of the recent frames against the whole reference, spread over
//! many frames so that no frame pays for a whole search.

pub mod dual_stack;
pub mod relocation;
pub mod search;

/// A place in the reference where the recent live frames match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Reference frame the match ends at: where the pianist was when the matched frames ended.
    pub position: usize,
    /// Mean local cost per live frame along the match (lower is better).
    pub cost: f64,
}

/// Proposes places in the reference for the recent live frames.
pub trait Localiser: Send {
    /// Takes the next live frame. When a look over the whole reference has finished, returns
    /// what it found for the live frames up to [`Located::frames_ago`] frames before this one.
    fn push(&mut self, live: &[f32]) -> Option<Located<'_>>;
    /// Forgets the live frames heard so far (a new performance starts).
    fn reset(&mut self);
}

/// One finished look over the reference.
pub struct Located<'a> {
    /// Best first, at least [`search::SEPARATION_S`] apart.
    pub candidates: &'a [Candidate],
    /// How many live frames before the current one the matched frames ended.
    pub frames_ago: usize,
    /// The best match cost ending at every `stride`-th reference frame: what the place the
    /// follower believes in costs ([`Located::cost_near`]), against the candidates.
    pub ends: &'a [f64],
    /// Reference frames per entry of `ends`.
    pub stride: usize,
}

impl Located<'_> {
    /// The best match cost ending within `radius` reference frames of `position`.
    pub fn cost_near(&self, position: usize, radius: usize) -> f64 {
        let lo = position.saturating_sub(radius) / self.stride;
        let hi = ((position + radius) / self.stride + 1).min(self.ends.len());
        self.ends.get(lo..hi).map_or(f64::INFINITY, |e| {
            e.iter().copied().fold(f64::INFINITY, f64::min)
        })
    }
}
