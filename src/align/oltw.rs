//! Online time warping (Dixon 2005) with the refinements of Arzt & Widmer that matter for a
//! score follower:
//!
//! * a **search band** around the current position: each live frame is compared only with the
//!   reference frames from `window_back` before to `window_forward` after the current position,
//!   so the cost per frame is constant, whatever the length of the piece;
//! * Dixon's step weights (1 for a horizontal or vertical step, 2 for a diagonal one), so every path
//!   to cell `(t, j)` has the same total weight `t + j − start + 1` and accumulated costs at
//!   different reference frames can be compared by their average;
//! * a **run-count limit**: the position moves at most `max_step` reference frames per live frame,
//!   which bounds the tempo the follower will believe (4× the score tempo by default) and keeps
//!   it from jumping to a look-alike passage;
//! * **path following**: the reported position is the end of the best partial path, recomputed
//!   every frame, not a fixed decision; a wrong turn can be undone while it is inside the band.
//!
//! It is causal: the position after live frame `t` depends only on frames `0..=t`.

use std::sync::Arc;

use super::cost::LocalCost;
use crate::features::Features;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OltwConfig {
    /// Reference frames searched behind the current position.
    pub window_back: usize,
    /// Reference frames searched ahead of the current position.
    pub window_forward: usize,
    /// Most reference frames the position may move (either way) per live frame.
    pub max_step: usize,
}

impl OltwConfig {
    /// The default settings, as a constant.
    pub const DEFAULT: Self = Self {
        window_back: 100,
        window_forward: 300,
        max_step: 4,
    };
}

impl Default for OltwConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What one live frame produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Reference frame the live frame is aligned to.
    pub position: usize,
    /// Local cost at that position.
    pub cost: f32,
    /// Mean local cost over the search band: what an unrelated frame costs.
    pub band_cost: f32,
}

pub struct Oltw {
    reference: Arc<Features>,
    cost: Arc<dyn LocalCost + Send>,
    cfg: OltwConfig,
    start: usize,
    t: usize,
    position: usize,
    prev: Vec<f64>,
    prev_lo: usize,
    cur: Vec<f64>,
}

impl Oltw {
    pub fn new(reference: Arc<Features>, cost: Arc<dyn LocalCost + Send>, cfg: OltwConfig) -> Self {
        let cap = cfg.window_back + cfg.window_forward + 1;
        Self {
            reference,
            cost,
            cfg,
            start: 0,
            t: 0,
            position: 0,
            prev: Vec::with_capacity(cap),
            prev_lo: 0,
            cur: Vec::with_capacity(cap),
        }
    }

    /// Forgets the performance so far; the next live frame is matched from `start_frame` on.
    pub fn reset(&mut self, start_frame: usize) {
        self.start = start_frame.min(self.reference.len().saturating_sub(1));
        self.position = self.start;
        self.t = 0;
        self.prev.clear();
        self.prev_lo = self.start;
    }

    /// The local cost it follows with.
    pub fn cost(&self) -> Arc<dyn LocalCost + Send> {
        self.cost.clone()
    }

    pub fn position(&self) -> usize {
        self.position
    }

    pub fn step(&mut self, live: &[f32]) -> Step {
        let n = self.reference.len();
        let lo = self
            .position
            .saturating_sub(self.cfg.window_back)
            .max(self.start);
        let hi = (self.position + self.cfg.window_forward + 1).min(n);
        self.cur.clear();
        let mut band_sum = 0.0f64;
        let mut best = (f64::INFINITY, self.position);
        for j in lo..hi {
            let d = self.cost.distance(live, self.reference.frame(j));
            band_sum += f64::from(d);
            let acc = self.accumulate(j, lo, f64::from(d));
            self.cur.push(acc);
            // Average cost along the best path to (t, j).
            let weight = (self.t + j - self.start + 1) as f64;
            if acc / weight < best.0 {
                best = (acc / weight, j);
            }
        }
        // The run-count limit: move toward the best path's end, but only so fast.
        let step = self.cfg.max_step;
        self.position = best
            .1
            .clamp(self.position.saturating_sub(step), self.position + step)
            .clamp(lo, hi - 1);
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.prev_lo = lo;
        self.t += 1;
        let cost = self
            .cost
            .distance(live, self.reference.frame(self.position));
        Step {
            position: self.position,
            cost,
            band_cost: (band_sum / (hi - lo).max(1) as f64) as f32,
        }
    }

    /// Dixon's recurrence with weights 1 (horizontal, vertical) and 2 (diagonal).
    fn accumulate(&self, j: usize, lo: usize, d: f64) -> f64 {
        if self.t == 0 {
            return if j == self.start {
                d
            } else {
                self.cur.last().map_or(f64::INFINITY, |c| c + d)
            };
        }
        let prev = |k: usize| {
            if k >= self.prev_lo && k - self.prev_lo < self.prev.len() {
                self.prev[k - self.prev_lo]
            } else {
                f64::INFINITY
            }
        };
        let mut best = prev(j) + d;
        if j > 0 {
            best = best.min(prev(j - 1) + 2.0 * d);
        }
        if j > lo {
            best = best.min(self.cur[j - lo - 1] + d);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::cost::EuclideanCost;
    use crate::align::test_support::{at, features, trajectory};

    #[test]
    fn follows_a_tempo_change_causally() {
        let traj = trajectory(2000);
        let reference = Arc::new(features(traj.iter().map(|v| v.to_vec())));
        let mut oltw = Oltw::new(reference, Arc::new(EuclideanCost), OltwConfig::default());
        oltw.reset(0);
        // Live: first half at 0.7x, then 1.6x the reference tempo.
        let mut r = 0.0f32;
        let mut worst = 0f32;
        for t in 0..1800 {
            r += if t < 900 { 0.7 } else { 1.6 };
            if r >= 1999.0 {
                break;
            }
            let s = oltw.step(&at(&traj, r));
            if t > 20 {
                worst = worst.max((s.position as f32 - r).abs());
            }
        }
        // The run-count limit lets it catch up with the sudden change within a few frames.
        assert!(worst <= 4.0, "worst error {worst} frames");
    }

    #[test]
    fn starts_from_a_given_frame() {
        let reference = Arc::new(features(trajectory(500).iter().map(|v| v.to_vec())));
        let mut oltw = Oltw::new(
            reference.clone(),
            Arc::new(EuclideanCost),
            OltwConfig::default(),
        );
        oltw.reset(300);
        let mut last = 0;
        for k in 300..400 {
            last = oltw.step(reference.frame(k)).position;
        }
        assert_eq!(last, 399);
    }
}
