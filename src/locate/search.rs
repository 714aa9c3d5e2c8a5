//! The classical localiser: subsequence DTW of the last seconds of live frames against the whole
//! reference, with the follower's own local cost.
//!
//! Every other frame of both is used (46 ms steps), with steps (1,1), (1,2) and (2,1), the last
//! weighted twice, so every match path counts each live frame once and its cost divided by the
//! number of live frames is a mean cost per frame; local tempi between half and twice the
//! score's are matched. A look over the reference is spread over the following live frames, a
//! bounded number of reference columns per frame, so the cost per frame is fixed whatever the
//! length of the piece (a long piece is looked over less often). Nothing allocates after
//! construction.

use std::sync::Arc;

use super::{Candidate, Localiser, Located};
use crate::align::cost::LocalCost;
use crate::features::{Features, HOP_S};

/// Candidates are at least this far apart, in seconds of the reference.
pub const SEPARATION_S: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchConfig {
    /// Seconds of live audio matched.
    pub window_s: f64,
    /// Frames of live audio and reference per step of the match.
    pub stride: usize,
    /// Live frames a look over a short piece takes …
    pub look_frames: usize,
    /// … and the most reference columns matched per live frame (a long piece takes more frames).
    pub max_columns_per_frame: usize,
    /// Candidates proposed per look.
    pub candidates: usize,
}

impl SearchConfig {
    pub const DEFAULT: Self = Self {
        window_s: 2.5,
        stride: 4,
        look_frames: 11,
        max_columns_per_frame: 400,
        candidates: 5,
    };
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

pub struct SubsequenceSearch {
    reference: Arc<Features>,
    cost: Arc<dyn LocalCost + Send>,
    cfg: SearchConfig,
    dim: usize,
    /// Live frames matched (every `stride`-th), as a ring of `rows` frames.
    rows: usize,
    ring: Vec<f32>,
    head: usize,
    filled: usize,
    frames: usize,
    /// The live frames of the running look, oldest first.
    query: Vec<f32>,
    /// Reference columns (every `stride`-th frame) and the next one to match.
    columns: usize,
    column: usize,
    columns_per_frame: usize,
    running: bool,
    /// Live frames since the running look's last live frame.
    frames_ago: usize,
    /// Accumulated costs of the last three columns, one per query row.
    d2: Vec<f64>,
    d1: Vec<f64>,
    d0: Vec<f64>,
    /// Mean cost of the best match ending at each column.
    ends: Vec<f64>,
    candidates: Vec<Candidate>,
}

impl SubsequenceSearch {
    pub fn new(
        reference: Arc<Features>,
        cost: Arc<dyn LocalCost + Send>,
        cfg: SearchConfig,
    ) -> Self {
        let dim = reference.dim;
        let rows = ((cfg.window_s / HOP_S) as usize / cfg.stride).max(2);
        let columns = reference.len().div_ceil(cfg.stride).max(1);
        let columns_per_frame = columns
            .div_ceil(cfg.look_frames.max(1))
            .min(cfg.max_columns_per_frame.max(1));
        Self {
            reference,
            cost,
            cfg,
            dim,
            rows,
            ring: vec![0.0; rows * dim],
            head: 0,
            filled: 0,
            frames: 0,
            query: vec![0.0; rows * dim],
            columns,
            column: 0,
            columns_per_frame,
            running: false,
            frames_ago: 0,
            d2: vec![f64::INFINITY; rows],
            d1: vec![f64::INFINITY; rows],
            d0: vec![f64::INFINITY; rows],
            ends: vec![f64::INFINITY; columns],
            candidates: Vec::with_capacity(cfg.candidates),
        }
    }

    fn start_look(&mut self) {
        for r in 0..self.rows {
            let from = (self.head + r) % self.rows * self.dim;
            self.query[r * self.dim..(r + 1) * self.dim]
                .copy_from_slice(&self.ring[from..from + self.dim]);
        }
        self.d2.fill(f64::INFINITY);
        self.d1.fill(f64::INFINITY);
        self.column = 0;
        self.frames_ago = 0;
        self.running = true;
    }

    /// Matches reference column `j` against every query row.
    fn match_column(&mut self, j: usize) {
        let reference = self.reference.frame(j * self.cfg.stride);
        for i in 0..self.rows {
            let live = &self.query[i * self.dim..(i + 1) * self.dim];
            let c = f64::from(self.cost.distance(live, reference));
            self.d0[i] = if i == 0 {
                c // a match may start anywhere
            } else {
                let diag = self.d1[i - 1];
                let slow = self.d2[i - 1];
                let fast = if i >= 2 {
                    self.d1[i - 2] + c
                } else {
                    f64::INFINITY
                };
                diag.min(slow).min(fast) + c
            };
        }
        self.ends[j] = self.d0[self.rows - 1] / self.rows as f64;
        std::mem::swap(&mut self.d2, &mut self.d1);
        std::mem::swap(&mut self.d1, &mut self.d0);
    }

    /// The best ends, at least [`SEPARATION_S`] apart.
    fn pick_candidates(&mut self) {
        let radius = (SEPARATION_S / HOP_S) as usize / self.cfg.stride;
        self.candidates.clear();
        while self.candidates.len() < self.cfg.candidates {
            let taken = |j: usize, cs: &[Candidate]| {
                cs.iter()
                    .any(|c| (c.position / self.cfg.stride).abs_diff(j) <= radius)
            };
            let best = (0..self.columns)
                .filter(|&j| self.ends[j].is_finite() && !taken(j, &self.candidates))
                .min_by(|&a, &b| self.ends[a].total_cmp(&self.ends[b]));
            let Some(j) = best else { break };
            self.candidates.push(Candidate {
                position: (j * self.cfg.stride).min(self.reference.len() - 1),
                cost: self.ends[j],
            });
        }
    }
}

impl Localiser for SubsequenceSearch {
    fn push(&mut self, live: &[f32]) -> Option<Located<'_>> {
        self.frames += 1;
        if self.frames.is_multiple_of(self.cfg.stride) {
            let at = self.head * self.dim;
            self.ring[at..at + self.dim].copy_from_slice(&live[..self.dim]);
            self.head = (self.head + 1) % self.rows;
            self.filled = (self.filled + 1).min(self.rows);
        }
        if !self.running {
            if self.filled < self.rows {
                return None;
            }
            self.start_look();
        }
        self.frames_ago += 1;
        let end = (self.column + self.columns_per_frame).min(self.columns);
        for j in self.column..end {
            self.match_column(j);
        }
        self.column = end;
        if self.column < self.columns {
            return None;
        }
        self.running = false;
        self.pick_candidates();
        Some(Located {
            candidates: &self.candidates,
            frames_ago: self.frames_ago,
            ends: &self.ends,
            stride: self.cfg.stride,
        })
    }

    fn reset(&mut self) {
        self.filled = 0;
        self.head = 0;
        self.frames = 0;
        self.running = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::cost::EuclideanCost;
    use crate::align::test_support::{at, features, trajectory};

    /// The trajectory played from `from` at `speed` reference frames per live frame finds its
    /// place in the whole reference, and the wrong places cost more.
    #[test]
    fn a_passage_is_found_anywhere_in_the_reference() {
        let traj = trajectory(6000);
        let reference = Arc::new(features(traj.iter().map(|v| v.to_vec())));
        let cfg = SearchConfig {
            window_s: 3.0,
            ..SearchConfig::DEFAULT
        };
        for (from, speed) in [(4200.0f32, 1.0f32), (900.0, 0.7), (3000.0, 1.4)] {
            let mut search =
                SubsequenceSearch::new(reference.clone(), Arc::new(EuclideanCost), cfg);
            let mut found = None;
            for t in 0..400 {
                let r = from + speed * t as f32;
                if let Some(l) = search.push(&at(&traj, r)) {
                    let c = l.candidates[0];
                    let expected = from + speed * (t + 1 - l.frames_ago) as f32;
                    found = Some((c.position as f32 - expected).abs());
                    assert!(l.candidates[1].cost > c.cost);
                    assert!(l.cost_near(c.position, 4) <= c.cost);
                }
            }
            let off = found.expect("a look finished");
            // Within one matched step (the stride) and the interpolation of the trajectory.
            let step = cfg.stride as f32 + 1.0;
            assert!(off <= step, "from {from} at {speed}×: {off} frames off");
        }
    }
}
