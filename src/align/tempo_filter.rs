//! A Bayesian position–tempo filter over the reference: the follower Segno uses by default.
//!
//! Online time warping ([`super::oltw`]) only knows which partial path is cheapest; it has no notion
//! of where the performer *should* be a moment later. On real performances (pedal, reverb, a piano
//! that is not the reference's) that makes it stall on a sustained chord that matches a little
//! better than the music ahead, and once the true position leaves its band it never comes back.
//! The benchmark shows it (BENCHMARKS.md). This filter keeps a probability for every
//! (reference frame, tempo) pair in a band around the current position:
//!
//! * **predict**: each tempo hypothesis moves its position forward by its tempo (in reference
//!   frames per live frame, split between the two neighbouring frames), tempi drift slowly to their
//!   neighbours, and a small pause probability lets the position wait (fermatas, breaths);
//! * **update**: multiply by the likelihood `exp(−d / τ)` of the live frame at each reference frame,
//!   with `d` the same local cost DTW uses;
//!
//! The reported position is the median of the position marginal: it passes a score time only once
//! the filter believes, at even odds or better, that the performer has reached it. The confidence
//! combines how concentrated the belief is near that position with how well the live frame matches
//! there compared with the band's average frame: a sharp belief in a poor match is not confidence.
//! Everything is causal and costs a fixed amount per frame, whatever the length of the piece.

use std::sync::Arc;

use super::cost::{match_quality, LocalCost};
use crate::features::Features;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilterConfig {
    /// Tempo range, relative to the score (reference frames per live frame).
    pub tempo_min: f64,
    pub tempo_max: f64,
    pub tempo_steps_per_octave: usize,
    /// Spread, in octaves, of the initial belief about the tempo around the score's own.
    pub tempo_prior_octaves: f64,
    /// Probability per frame that the tempo moves to a neighbouring value.
    pub tempo_change: f64,
    /// Probability per frame that the position does not advance.
    pub pause: f64,
    /// Band of reference frames kept around the reported position.
    pub window_back: usize,
    pub window_forward: usize,
    /// Likelihood temperature, in units of the local cost.
    pub temperature: f64,
    /// Frames either side of the reported position counted as "near" for the confidence.
    pub confidence_radius: usize,
}

impl FilterConfig {
    /// The default settings, as a constant.
    pub const DEFAULT: Self = Self {
        tempo_min: 0.25,
        tempo_max: 4.0,
        tempo_steps_per_octave: 6,
        tempo_prior_octaves: 0.75,
        tempo_change: 0.015,
        pause: 0.2,
        window_back: 100,
        window_forward: 300,
        temperature: 1.0,
        confidence_radius: 10,
    };
}

impl Default for FilterConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What one live frame produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub position: usize,
    /// Posterior mean tempo relative to the score.
    pub tempo: f64,
    /// Probability mass within `confidence_radius` frames of `position`, times the match quality
    /// there (1 where the live frame costs at most half of the band's average, 0 at the average).
    pub confidence: f32,
}

pub struct PositionTempoFilter {
    reference: Arc<Features>,
    cost: Arc<dyn LocalCost + Send>,
    cfg: FilterConfig,
    tempi: Vec<f64>,
    /// First reference frame of the band.
    lo: usize,
    width: usize,
    /// `prob[(j - lo) * K + k]`
    prob: Vec<f64>,
    next: Vec<f64>,
    marginal: Vec<f64>,
    /// Local costs of the last live frame over the band.
    costs: Vec<f64>,
    position: usize,
}

impl PositionTempoFilter {
    pub fn new(
        reference: Arc<Features>,
        cost: Arc<dyn LocalCost + Send>,
        cfg: FilterConfig,
    ) -> Self {
        let octaves = (cfg.tempo_max / cfg.tempo_min).log2();
        let steps = (octaves * cfg.tempo_steps_per_octave as f64).round() as usize;
        let tempi: Vec<f64> = (0..=steps)
            .map(|k| cfg.tempo_min * 2f64.powf(k as f64 / cfg.tempo_steps_per_octave as f64))
            .collect();
        let width = cfg.window_back + cfg.window_forward + 1;
        let n = width * tempi.len();
        let mut f = Self {
            reference,
            cost,
            cfg,
            tempi,
            lo: 0,
            width,
            prob: vec![0.0; n],
            next: vec![0.0; n],
            marginal: vec![0.0; width],
            costs: Vec::with_capacity(width),
            position: 0,
        };
        f.reset(0);
        f
    }

    /// All belief on `start_frame`; tempi near the score's own are the most likely.
    pub fn reset(&mut self, start_frame: usize) {
        let start = start_frame.min(self.reference.len().saturating_sub(1));
        self.position = start;
        self.lo = start.saturating_sub(self.cfg.window_back);
        self.prob.fill(0.0);
        let k = self.tempi.len();
        let row = (start - self.lo) * k;
        let sigma = self.cfg.tempo_prior_octaves;
        let prior: Vec<f64> = self
            .tempi
            .iter()
            .map(|r| (-0.5 * (r.log2() / sigma).powi(2)).exp())
            .collect();
        let total: f64 = prior.iter().sum();
        self.prob[row..row + k]
            .iter_mut()
            .zip(prior)
            .for_each(|(p, q)| *p = q / total);
    }

    pub fn position(&self) -> usize {
        self.position
    }

    /// The local cost it follows with.
    pub fn cost(&self) -> Arc<dyn LocalCost + Send> {
        self.cost.clone()
    }

    /// Moves every hypothesis `frames` reference frames on (to the end of the piece at most),
    /// keeping the belief's shape: time passed that nobody heard (the input dropped audio), and
    /// the pianist played on at the tempo they had.
    pub fn shift(&mut self, frames: usize) {
        let last = self.reference.len() - 1;
        let d = frames.min(last.saturating_sub(self.position));
        if d == 0 {
            return;
        }
        let k_n = self.tempi.len();
        let new_lo = self.lo + d;
        self.next.fill(0.0);
        for j in 0..self.width {
            // Hypotheses past the end wait at the last frame, as `predict` keeps them.
            let to = ((self.lo + j + d).min(last) - new_lo) * k_n;
            for k in 0..k_n {
                self.next[to + k] += self.prob[j * k_n + k];
            }
        }
        std::mem::swap(&mut self.prob, &mut self.next);
        self.lo = new_lo;
        self.position += d;
    }

    pub fn step(&mut self, live: &[f32]) -> Estimate {
        self.predict();
        self.update(live);
        self.estimate()
    }

    fn predict(&mut self) {
        let k_n = self.tempi.len();
        let last = self.reference.len() - 1;
        self.next.fill(0.0);
        let (c, pause) = (self.cfg.tempo_change, self.cfg.pause);
        for j in 0..self.width {
            let pos = self.lo + j;
            if pos > last {
                break;
            }
            for k in 0..k_n {
                let m = self.prob[j * k_n + k];
                // Negligible hypotheses are not worth carrying forward (this keeps the cost per
                // frame proportional to how spread the belief is).
                if m < 1e-12 {
                    continue;
                }
                // Tempo drift to the neighbours (reflecting at the ends of the range).
                let down = if k > 0 { k - 1 } else { k };
                let up = if k + 1 < k_n { k + 1 } else { k };
                for (k2, p_k) in [(k, 1.0 - c), (down, c / 2.0), (up, c / 2.0)] {
                    let mass = m * p_k;
                    let r = self.tempi[k2];
                    let whole = r.floor() as usize;
                    let frac = r - r.floor();
                    self.add_next(pos, k2, mass * pause);
                    self.add_next(pos + whole, k2, mass * (1.0 - pause) * (1.0 - frac));
                    self.add_next(pos + whole + 1, k2, mass * (1.0 - pause) * frac);
                }
            }
        }
        std::mem::swap(&mut self.prob, &mut self.next);
    }

    /// Adds mass at reference frame `pos` (clamped to the last frame of the piece and the band).
    fn add_next(&mut self, pos: usize, k: usize, mass: f64) {
        let pos = pos
            .min(self.reference.len() - 1)
            .min(self.lo + self.width - 1);
        self.next[(pos - self.lo) * self.tempi.len() + k] += mass;
    }

    fn update(&mut self, live: &[f32]) {
        let k_n = self.tempi.len();
        let hi = (self.lo + self.width).min(self.reference.len());
        let mut costs = std::mem::take(&mut self.costs);
        costs.clear();
        costs.extend(
            (self.lo..hi).map(|j| f64::from(self.cost.distance(live, self.reference.frame(j)))),
        );
        let best = costs.iter().copied().fold(f64::INFINITY, f64::min);
        let mut total = 0.0;
        for (j, d) in costs.iter().enumerate() {
            let like = (-(d - best) / self.cfg.temperature).exp();
            for v in &mut self.prob[j * k_n..(j + 1) * k_n] {
                *v *= like;
                total += *v;
            }
        }
        let scale = 1.0 / total.max(1e-300);
        for v in &mut self.prob[..costs.len() * k_n] {
            *v *= scale;
        }
        for v in &mut self.prob[costs.len() * k_n..] {
            *v = 0.0;
        }
        self.costs = costs;
    }

    fn estimate(&mut self) -> Estimate {
        let k_n = self.tempi.len();
        let mut tempo = 0.0;
        for j in 0..self.width {
            let row = &self.prob[j * k_n..(j + 1) * k_n];
            self.marginal[j] = row.iter().sum();
            tempo += row.iter().zip(&self.tempi).map(|(p, r)| p * r).sum::<f64>();
        }
        let total: f64 = self.marginal.iter().sum();
        let mut acc = 0.0;
        let median = self.marginal.iter().position(|m| {
            acc += m;
            acc >= 0.5 * total
        });
        let j = median.unwrap_or(0);
        let r = self.cfg.confidence_radius;
        let near: f64 = self.marginal[j.saturating_sub(r)..(j + r + 1).min(self.width)]
            .iter()
            .sum();
        self.position = self.lo + j;
        self.recenter();
        let quality = self.match_quality(j);
        Estimate {
            position: self.position,
            tempo: tempo / total.max(1e-300),
            confidence: (near / total.max(1e-300) * quality) as f32,
        }
    }

    /// [`match_quality`] of the live frame at band index `j`; silence against silence counts as a match.
    fn match_quality(&self, j: usize) -> f64 {
        let mean = self.costs.iter().sum::<f64>() / self.costs.len().max(1) as f64;
        self.costs
            .get(j)
            .and_then(|&d| match_quality(d, mean))
            .unwrap_or(1.0)
    }

    /// Moves the band so that the reported position keeps `window_back` frames behind it.
    fn recenter(&mut self) {
        let new_lo = self.position.saturating_sub(self.cfg.window_back);
        if new_lo == self.lo {
            return;
        }
        let k_n = self.tempi.len();
        self.next.fill(0.0);
        for j in 0..self.width {
            let pos = self.lo + j;
            if pos >= new_lo && pos < new_lo + self.width {
                let (from, to) = (j * k_n, (pos - new_lo) * k_n);
                self.next[to..to + k_n].copy_from_slice(&self.prob[from..from + k_n]);
            }
        }
        std::mem::swap(&mut self.prob, &mut self.next);
        self.lo = new_lo;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::cost::EuclideanCost;
    use crate::align::test_support::{at, features, trajectory};

    #[test]
    fn follows_tempo_changes_and_a_pause() {
        let traj = trajectory(3000);
        // These features are farther apart than chroma frames: a matching temperature.
        let cfg = FilterConfig {
            temperature: 0.3,
            ..FilterConfig::default()
        };
        let reference = features(traj.iter().map(|v| v.to_vec()));
        let mut f = PositionTempoFilter::new(Arc::new(reference), Arc::new(EuclideanCost), cfg);
        let mut r = 0.0f32;
        let (mut worst, mut worst_steady) = (0f32, 0f32);
        for t in 0..4000 {
            // 0.7x, then a 40-frame pause, then 1.3x the score tempo
            r += match t {
                0..=999 => 0.7,
                1000..=1039 => 0.0,
                _ => 1.3,
            };
            if r >= 2990.0 {
                break;
            }
            let e = f.step(&at(&traj, r));
            let err = (e.position as f32 - r).abs();
            if t > 60 {
                worst = worst.max(err);
            }
            if t > 60 && !(1000..1100).contains(&t) {
                worst_steady = worst_steady.max(err);
            }
        }
        // The tempo model adapts smoothly: a sudden change after the pause costs a few frames.
        assert!(
            worst_steady <= 3.0,
            "worst error at steady tempo {worst_steady} frames"
        );
        assert!(worst <= 8.0, "worst error {worst} frames");
    }

    /// 500 frames go unheard (more than the band reaches ahead): shifted on by them, the filter
    /// is where the performer is when the frames resume; without the shift it is lost.
    #[test]
    fn a_shift_carries_the_belief_over_frames_nobody_heard() {
        let traj = trajectory(3000);
        let cfg = FilterConfig {
            temperature: 0.3,
            ..FilterConfig::default()
        };
        let reference = Arc::new(features(traj.iter().map(|v| v.to_vec())));
        let worst_after_gap = |shift: bool| {
            let mut f = PositionTempoFilter::new(reference.clone(), Arc::new(EuclideanCost), cfg);
            let mut worst = 0f32;
            for t in 0..1200 {
                if t == 500 && shift {
                    f.shift(500);
                }
                let r = if t < 500 { t } else { t + 500 } as f32;
                let e = f.step(&at(&traj, r));
                if t >= 520 {
                    worst = worst.max((e.position as f32 - r).abs());
                }
            }
            worst
        };
        assert!(worst_after_gap(true) <= 3.0, "{}", worst_after_gap(true));
        assert!(worst_after_gap(false) > 100.0, "{}", worst_after_gap(false));
    }

    #[test]
    fn a_shift_stops_at_the_end_of_the_piece() {
        let traj = trajectory(400);
        let reference = Arc::new(features(traj.iter().map(|v| v.to_vec())));
        let mut f =
            PositionTempoFilter::new(reference, Arc::new(EuclideanCost), FilterConfig::DEFAULT);
        f.reset(350);
        f.shift(1000);
        assert_eq!(f.position(), 399);
        let total: f64 = f.prob.iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "no belief lost: {total}");
    }
}
