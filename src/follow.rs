//! The score follower: live audio in, a position on the score out, frame by frame.
//!
//! It owns the streaming feature extractor and the tracker (the position–tempo filter by default,
//! online time warping as the baseline), and turns reference frames into what a musician or an
//! accompaniment system wants: score time, beat, written measure, local tempo, confidence and
//! whether it is following at all.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::align::cost::{match_quality, ClassicalCost, LocalCost};
use crate::align::evidence::{is_silent, MatchEvidence, Rivals, RunningEvidence, NEAR_FRAMES};
use crate::align::oltw::{Oltw, OltwConfig};
use crate::align::tempo_filter::{FilterConfig, PositionTempoFilter};
use crate::features::attack::{pitch_bands, rise, FINE_HOP};
use crate::features::semitone::BANDS;
use crate::features::{
    frame_at, frame_time, Extracted, FeatureExtractor, CHROMA_DIM, DIM, HOP_S, SAMPLE_RATE,
};
use crate::locate::dual_stack::DualStack;
use crate::locate::relocation::{Checker, Heard, Relocation, Verdict};
use crate::locate::search::{SearchConfig, SubsequenceSearch};
use crate::nn::embed::PooledEmbedder;
use crate::position::{FollowState, Report};
use crate::reference::Reference;

/// Seconds of path the local tempo is estimated from.
const TEMPO_WINDOW_S: f64 = 3.0;
/// Live frames after the first note (8 s) in which a follower not told where the performer
/// starts is not sure of where it is ([`Core::start_earned`]): relocation's search needs 2.5 s
/// of playing for its first look, and its localiser two or three checks to agree, so 4 s left
/// about one chance to find a pianist who started in the middle (dev mid-piece starts: median
/// 4.3 s to find them against 4.9 s; BENCHMARKS.md, "Practice").
const START_DOUBT_FRAMES: usize = 344;
/// Smoothing time constant of the confidence, in seconds.
const CONFIDENCE_SMOOTHING_S: f64 = 0.5;
/// Below this confidence the follower is uncertain …
const UNCERTAIN_BELOW: f32 = 0.25;
/// … and after this long uncertain, lost.
const LOST_AFTER_S: f64 = 3.0;
/// Time constant, in seconds, of the running evidence that the audio is the piece at all
/// ([`crate::align::evidence`]) …
const EVIDENCE_TIME_CONSTANT_S: f64 = 4.0;
/// … and the share of the most evidence there could have been at which the follower is fully sure
/// the audio is the piece. Chosen on train pieces (BENCHMARKS.md, "Calibration: a semitone
/// away"): the least that says `following` on at most 1 % of another piece's frames (0.15:
/// 1.43 %, 0.2: 0.82 %, 0.3: 0.32 %, each more of the piece's own frames the lower it is).
const EVIDENCE_SURE_ONLINE: f32 = 0.2;
/// A place is held at most this long past the written length of its note while sound goes on
/// (a fermata, a ritardando) …
const HELD_FACTOR: f64 = 3.0;
/// … plus this many seconds; beyond, the sound is not the piece (a steady tone, noise) and the
/// confidence fades out over [`HELD_FADE_S`].
const HELD_MARGIN_S: f64 = 2.0;
const HELD_FADE_S: f64 = 1.0;
/// Onsets the follower must have moved through, each on an attack of its own, since it started or
/// moved before it is sure: one note matches many places, and a tone or noise matches some
/// place, but neither moves on through the score's notes with attacks.
const PROVEN_AFTER_ONSETS: usize = 2;

/// A live frame whose onset feature is at least this strong is a played note: the performance
/// has begun.
const ATTACK_STRENGTH: f32 = 0.2;

/// Frames of prediction added to the tracker's position.
const LEAD_FRAMES: f64 = 1.0;
/// An onset may be crossed up to this many frames after the attack that announced it …
const GATE_ATTACK_FRAMES: usize = 4;
/// … and regardless of attacks once the tracker is this far past it.
const GATE_RELEASE_FRAMES: usize = 8;
/// The rise of the log energy at an onset's pitches from one fine hop to the next, on weighted
/// average over their bands ([`crate::features::attack::rise`]), at which the follower, about to
/// cross that onset, takes it as played and crosses at once, between frames …
const ATTACK_CROSSING_RISE: f32 = 0.3;
/// … when the tracker's prediction would reach the onset within this many frames of tempo.
/// Both chosen on every 12th train case (BENCHMARKS.md, "Precision"): the most onsets within
/// 25 ms with none lost at 100 ms.
const ATTACK_CROSSING_REACH_FRAMES: f64 = 2.0;

/// Which online aligner turns live frames into reference positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// The position–tempo filter ([`crate::align::tempo_filter`]); the default.
    Filter(FilterConfig),
    /// Online time warping ([`crate::align::oltw`]), the classical baseline.
    Oltw(OltwConfig),
}

impl Default for Method {
    fn default() -> Self {
        Self::Filter(FilterConfig::default())
    }
}

impl Method {
    /// Each method with its default settings.
    pub const ALL: [Self; 2] = [
        Self::Filter(FilterConfig::DEFAULT),
        Self::Oltw(OltwConfig::DEFAULT),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Filter(_) => "filter",
            Self::Oltw(_) => "oltw",
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

    /// `filter` or `oltw`, with their default settings.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown follower '{s}': use filter or oltw"))
    }
}

enum Tracker {
    Filter(PositionTempoFilter),
    Oltw(Oltw),
}

/// One tracker step: position, an instantaneous confidence, and the tracker's own tempo if it has one.
struct TrackStep {
    position: usize,
    confidence: f32,
    tempo: Option<f64>,
}

impl Tracker {
    fn reset(&mut self, start: usize) {
        match self {
            Self::Filter(f) => f.reset(start),
            Self::Oltw(o) => o.reset(start),
        }
    }

    fn position(&self) -> usize {
        match self {
            Self::Filter(f) => f.position(),
            Self::Oltw(o) => o.position(),
        }
    }

    /// Moves `frames` reference frames on, without evidence.
    fn shift(&mut self, frames: usize) {
        match self {
            Self::Filter(f) => f.shift(frames),
            // OLTW's partial path cannot jump: it starts again further on.
            Self::Oltw(o) => o.reset(o.position() + frames),
        }
    }

    fn step(&mut self, live: &[f32]) -> TrackStep {
        match self {
            Self::Filter(f) => {
                let e = f.step(live);
                TrackStep {
                    position: e.position,
                    confidence: e.confidence,
                    tempo: Some(e.tempo),
                }
            }
            // OLTW has no belief to read a confidence from: compare the cost at the chosen
            // position with the band's average, the cost of an unrelated frame.
            Self::Oltw(o) => {
                let s = o.step(live);
                let confidence = match_quality(f64::from(s.cost), f64::from(s.band_cost))
                    .map_or(f32::NAN, |q| q as f32);
                TrackStep {
                    position: s.position,
                    confidence,
                    tempo: None,
                }
            }
        }
    }
}

pub struct Follower {
    extractor: FeatureExtractor,
    input_rate: u32,
    /// Seconds that went by unheard ([`skip`](Self::skip)) and are not yet a whole frame.
    unheard_s: f64,
    core: Core,
    /// The learned similarity's embedder, when the reference carries embeddings.
    learned: Option<Learned>,
}

struct Learned {
    embedder: PooledEmbedder,
    frame: Vec<f32>,
    /// Why embedding failed, if it ever did (the frames then carry zeros instead).
    error: Option<String>,
}

/// Everything but the feature extractor: what happens to one live frame.
struct Core {
    reference: Arc<Reference>,
    tracker: Tracker,
    frames: usize,
    /// The live frame of the first note heard, once heard.
    started_at: Option<usize>,
    /// Whether the performer's start was given (`--start-measure`): a prior the follower may be
    /// sure of from the first note. Otherwise the start of the piece is only a guess.
    start_given: bool,
    /// Reference frames at which a score onset is first heard, sorted.
    onset_frames: Vec<usize>,
    /// Live frame index of the last attack heard, and the position last reported.
    last_attack: Option<usize>,
    /// Live frame at which the run of attack frames that `last_attack` ends began: one note.
    attack_began: Option<usize>,
    reported: usize,
    history: VecDeque<(f64, f64)>,
    /// The tracker's confidence, smoothed: how concentrated its belief is.
    tracker_confidence: f32,
    /// The reported confidence: the tracker's, times the share of the evidence that the audio is
    /// the piece at all, times the movement share.
    confidence: f32,
    uncertain_s: f64,
    /// Whether the recent audio is the piece at all, where the tracker places it.
    evidence: MatchEvidence,
    running_evidence: RunningEvidence,
    /// How frames are compared: the tracker's cost.
    cost: Arc<dyn LocalCost + Send>,
    /// Onsets at or before the reported position, and the seconds of sound heard since that
    /// number last changed.
    onsets_passed: usize,
    held_s: f64,
    /// Onsets passed, each on an attack of its own, since the start or the last move, and the
    /// live frame of the last attack counted.
    onsets_moved: usize,
    attack_counted: Option<usize>,
    /// The look over the whole piece that finds the pianist after a restart or a skip.
    relocation: Option<Relocation>,
    /// The follower moved since the last report: the next one says so.
    relocated: bool,
    /// Whether onsets are crossed at their attacks between frames ([`Follower::set_attack_crossing`]).
    attack_crossing: bool,
    /// Per onset (as `onset_frames`), the semitone bands its attack raises.
    onset_bands: Vec<Vec<(usize, f32)>>,
    /// The onset (index into `onset_frames`) the follower is about to cross: it crosses at the
    /// fine hop that hears its attack, not at the next frame.
    armed: Option<usize>,
    /// The position an attack was crossed to between frames, and the live frame then: the frames
    /// after do not report back from it while the tracker catches up.
    crossed_early: Option<(usize, usize)>,
    /// The last frame's report, and the fine hops since it.
    last_report: Option<Report>,
    hops_since_frame: usize,
}

impl Follower {
    pub fn new(reference: Arc<Reference>, input_rate: u32) -> Self {
        Self::with_method(
            reference,
            input_rate,
            Arc::new(ClassicalCost::default()),
            Method::default(),
        )
    }

    pub fn with_method(
        reference: Arc<Reference>,
        input_rate: u32,
        cost: Arc<dyn LocalCost + Send>,
        method: Method,
    ) -> Self {
        let features = reference.features.clone();
        let evidence = MatchEvidence::new(features.len(), Rivals::TypicalOrTransposed);
        let tracker_cost = cost.clone();
        let tracker = match method {
            Method::Filter(cfg) => Tracker::Filter(PositionTempoFilter::new(features, cost, cfg)),
            Method::Oltw(cfg) => Tracker::Oltw(Oltw::new(features, cost, cfg)),
        };
        let onsets = reference.score.onsets();
        let onset_frames = onsets
            .iter()
            .map(|o| (o.score_s / HOP_S - 1e-9).ceil() as usize)
            .collect();
        let onset_bands = onsets.iter().map(|o| pitch_bands(&o.pitches)).collect();
        let core = Core {
            relocation: None,
            relocated: false,
            onset_frames,
            reference,
            tracker,
            frames: 0,
            started_at: None,
            start_given: false,
            last_attack: None,
            attack_began: None,
            reported: 0,
            history: VecDeque::new(),
            tracker_confidence: 1.0,
            confidence: 1.0,
            uncertain_s: 0.0,
            evidence,
            running_evidence: RunningEvidence::new(
                (EVIDENCE_TIME_CONSTANT_S / HOP_S) as f32,
                EVIDENCE_SURE_ONLINE,
            ),
            cost: tracker_cost,
            onsets_passed: 0,
            held_s: 0.0,
            onsets_moved: 0,
            attack_counted: None,
            onset_bands,
            attack_crossing: true,
            armed: None,
            crossed_early: None,
            last_report: None,
            hops_since_frame: 0,
        };
        let mut f = Self {
            extractor: FeatureExtractor::new(input_rate).with_attacks(),
            input_rate,
            unheard_s: 0.0,
            core,
            learned: None,
        };
        f.restart_at(0.0);
        f
    }

    /// Embeds every live frame with `embedder` (the reference must have been made with the same
    /// model: [`Reference::from_audio_learned`]), for a [`crate::align::cost::LearnedCost`].
    pub fn with_embedder(mut self, embedder: impl Into<PooledEmbedder>) -> Self {
        let mut embedder = embedder.into();
        embedder.reset();
        self.learned = Some(Learned {
            embedder,
            frame: Vec::new(),
            error: None,
        });
        self
    }

    /// Also looks for the pianist over the whole piece ([`crate::locate`]) and moves there after a
    /// restart, a skip or a start in the middle. Experimental, and off by default: on the dev set
    /// it finds some jumps that the follower alone never finds, but it also moves away from
    /// pianists playing straight on (BENCHMARKS.md, "Practice"). With `localiser` (seed 001's
    /// dual-stack network), every place the search proposes is checked by it before a move.
    pub fn with_relocation(mut self, localiser: Option<DualStack>) -> Self {
        self.set_relocation(true, localiser);
        self
    }

    /// Turns relocation ([`with_relocation`](Self::with_relocation)) on or off in the middle of
    /// a performance, where the follower is.
    pub fn set_relocation(&mut self, on: bool, localiser: Option<DualStack>) {
        if !on {
            self.core.relocation = None;
            return;
        }
        let search = SubsequenceSearch::new(
            self.core.reference.features.clone(),
            self.core.cost.clone(),
            SearchConfig::DEFAULT,
        );
        let checker = localiser.map(|l| Checker::new(l, self.core.reference.semitones.clone()));
        let branches = (self.core.reference.score.branches().iter())
            .map(|b| (frame_at(b.from_s), frame_at(b.to_s)))
            .collect();
        self.core.relocation =
            Some(Relocation::new(Box::new(search), checker).with_branches(branches));
    }

    /// The first error of the learned embedder, if any.
    pub fn embedding_error(&self) -> Option<&str> {
        self.learned.as_ref().and_then(|l| l.error.as_deref())
    }

    pub fn reference(&self) -> &Arc<Reference> {
        &self.core.reference
    }

    /// Starts over at the beginning of the piece.
    pub fn reset(&mut self) {
        self.restart_at(0.0);
    }

    /// Starts over expecting the performer to begin at the first played measure numbered
    /// `measure` (the written number). Returns false if there is no such measure.
    pub fn start_at_measure(&mut self, measure: &str) -> bool {
        match self.core.reference.score.measure_start_s(measure) {
            Some(t) => {
                self.restart_at(t);
                self.core.start_given = true;
                true
            }
            None => false,
        }
    }

    fn restart_at(&mut self, score_time_s: f64) {
        self.extractor = FeatureExtractor::new(self.input_rate).with_attacks();
        self.unheard_s = 0.0;
        if let Some(l) = self.learned.as_mut() {
            l.embedder.reset();
        }
        self.core.restart_at(score_time_s);
    }

    /// Input samples so far that were NaN or infinite and were followed as silence.
    pub fn non_finite_samples(&self) -> u64 {
        self.extractor.non_finite_samples()
    }

    /// `samples` input samples went by that the follower never got (a live input that dropped
    /// them under load): the pianist played on meanwhile. The performance clock moves on by them,
    /// and the place at the pianist's tempo; what is pushed next is heard from there.
    pub fn skip(&mut self, samples: u64) {
        self.unheard_s += samples as f64 / f64::from(self.input_rate);
        let frames = (self.unheard_s / HOP_S).floor();
        self.unheard_s -= frames * HOP_S;
        self.core.pass_unheard(frames as usize);
    }

    /// Whether the follower, about to cross a score onset, crosses it the moment it hears that
    /// onset's attack (on by default), with a report of its own between frames; off, it crosses
    /// onsets at frames only (23 ms apart), as before: the benchmark's comparison.
    pub fn set_attack_crossing(&mut self, on: bool) {
        self.core.attack_crossing = on;
        self.core.armed = None;
    }

    /// Feeds a block of mono input samples; `on_report` is called once per completed frame, and
    /// once more between frames where an attack lets the follower cross an onset early.
    pub fn push(&mut self, block: &[f32], mut on_report: impl FnMut(&Report)) {
        let Self {
            extractor,
            core,
            learned,
            ..
        } = self;
        let latency_s = extractor.latency_s();
        extractor.push_extracted(block, |e| match e {
            Extracted::Frame(f, semitones) => on_report(&frame_report(
                core,
                learned.as_mut(),
                f,
                semitones,
                latency_s,
            )),
            Extracted::Hop(now, previous) => {
                if let Some(r) = core.hop(now, previous) {
                    on_report(&r)
                }
            }
        });
    }
}

/// One live frame through the embedder, if any, and the core.
fn frame_report(
    core: &mut Core,
    learned: Option<&mut Learned>,
    f: &[f32],
    semitones: &[f32; BANDS],
    latency_s: f64,
) -> Report {
    let Some(l) = learned else {
        return core.frame(f, semitones, latency_s);
    };
    if let Err(e) = l.embedder.extend(f, semitones, &mut l.frame) {
        l.error.get_or_insert_with(|| e.to_string());
        l.frame.clear();
        l.frame.extend_from_slice(f);
        l.frame.resize(DIM + l.embedder.dim, 0.0);
    }
    core.frame(&l.frame, semitones, latency_s)
}

impl Core {
    /// The tracker starts at the first note at or after `score_time_s`: it only starts tracking at
    /// the performer's first attack, which is that note, not the silence of a pickup bar before it.
    fn restart_at(&mut self, score_time_s: f64) {
        let onsets = self.reference.score.onset_times();
        let first_note = onsets
            .iter()
            .copied()
            .find(|&t| t >= score_time_s - 1e-6)
            .unwrap_or(score_time_s);
        self.tracker.reset(frame_at(first_note));
        self.frames = 0;
        self.started_at = None;
        self.start_given = false;
        self.last_attack = None;
        self.attack_began = None;
        self.reported = frame_at(first_note);
        self.disarm();
        self.history.clear();
        self.tracker_confidence = 1.0;
        self.confidence = 1.0;
        self.forget_evidence();
        self.relocated = false;
        if let Some(r) = self.relocation.as_mut() {
            r.reset();
        }
    }

    /// Carries on from reference frame `position`: the pianist is there, not where the tracker
    /// was (a restart, a skip).
    fn relocate(&mut self, position: usize) {
        let position = position.min(self.reference.features.len() - 1);
        self.tracker.reset(position);
        self.reported = position;
        self.disarm();
        self.history.clear();
        self.tracker_confidence = 0.5;
        self.confidence = 0.5;
        self.forget_evidence();
        self.relocated = true;
    }

    /// `frames` frames went by unheard: the clock moves on, and once the pianist has begun, the
    /// place does too, at their tempo. Relocation's last seconds of audio are no longer one
    /// stretch of playing, so it starts them afresh.
    fn pass_unheard(&mut self, frames: usize) {
        self.frames += frames;
        if self.started_at.is_none() || frames == 0 {
            return;
        }
        let ahead = (self.tempo_ratio() * frames as f64).round() as usize;
        self.tracker.shift(ahead);
        self.reported = (self.reported + ahead).min(self.reference.features.len() - 1);
        self.disarm();
        if let Some(r) = self.relocation.as_mut() {
            r.reset();
        }
    }

    fn disarm(&mut self) {
        self.armed = None;
        self.crossed_early = None;
        self.last_report = None;
    }

    /// One fine hop between frames: if the follower is about to cross an onset and this hop
    /// hears that onset's pitches rise, it crosses now, and says so in a report of its own.
    fn hop(&mut self, now: &[f32; BANDS], previous: &[f32; BANDS]) -> Option<Report> {
        let hops = self.hops_since_frame;
        self.hops_since_frame += 1;
        let onset = self.armed?;
        if rise(&self.onset_bands[onset], now, previous) < ATTACK_CROSSING_RISE {
            return None;
        }
        self.armed = None;
        let last = self.last_report?;
        let position = self.onset_frames[onset];
        self.reported = position;
        // The attack is heard: the next frame's gate lets the onset pass, and the onset counts
        // as passed on an attack of its own (the confidence's movement share).
        if self.last_attack.is_none_or(|a| a + 1 < self.frames) {
            self.attack_began = Some(self.frames);
        }
        self.last_attack = Some(self.frames);
        self.crossed_early = Some((position, self.frames));
        let perf_time_s = last.perf_time_s + (hops * FINE_HOP) as f64 / f64::from(SAMPLE_RATE);
        Some(Report::at(
            &self.reference.score,
            perf_time_s,
            self.reference.score_time(position),
            last.tempo_ratio,
            last.confidence,
            last.state,
        ))
    }

    /// After a frame's report at `predicted` (the tracker's position, a frame of tempo on): arms
    /// the next onset if the prediction would reach it within [`ATTACK_CROSSING_REACH_FRAMES`].
    fn arm(&mut self, predicted: usize, tempo: f64, state: FollowState) {
        let next = self.onset_frames.partition_point(|&f| f <= self.reported);
        let reach = predicted + (tempo * ATTACK_CROSSING_REACH_FRAMES).round().max(1.0) as usize;
        self.armed = (self.attack_crossing
            && matches!(state, FollowState::Following | FollowState::Uncertain)
            && self.onset_frames.get(next).is_some_and(|&n| reach >= n))
        .then_some(next);
    }

    /// What was heard says nothing of the place the follower starts at or moves to.
    fn forget_evidence(&mut self) {
        self.uncertain_s = 0.0;
        self.running_evidence.reset();
        self.held_s = 0.0;
        self.onsets_moved = 0;
        self.attack_counted = None;
        self.onsets_passed = self.onset_frames.partition_point(|&f| f <= self.reported);
    }

    /// One live frame (and its semitone spectrogram) in, one report out.
    fn frame(&mut self, live: &[f32], semitones: &[f32; BANDS], latency_s: f64) -> Report {
        let perf_time_s = frame_time(self.frames) + latency_s;
        self.hops_since_frame = 0;
        let attack = onset_strength(live) >= ATTACK_STRENGTH;
        if attack {
            if self.last_attack.is_none_or(|a| a + 1 < self.frames) {
                self.attack_began = Some(self.frames);
            }
            self.last_attack = Some(self.frames);
        }
        self.frames += 1;
        // Until the first note is heard there is nothing to follow: silence before the
        // performer starts must not move the position through the score.
        if attack && self.started_at.is_none() {
            self.started_at = Some(self.frames);
        }
        let mut report = if self.started_at.is_some() {
            let step = self.tracker.step(live);
            let sounding = !is_silent(live);
            if sounding {
                self.weigh_evidence(live, step.position);
            }
            self.report(step, perf_time_s, sounding)
        } else {
            self.waiting_report(perf_time_s, self.tracker.position())
        };
        report.relocated = std::mem::take(&mut self.relocated);
        match self.relocation_verdict(live, semitones, attack) {
            Verdict::Move(position) => self.relocate(position),
            Verdict::Doubt if report.state != FollowState::Waiting => {
                report.state = FollowState::Searching;
                self.armed = None;
            }
            _ => {}
        }
        self.last_report = Some(report);
        report
    }

    /// What the look over the whole piece makes of this frame (nothing, without one or before the
    /// first note; the tempo is only worked out for it).
    fn relocation_verdict(
        &mut self,
        live: &[f32],
        semitones: &[f32; BANDS],
        attack: bool,
    ) -> Verdict {
        if self.started_at.is_none() || self.relocation.is_none() {
            return Verdict::Stay;
        }
        let heard = Heard {
            live,
            semitones,
            position: self.reported,
            attack,
            tempo: self.tempo_ratio().clamp(0.5, 2.0),
            // Whether the belief is concentrated: relocation weighs its own evidence of where
            // the pianist is against this, and its settings were chosen with it.
            sure: self.tracker_confidence >= UNCERTAIN_BELOW && self.start_earned(),
            unearned_start: !self.start_earned(),
        };
        self.relocation
            .as_mut()
            .map_or(Verdict::Stay, |r| r.frame(&heard))
    }

    /// Whether the place the follower started at has been earned: told (`--start-measure`), or
    /// followed for [`START_DOUBT_FRAMES`] since the first note. Before that, the tracker's belief
    /// is concentrated because it was put there, not because the music matched there, so it is no
    /// reason to ask relocation for more evidence than usual.
    fn start_earned(&self) -> bool {
        self.start_given
            || self
                .started_at
                .is_some_and(|s| self.frames - s > START_DOUBT_FRAMES)
    }

    /// The reported position crosses the next score onset only once an attack has been heard:
    /// in a long note the belief drifts forward with the tempo, but nobody has played the next
    /// note yet. If the tracker is far past the onset the attack was missed (soft note, pedal):
    /// then it is believed anyway.
    fn gate(&mut self, position: usize) -> usize {
        let next_onset = self
            .onset_frames
            .get(self.onset_frames.partition_point(|&f| f <= self.reported))
            .copied();
        let heard = self
            .last_attack
            .is_some_and(|a| self.frames - a <= GATE_ATTACK_FRAMES);
        let gated = match next_onset {
            Some(n) if position >= n && !heard && position < n + GATE_RELEASE_FRAMES => n - 1,
            _ => position,
        };
        self.reported = match self.crossed_early {
            Some((early, at)) if gated < early && self.frames <= at + GATE_RELEASE_FRAMES => early,
            _ => {
                self.crossed_early = None;
                gated
            }
        };
        self.reported
    }

    fn report(&mut self, step: TrackStep, perf_time_s: f64, sounding: bool) -> Report {
        // The evidence for a position arrives about a frame late (an attack is only clear once the
        // window holds some of it), so the position now is one frame of tempo further on.
        let tempo = step.tempo.unwrap_or(1.0);
        let predicted = step.position + (tempo * LEAD_FRAMES).round() as usize;
        let position = self.gate(predicted.min(self.reference.features.len() - 1));
        let score_time_s = self.reference.score_time(position);
        self.history.push_back((perf_time_s, score_time_s));
        while self
            .history
            .front()
            .is_some_and(|h| perf_time_s - h.0 > TEMPO_WINDOW_S)
        {
            self.history.pop_front();
        }
        let movement = self.movement_share(sounding);
        self.update_confidence(&step, movement as f32);
        // A follower that looks over the whole piece has not given up where a local one would.
        let state = if self.uncertain_s >= LOST_AFTER_S && self.relocation.is_some() {
            FollowState::Searching
        } else if self.uncertain_s >= LOST_AFTER_S {
            FollowState::Lost
        } else if self.confidence < UNCERTAIN_BELOW {
            FollowState::Uncertain
        } else {
            FollowState::Following
        };
        self.arm(predicted, tempo, state);
        Report::at(
            &self.reference.score,
            perf_time_s,
            score_time_s,
            self.tempo_ratio(),
            self.confidence,
            state,
        )
    }

    fn waiting_report(&self, perf_time_s: f64, position: usize) -> Report {
        let score_time_s = self.reference.score_time(position);
        Report::at(
            &self.reference.score,
            perf_time_s,
            score_time_s,
            1.0,
            1.0,
            FollowState::Waiting,
        )
    }

    /// Adds the evidence that `live` (not silence, which says nothing either way) is the piece,
    /// at the tracker's `position`.
    fn weigh_evidence(&mut self, live: &[f32], position: usize) {
        let (reference, cost) = (&self.reference.features, self.cost.as_ref());
        let e = self
            .evidence
            .of(live, reference, position, NEAR_FRAMES, cost);
        let most = self.evidence.most(reference, position, cost);
        self.running_evidence.push(e, most);
    }

    /// Whether the follower moves through the score as a pianist playing it does, from 0 to 1: 0
    /// until it has passed [`PROVEN_AFTER_ONSETS`] onsets on attacks of their own since it started
    /// or moved; then from 1 to 0 as the seconds of sound at one place since it last passed an
    /// onset run out of what the note there can be held for. A steady tone or noise keeps the
    /// tracker at one place.
    fn movement_share(&mut self, sounding: bool) -> f64 {
        let passed = self.onset_frames.partition_point(|&f| f <= self.reported);
        if passed != self.onsets_passed {
            self.onsets_passed = passed;
            self.held_s = 0.0;
            if self.attack_began != self.attack_counted {
                self.attack_counted = self.attack_began;
                self.onsets_moved += 1;
            }
        } else if sounding {
            self.held_s += HOP_S;
        }
        if self.onsets_moved < PROVEN_AFTER_ONSETS {
            return 0.0;
        }
        let (Some(&next), Some(&last)) = (
            self.onset_frames.get(passed),
            passed.checked_sub(1).and_then(|p| self.onset_frames.get(p)),
        ) else {
            return 1.0; // before the first note or after the last: nothing to wait for
        };
        let allowed_s = HELD_MARGIN_S + HELD_FACTOR * (next - last) as f64 * HOP_S;
        (1.0 - (self.held_s - allowed_s) / HELD_FADE_S).clamp(0.0, 1.0)
    }

    /// Smooths the tracker's confidence (a NaN, no evidence either way, e.g. silence matched to
    /// silence, leaves it where it was) and weighs it by the evidence that the audio is the piece
    /// and by the [`movement_share`](Self::movement_share).
    fn update_confidence(&mut self, step: &TrackStep, movement: f32) {
        if !step.confidence.is_nan() {
            let alpha = (HOP_S / CONFIDENCE_SMOOTHING_S) as f32;
            self.tracker_confidence += alpha * (step.confidence - self.tracker_confidence);
        }
        self.confidence = self.tracker_confidence * self.running_evidence.share() * movement;
        if self.confidence < UNCERTAIN_BELOW {
            self.uncertain_s += HOP_S;
        } else {
            self.uncertain_s = 0.0;
        }
    }

    /// Least-squares slope of score time over performance time in the recent path.
    fn tempo_ratio(&self) -> f64 {
        let n = self.history.len() as f64;
        if n < 8.0 {
            return 1.0;
        }
        let (mx, my) = self
            .history
            .iter()
            .fold((0.0, 0.0), |a, h| (a.0 + h.0 / n, a.1 + h.1 / n));
        let (sxy, sxx) = self.history.iter().fold((0.0, 0.0), |a, h| {
            (a.0 + (h.0 - mx) * (h.1 - my), a.1 + (h.0 - mx) * (h.0 - mx))
        });
        if sxx > 0.0 {
            (sxy / sxx).max(0.0)
        } else {
            1.0
        }
    }
}

fn onset_strength(frame: &[f32]) -> f32 {
    frame[CHROMA_DIM..DIM]
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
}

/// For each target score time, the first report time at which the followed position reached it
/// (`None` if never): the online measure of when the follower "knew". Reports made while waiting
/// for the performer to start claim nothing.
pub fn first_reach_times(reports: &[Report], targets: &[f64]) -> Vec<Option<f64>> {
    // Running maximum of the position makes "first time ≥ target" a binary search.
    let mut running = Vec::with_capacity(reports.len());
    let mut max = f64::NEG_INFINITY;
    for r in reports {
        if r.state != FollowState::Waiting {
            max = max.max(r.score_time_s);
        }
        running.push(max);
    }
    targets
        .iter()
        .map(|&t| {
            let k = running.partition_point(|&m| m < t - 1e-9);
            reports.get(k).map(|r| r.perf_time_s)
        })
        .collect()
}
