//! The score follower: live audio in, a position on the score out, frame by frame.
//!
//! It owns the streaming feature extractor and the online time warper, and turns reference
//! frames into what a musician or an accompaniment system wants: score time, beat, written
//! measure, local tempo, confidence and whether it is following at all.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::align::cost::{ClassicalCost, LocalCost};
use crate::align::oltw::{Oltw, OltwConfig, Step};
use crate::features::{frame_at, frame_time, FeatureExtractor, HOP_S};
use crate::reference::Reference;

/// Seconds of path the local tempo is estimated from.
const TEMPO_WINDOW_S: f64 = 3.0;
/// Smoothing time constant of the confidence, in seconds.
const CONFIDENCE_SMOOTHING_S: f64 = 0.5;
/// Below this confidence the follower is uncertain …
const UNCERTAIN_BELOW: f32 = 0.25;
/// … and after this long uncertain, lost.
const LOST_AFTER_S: f64 = 3.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowState {
    Following,
    Uncertain,
    Lost,
}

impl FollowState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Following => "following",
            Self::Uncertain => "uncertain",
            Self::Lost => "lost",
        }
    }
}

/// The follower's answer after one live frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Time in the performance at which this report is available (end of the live frame).
    pub perf_time_s: f64,
    pub score_time_s: f64,
    pub score_beat: f64,
    /// Index into the score's played measures.
    pub measure_index: usize,
    pub beat_in_measure: f64,
    /// Local tempo relative to the score (2 = twice as fast as written).
    pub tempo_ratio: f64,
    /// 0 (no idea) to 1 (sure).
    pub confidence: f32,
    pub state: FollowState,
}

pub struct Follower {
    reference: Arc<Reference>,
    extractor: FeatureExtractor,
    oltw: Oltw,
    input_rate: u32,
    frames: usize,
    history: VecDeque<(f64, f64)>,
    confidence: f32,
    uncertain_s: f64,
}

impl Follower {
    pub fn new(reference: Arc<Reference>, input_rate: u32) -> Self {
        Self::with_cost(reference, input_rate, Arc::new(ClassicalCost::default()), OltwConfig::default())
    }

    pub fn with_cost(reference: Arc<Reference>, input_rate: u32, cost: Arc<dyn LocalCost + Send>, cfg: OltwConfig) -> Self {
        let mut oltw = Oltw::new(reference.features.clone(), cost, cfg);
        oltw.reset(0);
        Self {
            reference,
            extractor: FeatureExtractor::new(input_rate),
            oltw,
            input_rate,
            frames: 0,
            history: VecDeque::new(),
            confidence: 1.0,
            uncertain_s: 0.0,
        }
    }

    pub fn reference(&self) -> &Arc<Reference> {
        &self.reference
    }

    /// Starts over at the beginning of the piece.
    pub fn reset(&mut self) {
        self.restart_at(0.0);
    }

    /// Starts over expecting the performer to begin at the first played measure numbered
    /// `measure` (the written number). Returns false if there is no such measure.
    pub fn start_at_measure(&mut self, measure: &str) -> bool {
        match self.reference.score.measure_start_s(measure) {
            Some(t) => {
                self.restart_at(t);
                true
            }
            None => false,
        }
    }

    fn restart_at(&mut self, score_time_s: f64) {
        self.extractor = FeatureExtractor::new(self.input_rate);
        self.oltw.reset(frame_at(score_time_s));
        self.frames = 0;
        self.history.clear();
        self.confidence = 1.0;
        self.uncertain_s = 0.0;
    }

    /// Feeds a block of mono input samples; `on_report` is called once per completed frame.
    pub fn push(&mut self, block: &[f32], mut on_report: impl FnMut(&Report)) {
        let Self { extractor, oltw, .. } = self;
        let mut steps: Vec<Step> = Vec::new();
        extractor.push(block, |f| steps.push(oltw.step(f)));
        for s in steps {
            let r = self.report(s);
            on_report(&r);
        }
    }

    fn report(&mut self, step: Step) -> Report {
        let perf_time_s = frame_time(self.frames);
        self.frames += 1;
        let score_time_s = self.reference.score_time(step.position);
        self.history.push_back((perf_time_s, score_time_s));
        while self.history.front().is_some_and(|h| perf_time_s - h.0 > TEMPO_WINDOW_S) {
            self.history.pop_front();
        }
        self.update_confidence(step);
        let score = &self.reference.score;
        let pos = score.position_at(score_time_s);
        Report {
            perf_time_s,
            score_time_s,
            score_beat: pos.beat,
            measure_index: score.measure_index_at(pos.beat).unwrap_or(0),
            beat_in_measure: pos.beat_in_measure,
            tempo_ratio: self.tempo_ratio(),
            confidence: self.confidence,
            state: if self.uncertain_s >= LOST_AFTER_S {
                FollowState::Lost
            } else if self.confidence < UNCERTAIN_BELOW {
                FollowState::Uncertain
            } else {
                FollowState::Following
            },
        }
    }

    /// Confidence compares the cost at the chosen position with the cost of an unrelated frame in
    /// the band: a good match is far cheaper than the band average. Silence matched to silence
    /// costs nothing on either side and leaves the confidence where it was.
    fn update_confidence(&mut self, step: Step) {
        if step.band_cost > 0.05 {
            let instant = (1.0 - step.cost / step.band_cost).clamp(0.0, 1.0) * 2.0;
            let alpha = (HOP_S / CONFIDENCE_SMOOTHING_S) as f32;
            self.confidence += alpha * (instant.min(1.0) - self.confidence);
        }
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
        let (mx, my) = self.history.iter().fold((0.0, 0.0), |a, h| (a.0 + h.0 / n, a.1 + h.1 / n));
        let (sxy, sxx) = self.history.iter().fold((0.0, 0.0), |a, h| (a.0 + (h.0 - mx) * (h.1 - my), a.1 + (h.0 - mx) * (h.0 - mx)));
        if sxx > 0.0 {
            (sxy / sxx).max(0.0)
        } else {
            1.0
        }
    }
}

/// For each target score time, the first report time at which the followed position reached it
/// (`None` if never): the online measure of when the follower "knew".
pub fn first_reach_times(reports: &[Report], targets: &[f64]) -> Vec<Option<f64>> {
    // Running maximum of the position makes "first time ≥ target" a binary search.
    let mut running = Vec::with_capacity(reports.len());
    let mut max = f64::NEG_INFINITY;
    for r in reports {
        max = max.max(r.score_time_s);
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
