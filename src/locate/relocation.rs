//! The follower's rule for moving: given what the [`Localiser`] believes, stay, doubt (report
//! `searching`), or move to where the pianist is now, once seed 001's dual-stack localiser has
//! checked the place. Off by default ([`crate::follow::Follower::with_relocation`]).

use std::sync::Arc;

use super::dual_stack::{self, DualStack, Output, SNIPPET_FRAMES};
use super::whole_piece;
use super::Localiser;
use crate::features::semitone::BANDS;
use crate::features::Features;

/// Finding the pianist anywhere in the piece ([`crate::locate`]): the localiser's belief proposes
/// a place, the dual-stack network checks it, the follower moves.
pub(crate) struct Relocation {
    localiser: Box<dyn Localiser>,
    /// Seed 001's localiser, checking a place before the follower moves there.
    checker: Option<Checker>,
    /// The last belief found the place held unlikely: the follower reports `searching`.
    doubt: bool,
}

/// What the follower heard and believed at one live frame.
pub(crate) struct Heard<'a> {
    pub live: &'a [f32],
    pub semitones: &'a [f32; BANDS],
    /// The position reported for this frame.
    pub position: usize,
    /// Whether the frame held an attack.
    pub attack: bool,
}

/// The dual-stack localiser ([`dual_stack`]) on the last 1.35 s of live audio: of a place the
/// belief proposes and the place the follower holds, where is the pianist now?
pub(crate) struct Checker {
    localiser: DualStack,
    /// The reference's semitone frames.
    reference: Arc<Features>,
    /// The last [`SNIPPET_FRAMES`] live semitone frames, a ring.
    ring: Vec<f32>,
    head: usize,
    filled: usize,
    snippet: Vec<f32>,
    /// The first error of the model, after which the checker is not asked again.
    error: Option<String>,
}

/// What the localiser says about a proposed place and the place held.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Check {
    /// Probability that the pianist is within [`CHECK_FRAMES`] of the proposed place …
    there: f32,
    /// … and within [`CHECK_FRAMES`] of the place held.
    here: f32,
}

impl Checker {
    pub(crate) fn new(localiser: DualStack, reference: Arc<Features>) -> Self {
        Self {
            localiser,
            reference,
            ring: vec![0.0; SNIPPET_FRAMES * BANDS],
            head: 0,
            filled: 0,
            snippet: Vec::with_capacity(SNIPPET_FRAMES * BANDS),
            error: None,
        }
    }

    fn reset(&mut self) {
        self.filled = 0;
    }

    fn push(&mut self, semitones: &[f32; BANDS]) {
        self.ring[self.head * BANDS..(self.head + 1) * BANDS].copy_from_slice(semitones);
        self.head = (self.head + 1) % SNIPPET_FRAMES;
        self.filled = (self.filled + 1).min(SNIPPET_FRAMES);
    }

    /// Windows centred on `there` and on `here` (reference frames, both now), scored in one
    /// batch and weighed by one softmax over both; `None` before 1.35 s of audio or after an
    /// error.
    fn check(&mut self, there: usize, here: usize) -> Option<Check> {
        if self.filled < SNIPPET_FRAMES || self.error.is_some() {
            return None;
        }
        self.snippet.clear();
        self.snippet
            .extend_from_slice(&self.ring[self.head * BANDS..]);
        self.snippet
            .extend_from_slice(&self.ring[..self.head * BANDS]);
        let starts = [there, here].map(|c| c as isize - (dual_stack::WINDOW_FRAMES / 2) as isize);
        let mut p =
            match self
                .localiser
                .windows(&self.reference, &starts, &self.snippet, Output::Logits)
            {
                Ok(p) => p,
                Err(e) => {
                    self.error = Some(e.to_string());
                    return None;
                }
            };
        // One softmax over both windows: as if one window held both places.
        dual_stack::softmax_over_all(&mut p);
        let (windows_there, windows_here) = p.split_at(dual_stack::MODEL_FRAMES);
        let (there_mass, _) = dual_stack::mass_near(windows_there, starts[0], there, CHECK_FRAMES);
        let (here_mass, _) = dual_stack::mass_near(windows_here, starts[1], here, CHECK_FRAMES);
        Some(Check {
            there: there_mass,
            here: here_mass,
        })
    }
}

/// The localiser's belief counts the probability within this many frames (1 s) of a place …
const NEAR_FRAMES: usize = 43;
/// … and the follower moves when a place elsewhere holds this much of it …
const MOVE_MASS: f64 = 0.5;
/// … and this many times the probability of the place held;
const MOVE_RATIO: f64 = 4.0;
/// it doubts (reports `searching`) while the place held has less than this.
const DOUBT_BELOW: f64 = 0.3;
/// The dual-stack localiser's checks count the probability within this many frames of a place (1 s).
const CHECK_FRAMES: usize = 43;

/// What the relocation makes of a live frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    Stay,
    /// The pianist may well be elsewhere: say so.
    Doubt,
    /// The pianist is at this reference frame now.
    Move(usize),
}

impl Relocation {
    pub(crate) fn new(localiser: Box<dyn Localiser>, checker: Option<Checker>) -> Self {
        Self {
            localiser,
            checker,
            doubt: false,
        }
    }

    /// A new performance, expected to start at reference frame `start`.
    pub(crate) fn reset(&mut self, start: usize) {
        self.localiser.reset(start);
        self.doubt = false;
        if let Some(c) = self.checker.as_mut() {
            c.reset();
        }
    }

    /// Takes what the follower heard and believed at a live frame. After each update of the
    /// belief: move where it is much surer of than of the place held (if the dual-stack network,
    /// where there is one, agrees), doubt while the place held is unlikely.
    pub(crate) fn frame(&mut self, heard: &Heard) -> Verdict {
        if let Some(c) = self.checker.as_mut() {
            c.push(heard.semitones);
        }
        let live = super::Heard {
            live: heard.live,
            attack: heard.attack,
            loudness: whole_piece::loudness(heard.semitones),
        };
        let Some(belief) = self.localiser.push(live, heard.position, NEAR_FRAMES) else {
            return self.standing();
        };
        self.doubt = belief.here < DOUBT_BELOW;
        if belief.there_mass < MOVE_MASS || belief.there_mass < MOVE_RATIO * belief.here {
            return self.standing();
        }
        let checked = self
            .checker
            .as_mut()
            .and_then(|c| c.check(belief.there, heard.position));
        if checked.is_some_and(|c| c.here >= c.there) {
            return self.standing();
        }
        self.doubt = false;
        Verdict::Move(belief.there)
    }

    fn standing(&self) -> Verdict {
        if self.doubt {
            Verdict::Doubt
        } else {
            Verdict::Stay
        }
    }
}
