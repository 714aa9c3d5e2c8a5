//! The follower's rule for moving: given what a [`Localiser`] found, stay, doubt, or move to
//! where the pianist is now. Experimental ([`crate::follow::Follower::with_relocation`]).

use std::collections::VecDeque;
use std::sync::Arc;

use super::dual_stack::{self, DualStack, Output, SNIPPET_FRAMES};
use super::search::SearchConfig;
use super::{Candidate, Localiser};
use crate::features::semitone::BANDS;
use crate::features::{Features, HOP_S};

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
    /// Frames the follower still reports `searching` for: a better place was seen, not yet
    /// clearly enough to move there.
    doubt_frames: usize,
    /// A better place seen by the last look (reference frame, at live frame `frames`): a second
    /// look that finds the pianist moving on from there confirms it.
    pending: Option<(usize, usize)>,
    frames: usize,
    /// The match cost where the follower is, averaged over the looks that found it the best
    /// place: what this piece, piano and room cost when all is well.
    typical: Option<f64>,
    /// Seed 001's localiser, checking a place before the follower moves there …
    checker: Option<Checker>,
    /// … and what its checks so far say for the place they agree on.
    evidence: Option<Evidence>,
    /// Where the pianist may leave the played order (reference frames, from → to): a repeat
    /// not taken, a first ending left out ([`crate::score::Score::branches`]).
    branches: Vec<(usize, usize)>,
    /// The branch the followed position last crossed, and the live frame it did so at: until
    /// [`BRANCH_FRAMES`] later, the localiser checks the other way as it checks the search's
    /// places …
    crossed: Option<(usize, usize)>,
    /// … and what its checks there say.
    branch_evidence: Option<Evidence>,
}

/// The localiser's case for moving: the place its checks agree on, where it was at live frame
/// `frame`, and the sum of their log ratios of the probability there to the probability at the
/// place held.
#[derive(Debug, Clone, Copy)]
struct Evidence {
    position: usize,
    frame: usize,
    log_ratio: f32,
}

/// What the follower heard and believed at one live frame.
pub(crate) struct Heard<'a> {
    pub live: &'a [f32],
    pub semitones: &'a [f32; BANDS],
    /// The position reported for this frame.
    pub position: usize,
    /// Whether the frame held an attack.
    pub attack: bool,
    /// Relative to the score: carries a found place forward to now.
    pub tempo: f64,
    /// A follower sure of where it is moves only on much stronger evidence: a pianist playing on
    /// as written must not be pulled away by a passage that merely resembles theirs.
    pub sure: bool,
    /// The follower began a few seconds ago where it was put, not told where the pianist starts.
    pub unearned_start: bool,
}

/// The dual-stack localiser ([`dual_stack`]) on the last 1.35 s of live audio: of a place the
/// search proposes and the place the follower holds, where is the pianist now?
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
    /// … and where in that stretch, most likely;
    position: usize,
    /// … and within [`ELSEWHERE_FRAMES`] of the place held.
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
        let (there_mass, position) =
            dual_stack::mass_near(windows_there, starts[0], there, CHECK_FRAMES);
        let (here_mass, _) = dual_stack::mass_near(windows_here, starts[1], here, ELSEWHERE_FRAMES);
        Some(Check {
            there: there_mass,
            position,
            here: here_mass,
        })
    }
}

/// Recent frames kept: the localiser's window plus the longest a look takes.
const RECENT_FRAMES: usize = 256;
/// A candidate is somewhere else when it is further than this from the followed position, in
/// frames (2 s); nearer, it is the place held, which the follower's own tracking corrects. So the
/// place held is all of that stretch: its match cost the best ending in it, and the localiser's
/// probability for it the sum over it. With the place held a second wide, a follower 1.2 s off a
/// passage the piece plays again later (a Liszt étude on dev) found that later playing a better
/// place than its own and moved there; straight runs with relocation lost 4 points within
/// 100 ms on one rendering of three (BENCHMARKS.md, "The place held is two seconds wide").
const ELSEWHERE_FRAMES: usize = 86;
/// A follower unsure of where it is moves at once when a candidate elsewhere matches at this share
/// of the cost here or less (a sure one only when two looks agree) …
const MOVE_RATIO: f64 = 0.75;
/// … and at this share or less when two looks in a row find the pianist there, moving on as they
/// play; it doubts (reports `searching`) from the first.
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
/// Where a jump is likely (the first seconds of an unearned start, or after a stop), the localiser
/// checks a place elsewhere that matches better than the place held by any margin; elsewhere only
/// one that matches clearly better ([`CONFIRM_RATIO`]), since every check may move the follower.
const JUMP_CHECK_RATIO: f64 = 1.0;
/// This many live frames without an attack (1.4 s) are a stop.
const STOP_FRAMES: usize = 60;
/// This many live frames without an attack (1 s) are a pause.
const PAUSE_FRAMES: usize = 43;
/// A look at fewer attacks than this proves nothing (silence, one held chord).
const MIN_ATTACKS: usize = 4;
/// The localiser checks a place only when the last 1.35 s held this many attacks, one of them in
/// its first half.
const MIN_SNIPPET_ATTACKS: usize = 3;
/// The localiser's checks count the probability within this many frames of the place proposed
/// (1 s: it is where the follower would move to), and within [`ELSEWHERE_FRAMES`] of the place
/// held …
const CHECK_FRAMES: usize = 43;
/// … and the follower moves when the place proposed holds at least this much of it (of one
/// softmax over both places' windows) …
const CHECK_MOVE_MASS: f32 = 0.1;
/// … and the checks that agree on it, together, find it this many times more likely than the
/// place held (the product of their ratios); the place held stands when a check finds it at
/// least as likely as the one proposed.
const CHECK_MOVE_RATIO: f32 = 8.0;
/// … or this many times, when the follower is sure of where it is (its confidence is a prior
/// against moving). Both chosen for the 80-epoch localiser on dev `--every 10` (BENCHMARKS.md,
/// "Practice"): twice the 20-epoch one's, a sharper model's ratios being larger both ways.
const CHECK_MOVE_RATIO_SURE: f32 = 64.0;

/// After a branch, the localiser weighs its other way for this many live frames (6 s) …
const BRANCH_FRAMES: usize = 258;
/// … once its snippet is mostly past the branch …
const BRANCH_SETTLE_FRAMES: usize = 2 * SNIPPET_FRAMES / 3;
/// … every this many frames (a check is one batch of two windows).
const BRANCH_CHECK_EVERY: usize = 4;
/// A followed position that went further than this in one frame (1 s) was moved there: it did
/// not play on past a branch.
const STEP_FRAMES: usize = 43;

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
            checker,
            evidence: None,
            branches: Vec::new(),
            crossed: None,
            branch_evidence: None,
            window_frames: (SearchConfig::DEFAULT.window_s / HOP_S) as usize,
            localiser,
            recent: VecDeque::with_capacity(RECENT_FRAMES),
            doubt_frames: 0,
            pending: None,
            frames: 0,
            typical: None,
        }
    }

    /// The score's branches ([`crate::score::Branch`]), as reference frames: the localiser,
    /// where there is one, weighs each one's other way just after the follower passes it.
    pub(crate) fn with_branches(mut self, branches: Vec<(usize, usize)>) -> Self {
        self.branches = branches;
        self
    }

    pub(crate) fn reset(&mut self) {
        self.localiser.reset();
        self.recent.clear();
        self.doubt_frames = 0;
        self.pending = None;
        self.typical = None;
        self.evidence = None;
        self.crossed = None;
        self.branch_evidence = None;
        if let Some(c) = self.checker.as_mut() {
            c.reset();
        }
    }

    /// Takes what the follower heard and believed at a live frame.
    pub(crate) fn frame(&mut self, heard: &Heard) -> Verdict {
        let Heard {
            live,
            position,
            attack,
            tempo,
            sure,
            ..
        } = *heard;
        let previous = self.recent.back().map(|r| r.0);
        if self.recent.len() == RECENT_FRAMES {
            self.recent.pop_front();
        }
        self.recent.push_back((position, attack));
        self.frames += 1;
        self.doubt_frames = self.doubt_frames.saturating_sub(1);
        if let Some(c) = self.checker.as_mut() {
            c.push(heard.semitones);
        }
        if let Some(verdict) = self.branch_verdict(previous, position, tempo) {
            // The search goes on hearing every frame.
            let _ = self.localiser.push(live);
            return verdict;
        }
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
        let elsewhere = found
            .candidates
            .iter()
            .copied()
            .filter(|c| c.position.abs_diff(here) > ELSEWHERE_FRAMES);
        let were = before_pause(&self.recent, PAUSE_FRAMES).unwrap_or(here);
        let best = place_to_check(elsewhere, were, heard.unearned_start);
        let (Some(best), true) = (best, attacks >= MIN_ATTACKS) else {
            return self.standing_doubt();
        };
        let cost_here = found.cost_near(here, ELSEWHERE_FRAMES);
        let ahead = (found.frames_ago as f64 * tempo).round() as usize;
        let ratio = best.cost / cost_here;
        let seen = self.pending.take();
        let agrees = seen
            .is_some_and(|(at, frame)| moved_on_to(at, self.frames - frame, tempo, best.position));
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
        let frames_ago = found.frames_ago;
        let jump_likely = heard.unearned_start || before_pause(&self.recent, STOP_FRAMES).is_some();
        let check_below = if jump_likely {
            JUMP_CHECK_RATIO
        } else {
            CONFIRM_RATIO
        };
        if ratio < check_below {
            if let Some(verdict) =
                self.localiser_verdict(best.position + ahead, position, tempo, sure)
            {
                return verdict;
            }
        }
        // With a working localiser, only it moves the follower.
        let classical = self.checker.as_ref().is_none_or(|c| c.error.is_some());
        let moves = classical
            && degraded
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
            self.pending = Some((best.position, self.frames - frames_ago));
            // Until the next look says otherwise.
            self.doubt_frames = frames_ago.max(1) * 2;
        }
        self.standing_doubt()
    }

    /// A pianist who does not take a repeat goes on with what follows it in writing, or with the
    /// second ending where the first would lead back ([`crate::score::Branch`]): for a few
    /// seconds after the followed position (`previous` → `here`) passes a branch, the localiser
    /// weighs where they would be then against `here`, as it weighs the search's places. `None`:
    /// no branch to weigh, or no move yet.
    fn branch_verdict(
        &mut self,
        previous: Option<usize>,
        here: usize,
        tempo: f64,
    ) -> Option<Verdict> {
        self.checker.as_ref()?;
        let passed = self.branches.iter().position(|&(from, _)| {
            previous.is_some_and(|p| p < from && here >= from && here - p <= STEP_FRAMES)
        });
        if let Some(b) = passed {
            self.crossed = Some((b, self.frames));
            self.branch_evidence = None;
        }
        let (b, at) = self.crossed?;
        let since = self.frames - at;
        if since > BRANCH_FRAMES {
            self.crossed = None;
            return None;
        }
        if since < BRANCH_SETTLE_FRAMES
            || !since.is_multiple_of(BRANCH_CHECK_EVERY)
            || !self.playing()
        {
            return None;
        }
        let there = self.branches[b].1 + (since as f64 * tempo).round() as usize;
        let check = self.checker.as_mut()?.check(there, here)?;
        if check.here >= check.there {
            self.branch_evidence = None;
            return None;
        }
        // As much evidence as a sure follower needs, sure or not: on the bundled minuet played
        // straight, the 20-epoch localiser's checks at the repeat came to at most 3.4 : 1 for
        // the way not taken (4 : 1 would nearly have moved); not taking it, they came to 32 : 1
        // in 1.4 s (with the 80-epoch localiser, 64 : 1 in 1.1 s).
        if weigh(&mut self.branch_evidence, self.frames, check, tempo, true) {
            self.crossed = None;
            self.branch_evidence = None;
            self.evidence = None;
            self.doubt_frames = 0;
            return Some(Verdict::Move(check.position));
        }
        // No doubt is reported: on the bundled minuet played straight, checks at the repeat
        // favour the other way now and then without ever making the case, and a `searching`
        // there would stop the follower crossing onsets at their attacks.
        None
    }

    /// Whether the localiser's last 1.35 s are playing it can place: of a pause, or a pause and
    /// a chord (the first notes after a stop), it can say little, and that little matches any
    /// rest in the score.
    fn playing(&self) -> bool {
        let attacks_in = |skip: usize, take: usize| {
            self.recent
                .iter()
                .rev()
                .skip(skip)
                .take(take)
                .filter(|r| r.1)
                .count()
        };
        attacks_in(0, SNIPPET_FRAMES) >= MIN_SNIPPET_ATTACKS
            && attacks_in(SNIPPET_FRAMES / 2, SNIPPET_FRAMES / 2) > 0
    }

    /// What the localiser, where there is one, makes of the place proposed (`there`) and the
    /// place held (`here`), both now: stay, move, or `None` (it cannot say, or not yet enough).
    fn localiser_verdict(
        &mut self,
        there: usize,
        here: usize,
        tempo: f64,
        sure: bool,
    ) -> Option<Verdict> {
        self.checker.as_ref()?;
        if !self.playing() {
            return None;
        }
        let check = self.checker.as_mut()?.check(there, here)?;
        if check.here >= check.there {
            self.doubt_frames = 0;
            self.evidence = None;
            return Some(Verdict::Stay);
        }
        if weigh(&mut self.evidence, self.frames, check, tempo, sure) {
            self.doubt_frames = 0;
            self.evidence = None;
            return Some(Verdict::Move(check.position));
        }
        None
    }

    fn standing_doubt(&self) -> Verdict {
        if self.doubt_frames > 0 {
            Verdict::Doubt
        } else {
            Verdict::Stay
        }
    }
}

/// Of the places the search found elsewhere (best first), the one to check. Passages that sound
/// alike (the two passes of a repeat, a recapitulation) match alike: of those, the pianist is
/// most likely in the one nearest to where they `were` playing. A follower whose start is
/// `unearned` has no such place (it was put where it is, not led there by the music): the best
/// match stands.
fn place_to_check(
    elsewhere: impl Iterator<Item = Candidate> + Clone,
    were: usize,
    unearned: bool,
) -> Option<Candidate> {
    let alike = if unearned { 1.0 } else { ALIKE_RATIO };
    let best = elsewhere.clone().next()?.cost;
    elsewhere
        .filter(|c| c.cost <= best * alike)
        .min_by_key(|c| c.position.abs_diff(were))
}

/// Where the follower was at the last attack before the latest pause (more than `longer_than`
/// frames without an attack) in `recent` (reported position, attack; newest last): a pianist who
/// stops and starts again goes on from near where they stopped (a few bars back, a page on), not
/// from where the follower drifted to while they were silent (through the noise and the room's
/// tail, a note at a time).
fn before_pause(recent: &VecDeque<(usize, bool)>, longer_than: usize) -> Option<usize> {
    let mut silent = 0;
    let mut seen_attack = false;
    for &(position, attack) in recent.iter().rev() {
        if attack {
            if seen_attack && silent > longer_than {
                return Some(position);
            }
            seen_attack = true;
            silent = 0;
        } else {
            silent += 1;
        }
    }
    None
}

/// Adds a check's evidence for moving (at live frame `frame`) to what the checks before it found
/// for the same place (the pianist moving on from there as they play); true when it is enough:
/// more for a follower `sure` of where it is, whose own belief is the stronger prior.
fn weigh(
    evidence: &mut Option<Evidence>,
    frame: usize,
    check: Check,
    tempo: f64,
    sure: bool,
) -> bool {
    let log_ratio = (check.there / check.here.max(1e-6)).ln();
    let so_far =
        evidence.filter(|e| moved_on_to(e.position, frame - e.frame, tempo, check.position));
    let log_ratio = log_ratio + so_far.map_or(0.0, |e| e.log_ratio);
    *evidence = Some(Evidence {
        position: check.position,
        frame,
        log_ratio,
    });
    let needed = if sure {
        CHECK_MOVE_RATIO_SURE
    } else {
        CHECK_MOVE_RATIO
    };
    check.there >= CHECK_MOVE_MASS && log_ratio >= needed.ln()
}

/// Whether a pianist who was at reference frame `at`, `frames` live frames ago, and played on at
/// `tempo` is now at `position` (within [`AGREE_FRAMES`]): two looks or checks agree.
fn moved_on_to(at: usize, frames: usize, tempo: f64, position: usize) -> bool {
    let moved = (frames as f64 * tempo).round() as usize;
    position.abs_diff(at + moved) <= AGREE_FRAMES
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::Located;

    /// (position, attack) frames: `attacks` frames with an attack each, then `silent` without,
    /// the position moving one frame a frame throughout.
    fn frames(from: usize, attacks: usize, silent: usize) -> Vec<(usize, bool)> {
        (0..attacks + silent)
            .map(|i| (from + i, i < attacks))
            .collect()
    }

    #[test]
    fn of_alike_places_the_nearest_is_checked_unless_the_start_is_unearned() {
        let at = |position, cost| Candidate { position, cost };
        let found = [at(3000, 0.70), at(1200, 0.74), at(400, 0.76), at(150, 0.90)];
        let check = |were, unearned| place_to_check(found.into_iter(), were, unearned);
        assert_eq!(check(100, false), Some(at(400, 0.76)));
        assert_eq!(check(1300, false), Some(at(1200, 0.74)));
        assert_eq!(check(100, true), Some(at(3000, 0.70)));
        assert_eq!(place_to_check(std::iter::empty(), 100, false), None);
    }

    /// A search that finds, after `after` live frames, the places and costs it was given.
    struct Scripted {
        after: usize,
        pushed: usize,
        candidates: Vec<Candidate>,
        ends: Vec<f64>,
    }

    impl Localiser for Scripted {
        fn push(&mut self, _live: &[f32]) -> Option<Located<'_>> {
            self.pushed += 1;
            (self.pushed == self.after).then_some(Located {
                candidates: &self.candidates,
                frames_ago: 1,
                ends: &self.ends,
                stride: 4,
            })
        }

        fn reset(&mut self) {
            self.pushed = 0;
        }
    }

    /// The classical rule's verdict on a follower playing on from reference frame 1000, an attack
    /// every fifth frame, when the search finds the recent frames matching at cost 0.5 where the
    /// pianist is (60 frames, 1.4 s, behind the follower), 0.9 at the place held, `elsewhere` at
    /// reference frame 5000 and 1.0 everywhere else.
    fn verdict_with(elsewhere: f64) -> Verdict {
        let frames = 150;
        let held = 1000 + frames - 1;
        let pianist = held - 60;
        let mut ends = vec![1.0; 2000];
        ends[pianist / 4] = 0.5;
        ends[(held - 20) / 4..=(held + 20) / 4].fill(0.9);
        ends[5000 / 4] = elsewhere;
        let candidates = vec![
            Candidate {
                position: pianist,
                cost: 0.5,
            },
            Candidate {
                position: 5000,
                cost: elsewhere,
            },
        ];
        let search = Scripted {
            after: frames,
            pushed: 0,
            candidates,
            ends,
        };
        let mut relocation = Relocation::new(Box::new(search), None);
        let (live, semitones) = ([0f32; crate::features::DIM], [0f32; BANDS]);
        let mut verdict = Verdict::Stay;
        for i in 0..frames {
            verdict = relocation.frame(&Heard {
                live: &live,
                semitones: &semitones,
                position: 1000 + i,
                attack: i % 5 == 0,
                tempo: 1.0,
                sure: false,
                unearned_start: false,
            });
        }
        verdict
    }

    /// A passage the piece plays twice matches as well at its other playing as where the pianist
    /// is, a second or two from the follower: no reason to move there. A place that matches
    /// clearly better than anywhere near the follower is one.
    #[test]
    fn a_follower_a_little_off_is_not_moved_to_another_playing_of_its_passage() {
        assert_eq!(verdict_with(0.5), Verdict::Stay);
        assert_eq!(verdict_with(0.3), Verdict::Move(5001));
    }

    #[test]
    fn a_pause_is_measured_from_the_last_attack_before_it() {
        let mut recent: VecDeque<_> = frames(100, 10, PAUSE_FRAMES + 5).into();
        recent.extend(frames(500, 3, 0));
        assert_eq!(
            before_pause(&recent, PAUSE_FRAMES),
            Some(109),
            "where the pianist stopped"
        );
        assert_eq!(before_pause(&recent, STOP_FRAMES), None, "not a stop");

        let mut short: VecDeque<_> = frames(100, 10, PAUSE_FRAMES).into();
        short.extend(frames(500, 3, 0));
        assert_eq!(
            before_pause(&short, PAUSE_FRAMES),
            None,
            "a rest is not a pause"
        );

        let start: VecDeque<_> = [frames(0, 0, 80), frames(80, 3, 0)].concat().into();
        assert_eq!(
            before_pause(&start, PAUSE_FRAMES),
            None,
            "nothing was played before the silence"
        );
    }
}
