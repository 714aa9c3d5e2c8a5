//! Finding the pianist anywhere in the piece. The follower tracks one position closely
//! ([`crate::align`]); a [`Localiser`] holds a belief over the whole reference, cheaply, so that a
//! restart, a skip, a repeat not taken or a start in the middle is found again within seconds
//! (practice-proof following), and [`relocation`] decides when the follower moves.
//!
//! [`whole_piece::WholePiece`] is the localiser: a forward filter over every place in the piece
//! whose paths may jump. Seed 001's dual-stack network ([`dual_stack`]) checks the place it
//! proposes before the follower moves there.

pub mod dual_stack;
pub mod relocation;
pub mod whole_piece;

/// One live frame, as a localiser hears it.
#[derive(Debug, Clone, Copy)]
pub struct Heard<'a> {
    /// The live feature frame (the reference's dimensions first).
    pub live: &'a [f32],
    /// It holds a played note.
    pub attack: bool,
    /// Its loudest compressed semitone band ([`whole_piece::loudness`]).
    pub loudness: f32,
}

/// What a localiser believes about the place the follower holds, against the best place
/// elsewhere.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Belief {
    /// Probability that the pianist is near the place held.
    pub here: f64,
    /// The most likely place elsewhere (reference frame, now) …
    pub there: usize,
    /// … and the probability that the pianist is near it.
    pub there_mass: f64,
}

/// Holds a belief about where in the whole reference the pianist is.
pub trait Localiser: Send {
    /// Takes a live frame and the reference frame the follower reports for it. Now and then
    /// returns its belief about that place and the best place elsewhere, "near" meaning within
    /// `radius` reference frames.
    fn push(&mut self, heard: Heard, held: usize, radius: usize) -> Option<Belief>;
    /// Forgets the performance so far: a new one is expected to start at reference frame `start`.
    fn reset(&mut self, start: usize);
}
