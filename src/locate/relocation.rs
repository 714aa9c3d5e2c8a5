//! The follower's rule for moving: given what a [`Localiser`] found, stay, doubt, or move to
//! where the pianist is now. Experimental ([`crate::follow::Follower::with_relocation`]).

use std::collections::VecDeque;

use super::search::SearchConfig;
use super::Localiser;
use crate::features::HOP_S;

/// Finding the pianist anywhere in the piece ([`crate::locate`]): a localiser proposes places, and
/// the follower moves there when the recent frames match there clearly better than where it is.
pub(crate) struct Relocation {
    localiser: Box<dyn Localiser>,
    /// Live frames the localiser matches.
    window_frames: usize,
    /// The reported position and whether an attack was heard, for each recent live frame (newest
    /// last): where the follower was when the localiser's frames ended, and whether they held
    /// any music.
    recent: VecDeque<(usize, bool)>,
    /// Frames the follower still reports `uncertain` for (until a `searching` state exists): a
    /// better place was seen, not yet clearly enough to move there.
    doubt_frames: usize,
    /// A better place seen by the last look (reference frame, at live frame `frames`): a second
    /// look that finds the pianist moving on from there confirms it.
    pending: Option<(usize, usize)>,
    frames: usize,
    /// The match cost where the follower is, averaged over the looks that found it the best
    /// place: what this piece, piano and room cost when all is well.
    typical: Option<f64>,
}

/// Recent frames kept: the localiser's window plus the longest a look takes.
const RECENT_FRAMES: usize = 256;
/// A candidate is somewhere else when it is this far from the followed position, in frames …
const ELSEWHERE_FRAMES: usize = 86;
/// … and the followed position's own match cost is the best ending this close to it.
const HERE_FRAMES: usize = 43;
/// A follower unsure of where it is moves at once when a candidate elsewhere matches at this share
/// of the cost here or less (a sure one only when two looks agree) …
const MOVE_RATIO: f64 = 0.75;
/// … and at this share or less when two looks in a row find the pianist there, moving on as they
/// play; it doubts (reports `uncertain`) from the first.
const CONFIRM_RATIO: f64 = 0.9;
/// The place the follower holds has degraded when it matches this much worse than typical …
const DEGRADED_RATIO: f64 = 1.15;
/// … the typical cost being a running mean over looks with this weight for the newest.
const TYPICAL_SMOOTHING: f64 = 0.1;
/// Two looks agree when the second finds the pianist this close to where the first's place has
/// moved on to, in frames.
const AGREE_FRAMES: usize = 43;
/// Candidates within this ratio of the best match sound alike.
const ALIKE_RATIO: f64 = 1.1;
/// A look at fewer attacks than this proves nothing (silence, one held chord).
const MIN_ATTACKS: usize = 4;

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
    pub(crate) fn new(localiser: Box<dyn Localiser>) -> Self {
        Self {
            window_frames: (SearchConfig::DEFAULT.window_s / HOP_S) as usize,
            localiser,
            recent: VecDeque::with_capacity(RECENT_FRAMES),
            doubt_frames: 0,
            pending: None,
            frames: 0,
            typical: None,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.localiser.reset();
        self.recent.clear();
        self.doubt_frames = 0;
        self.pending = None;
        self.typical = None;
    }

    /// Takes a live frame, the position reported for it and whether it held an attack; `tempo`
    /// (relative to the score) carries a found place forward to now. A follower that is `sure` of
    /// where it is moves only on much stronger evidence: a pianist playing on as written must not
    /// be pulled away by a passage that merely resembles theirs.
    pub(crate) fn frame(
        &mut self,
        live: &[f32],
        position: usize,
        attack: bool,
        tempo: f64,
        sure: bool,
    ) -> Verdict {
        if self.recent.len() == RECENT_FRAMES {
            self.recent.pop_front();
        }
        self.recent.push_back((position, attack));
        self.frames += 1;
        self.doubt_frames = self.doubt_frames.saturating_sub(1);
        let Some(found) = self.localiser.push(live) else {
            return self.standing_doubt();
        };
        let n = self.recent.len();
        let Some(end) = n.checked_sub(found.frames_ago) else {
            return self.standing_doubt();
        };
        let start = end.saturating_sub(self.window_frames);
        let attacks = self.recent.range(start..end).filter(|r| r.1).count();
        let here = self.recent[end].0;
        let elsewhere = || {
            found
                .candidates
                .iter()
                .filter(|c| c.position.abs_diff(here) > ELSEWHERE_FRAMES)
        };
        // Passages that sound alike (the two passes of a repeat, a recapitulation) match alike:
        // of those, the pianist is most likely in the one nearest to where they were.
        let best = elsewhere().next().map(|b| b.cost).and_then(|best| {
            elsewhere()
                .filter(|c| c.cost <= best * ALIKE_RATIO)
                .min_by_key(|c| c.position.abs_diff(here))
                .copied()
        });
        let (Some(best), true) = (best, attacks >= MIN_ATTACKS) else {
            return self.standing_doubt();
        };
        let cost_here = found.cost_near(here, HERE_FRAMES);
        let ahead = (found.frames_ago as f64 * tempo).round() as usize;
        let ratio = best.cost / cost_here;
        let seen = self.pending.take();
        let agrees = seen.is_some_and(|(at, frame)| {
            let moved = ((self.frames - frame) as f64 * tempo).round() as usize;
            best.position.abs_diff(at + moved) <= AGREE_FRAMES
        });
        // The place the follower holds matching worse than it usually does is what a jump looks
        // like; a place elsewhere matching a little better while this one matches as well as
        // ever is a passage that resembles it.
        let degraded = self.typical.is_none_or(|t| cost_here > DEGRADED_RATIO * t);
        if ratio >= 1.0 {
            self.typical = Some(match self.typical {
                Some(t) => t + TYPICAL_SMOOTHING * (cost_here - t),
                None => cost_here,
            });
        }
        let moves = degraded
            && if sure {
                ratio < MOVE_RATIO && agrees
            } else {
                ratio < MOVE_RATIO || (ratio < CONFIRM_RATIO && agrees)
            };
        if moves {
            self.doubt_frames = 0;
            return Verdict::Move(best.position + ahead);
        }
        if ratio < CONFIRM_RATIO {
            self.pending = Some((best.position, self.frames - found.frames_ago));
            // Until the next look says otherwise.
            self.doubt_frames = found.frames_ago.max(1) * 2;
        }
        self.standing_doubt()
    }

    fn standing_doubt(&self) -> Verdict {
        if self.doubt_frames > 0 {
            Verdict::Doubt
        } else {
            Verdict::Stay
        }
    }
}
