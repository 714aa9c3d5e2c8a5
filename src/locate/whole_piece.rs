//! The belief over the whole piece: a forward filter (a hidden Markov model) over every place in
//! the reference at once, at a coarse resolution, whose paths may jump. It is Segno's
//! [`Localiser`].
//!
//! The follower's position–tempo filter ([`crate::align::tempo_filter`]) is precise but looks only
//! at a band around one position. This filter keeps a probability for every column of the
//! reference (a few reference frames averaged) and every tempo from half to twice the score's, so
//! it holds every hypothesis at once: where the follower is, the other pass of a repeat, the place
//! a pianist who stopped went back to. Each update (one column's worth of live frames):
//!
//! * **predict**: a path moves on at its tempo, waits now and then (a fermata, a breath) and
//!   drifts slowly to a neighbouring tempo. With a small probability per update it jumps anywhere
//!   (a skip played straight on); at a played measure whose written successor is played elsewhere
//!   (a repeat sign, a volta, D.C.) part of it goes on to that written successor (a repeat not
//!   taken); and when the pianist starts again after a stop (the sound died away), half the
//!   belief jumps anywhere;
//! * **update**: multiply by `exp(−d / τ)` of the live column's local cost at each column, the
//!   follower's own cost.
//!
//! Evidence accumulates along paths, so a pianist is found again as soon as the music since the
//! jump tells the places apart, with no window to fill; a passage that merely resembles the one
//! being played pulls only the little belief that jumped there, since the path followed has the
//! same evidence and no jump to pay for.
//!
//! The cost is fixed: at most [`WholePieceConfig::max_columns`] columns (a long piece gets wider
//! columns) and one update per column of live frames. Nothing allocates after construction.

use std::sync::Arc;

use super::{Belief, Heard, Localiser};
use crate::align::cost::LocalCost;
use crate::features::{Features, HOP_S};
use crate::score::Score;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WholePieceConfig {
    /// Most columns held: the cost of an update.
    pub max_columns: usize,
    /// Fewest reference frames per column.
    pub min_frames_per_column: usize,
    /// Likelihood temperature per update, in units of the local cost.
    pub temperature: f64,
    /// Probability per update that the position waits (a fermata, a breath) …
    pub pause: f64,
    /// … and that the tempo moves to a neighbouring one.
    pub tempo_change: f64,
    /// Probability per update of a jump to anywhere (a skip with no stop before it).
    pub jump: f64,
    /// Seconds without an attack …
    pub stop_s: f64,
    /// … and the fall of the loudest semitone band since the last attack, in its log10 units
    /// (2: 20 dB), that make a stop …
    pub stop_drop: f32,
    /// … and the share of the belief that jumps, to anywhere, when the pianist starts again after
    /// one.
    pub jump_after_stop: f64,
    /// Probability that a repeat (or another jump of the played order) is not taken.
    pub repeat_not_taken: f64,
}

impl WholePieceConfig {
    pub const DEFAULT: Self = Self {
        max_columns: 4000,
        min_frames_per_column: 2,
        temperature: 1.0,
        pause: 0.1,
        tempo_change: 0.02,
        jump: 1e-4,
        stop_s: 0.3,
        stop_drop: 2.0,
        jump_after_stop: 0.5,
        repeat_not_taken: 0.2,
    };
}

impl Default for WholePieceConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Tempi relative to the score, in columns per update (a column holds as many reference frames
/// as an update live frames): half to twice the score's, in half-octave steps.
const TEMPI: [f64; 5] = [0.5, 0.707, 1.0, 1.414, 2.0];

/// Adds `each` to every value.
fn spread(values: &mut [f64], each: f64) {
    values.iter_mut().for_each(|p| *p += each);
}

/// The loudest band of a frame's compressed semitone spectrogram: `log10(1 + 10⁴ · power)`, so
/// a unit is 10 dB above the knee.
pub fn loudness(semitones: &[f32]) -> f32 {
    semitones.iter().copied().fold(0.0, f32::max)
}

pub struct WholePiece {
    cfg: WholePieceConfig,
    cost: Arc<dyn LocalCost + Send>,
    /// The reference, `frames_per_column` frames averaged per column.
    columns: Features,
    frames_per_column: usize,
    /// The written order's successor of a column that ends a played measure whose played
    /// successor is another written measure: `(from, to)`, sorted by `from`.
    skips: Vec<(usize, usize)>,
    /// `prob[column * TEMPI.len() + k]`: the pianist at that column, playing at tempo `TEMPI[k]`.
    prob: Vec<f64>,
    next: Vec<f64>,
    /// The local cost of the live column at each column.
    costs: Vec<f64>,
    /// Running sums of `prob`, for the mass within a radius.
    cumulative: Vec<f64>,
    /// The live frames of the column being gathered, summed.
    live: Vec<f32>,
    gathered: usize,
    /// Live frames since the last attack, the loudest frame since, whether the pianist has
    /// stopped since, and whether the next update follows a stop.
    since_attack: usize,
    attack_loudness: f32,
    stopped: bool,
    after_stop: bool,
}

impl WholePiece {
    pub fn new(
        reference: &Features,
        score: &Score,
        cost: Arc<dyn LocalCost + Send>,
        cfg: WholePieceConfig,
    ) -> Self {
        let frames_per_column = reference
            .len()
            .div_ceil(cfg.max_columns.max(1))
            .max(cfg.min_frames_per_column.max(1));
        let columns = reference.downsample(frames_per_column);
        let n = columns.len().max(1);
        let skips = repeat_skips(score, frames_per_column, n);
        let mut f = Self {
            cfg,
            cost,
            frames_per_column,
            skips,
            prob: vec![0.0; n * TEMPI.len()],
            next: vec![0.0; n * TEMPI.len()],
            costs: vec![0.0; n],
            cumulative: vec![0.0; n + 1],
            live: vec![0.0; reference.dim],
            gathered: 0,
            since_attack: 0,
            attack_loudness: 0.0,
            stopped: false,
            after_stop: false,
            columns,
        };
        f.reset(0);
        f
    }

    /// Reference frames per column.
    pub fn frames_per_column(&self) -> usize {
        self.frames_per_column
    }

    fn column(&self, frame: usize) -> usize {
        (frame / self.frames_per_column).min(self.costs.len() - 1)
    }

    fn predict(&mut self) {
        let (n, k_n) = (self.columns.len().max(1), TEMPI.len());
        let (pause, drift) = (self.cfg.pause, self.cfg.tempo_change);
        self.next.fill(0.0);
        for j in 0..n {
            for k in 0..k_n {
                let m = self.prob[j * k_n + k];
                if m < 1e-15 {
                    continue;
                }
                let down = k.saturating_sub(1);
                let up = (k + 1).min(k_n - 1);
                for (k2, p_k) in [(k, 1.0 - drift), (down, drift / 2.0), (up, drift / 2.0)] {
                    let mass = m * p_k;
                    let r = TEMPI[k2];
                    let (whole, frac) = (r.floor() as usize, r - r.floor());
                    let mut add = |to: usize, p: f64| self.next[to.min(n - 1) * k_n + k2] += p;
                    add(j, mass * pause);
                    add(j + whole, mass * (1.0 - pause) * (1.0 - frac));
                    add(j + whole + 1, mass * (1.0 - pause) * frac);
                }
            }
        }
        // A played measure that ends where the written order goes on elsewhere: the belief that
        // would cross the end may go to the written successor instead.
        for &(from, to) in &self.skips {
            for k in 0..k_n {
                let moved = self.cfg.repeat_not_taken * self.next[(from + 1).min(n - 1) * k_n + k];
                self.next[(from + 1).min(n - 1) * k_n + k] -= moved;
                self.next[to * k_n + k] += moved;
            }
        }
        let jump = if std::mem::take(&mut self.after_stop) {
            self.cfg.jump_after_stop
        } else {
            self.cfg.jump
        };
        let total: f64 = self.next.iter().sum();
        let each = jump * total / self.next.len() as f64;
        self.next
            .iter_mut()
            .for_each(|p| *p = *p * (1.0 - jump) + each);
        std::mem::swap(&mut self.prob, &mut self.next);
    }

    fn update(&mut self) {
        let k_n = TEMPI.len();
        let mut best = f64::INFINITY;
        for (j, d) in self.costs.iter_mut().enumerate() {
            *d = f64::from(self.cost.distance(&self.live, self.columns.frame(j)));
            best = best.min(*d);
        }
        let tau = self.cfg.temperature;
        let mut total = 0.0;
        for (row, d) in self.prob.chunks_exact_mut(k_n).zip(&self.costs) {
            let like = (-(d - best) / tau).exp();
            for p in row {
                *p *= like;
                total += *p;
            }
        }
        if total > 0.0 && total.is_finite() {
            self.prob.iter_mut().for_each(|p| *p /= total);
        } else {
            let n = self.prob.len();
            self.prob.fill(1.0 / n as f64);
        }
    }

    fn belief(&mut self, held: usize, radius: usize) -> Belief {
        let n = self.costs.len();
        self.cumulative[0] = 0.0;
        for (j, row) in self.prob.chunks_exact(TEMPI.len()).enumerate() {
            self.cumulative[j + 1] = self.cumulative[j] + row.iter().sum::<f64>();
        }
        let r = radius / self.frames_per_column;
        let near =
            |j: usize| self.cumulative[(j + r + 1).min(n)] - self.cumulative[j.saturating_sub(r)];
        let h = self.column(held);
        let (there, there_mass) = (0..n)
            .filter(|&j| j.abs_diff(h) > 2 * r)
            .map(|j| (j, near(j)))
            .fold((h, 0.0), |b, c| if c.1 > b.1 { c } else { b });
        // Within that stretch, the most likely column; columns are averaged over their frames,
        // which end a column after they begin, so the pianist is at its end.
        let column_mass = |j: usize| self.cumulative[j + 1] - self.cumulative[j];
        let there = (there.saturating_sub(r)..(there + r + 1).min(n))
            .max_by(|&a, &b| column_mass(a).total_cmp(&column_mass(b)))
            .unwrap_or(there);
        let frame = |j: usize| (j + 1) * self.frames_per_column - 1;
        Belief {
            here: near(h),
            there: frame(there),
            there_mass,
        }
    }
}

impl Localiser for WholePiece {
    /// Takes a live frame (`attack`: it holds a played note; `held`: the reference frame the
    /// follower reports). After each column of live frames, returns the belief about the place
    /// held and the best place more than `radius` frames from it.
    fn push(&mut self, heard: Heard, held: usize, radius: usize) -> Option<Belief> {
        let Heard {
            live,
            attack,
            loudness,
        } = heard;
        if attack {
            self.after_stop |= self.stopped;
            self.stopped = false;
            self.since_attack = 0;
            self.attack_loudness = loudness;
        } else {
            self.since_attack += 1;
            // The sound has died away since the last note: the pianist has stopped, whatever the
            // score does (a rest in it is a stop the belief will not be surprised by).
            self.attack_loudness = self.attack_loudness.max(loudness);
            self.stopped |= self.since_attack as f64 * HOP_S >= self.cfg.stop_s
                && (loudness <= self.attack_loudness - self.cfg.stop_drop);
        }
        let dim = self.live.len();
        self.live
            .iter_mut()
            .zip(&live[..dim])
            .for_each(|(a, x)| *a += x);
        self.gathered += 1;
        if self.gathered < self.frames_per_column {
            return None;
        }
        let scale = 1.0 / self.gathered as f32;
        self.live.iter_mut().for_each(|x| *x *= scale);
        // A pianist who has stopped is nowhere new: the belief waits for the next note.
        if !self.stopped {
            self.predict();
            self.update();
        }
        self.live.fill(0.0);
        self.gathered = 0;
        Some(self.belief(held, radius))
    }

    /// A new performance expected to start at reference frame `start`: half the belief there,
    /// half anywhere (the pianist may start elsewhere).
    fn reset(&mut self, start: usize) {
        let k_n = TEMPI.len();
        let each = 0.5 / self.prob.len() as f64;
        self.prob.fill(each);
        let start = self.column(start);
        spread(
            &mut self.prob[start * k_n..(start + 1) * k_n],
            0.5 / k_n as f64,
        );
        self.live.fill(0.0);
        self.gathered = 0;
        self.since_attack = 0;
        self.stopped = false;
        self.after_stop = false;
    }
}

/// Where a played measure ends and the written order continues elsewhere (a repeat sign, a volta,
/// D.C.): from its last column to the column where the written successor is played (every pass
/// of it).
fn repeat_skips(score: &Score, frames_per_column: usize, n: usize) -> Vec<(usize, usize)> {
    let column = |s: f64| ((s / HOP_S) as usize / frames_per_column).min(n - 1);
    let measures = &score.measures;
    let mut skips = Vec::new();
    for (k, m) in measures.iter().enumerate() {
        let written_next = m.written_index + 1;
        if measures
            .get(k + 1)
            .is_none_or(|next| next.written_index == written_next)
        {
            continue;
        }
        let end = score.tempo.seconds_at(m.start_beat + m.length_beats);
        let from = column(end).saturating_sub(1);
        for other in measures.iter().filter(|o| o.written_index == written_next) {
            let to = column(score.tempo.seconds_at(other.start_beat));
            if to != from + 1 {
                skips.push((from, to));
            }
        }
    }
    skips.sort_unstable();
    skips
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::cost::EuclideanCost;
    use crate::align::test_support::{at, features, trajectory};
    use crate::score::{Measure, TempoMap};

    fn score(measures: Vec<Measure>) -> Score {
        Score {
            notes: Vec::new(),
            tempo: TempoMap::constant(60.0),
            measures,
        }
    }

    /// Plays `traj` from `from` at `speed` reference frames per live frame for `frames` live
    /// frames, an attack every tenth, while the follower holds `held`; returns every belief.
    fn play(
        filter: &mut WholePiece,
        traj: &[[f32; 8]],
        (from, speed, frames): (f32, f32, usize),
        held: impl Fn(usize) -> usize,
    ) -> Vec<(usize, Belief)> {
        (0..frames)
            .filter_map(|t| {
                let live = at(traj, from + speed * t as f32);
                let heard = Heard {
                    live: &live,
                    attack: t % 10 == 0,
                    loudness: 3.0,
                };
                filter.push(heard, held(t), 43).map(|b| (t, b))
            })
            .collect()
    }

    /// Seconds until a pianist who plays from reference frame 3000, stops where the follower
    /// holds them, and starts again from frame 1500, is found there (`None`: not in 4.6 s);
    /// before the stop, the belief stays with the place followed.
    fn restart_found_after(cfg: WholePieceConfig) -> Option<f64> {
        let traj = trajectory(6000);
        let reference = features(traj.iter().map(|v| v.to_vec()));
        let mut filter =
            WholePiece::new(&reference, &score(Vec::new()), Arc::new(EuclideanCost), cfg);
        filter.reset(3000);
        let before = play(&mut filter, &traj, (3000.0, 0.8, 400), |t| {
            3000 + (0.8 * t as f32) as usize
        });
        let least = before
            .iter()
            .skip(20)
            .map(|(_, b)| b.here)
            .fold(1.0, f64::min);
        assert!(least > 0.9, "the place followed: {least}");
        let stopped_at = 3320;
        let silence = vec![0.0; 8];
        for _ in 0..65 {
            let heard = Heard {
                live: &silence,
                attack: false,
                loudness: 0.0,
            };
            filter.push(heard, stopped_at, 43);
        }
        // The follower, not knowing better, holds where the pianist stopped.
        let after = play(&mut filter, &traj, (1500.0, 0.8, 200), |_| stopped_at);
        after
            .iter()
            .find(|(t, b)| {
                let truth = 1500.0 + 0.8 * *t as f32;
                b.there_mass >= 0.5 && (b.there as f32 - truth).abs() <= 10.0
            })
            .map(|(t, _)| *t as f64 * HOP_S)
    }

    /// The restart is found within a second and a half, and sooner for the stop before it than a
    /// jump with no stop would be.
    #[test]
    fn a_restart_after_a_stop_is_found_within_a_second_and_a_half() {
        let found = restart_found_after(WholePieceConfig::DEFAULT);
        assert!(found.is_some_and(|s| s <= 1.5), "found after {found:?} s");
        let no_stop_rule = WholePieceConfig {
            jump_after_stop: WholePieceConfig::DEFAULT.jump,
            ..WholePieceConfig::DEFAULT
        };
        let without = restart_found_after(no_stop_rule);
        eprintln!("found after {found:?} s; without the stop rule {without:?} s");
        assert!(without.is_none_or(|w| w > found.unwrap()), "{without:?}");
    }

    /// Where the played order repeats measures 1–2, the end of the first pass may go on to the
    /// written measure 3 (played last): a repeat not taken.
    #[test]
    fn a_repeat_may_be_skipped_to_the_written_successor() {
        let measure = |written_index: usize, start_beat: f64| Measure {
            number: (written_index + 1).to_string(),
            written_index,
            start_beat,
            length_beats: 4.0,
            time_signature: (4, 4),
        };
        // Played: 1 2 1 2 3, four seconds each at 60 qpm.
        let s = score(
            [0, 1, 0, 1, 2]
                .iter()
                .enumerate()
                .map(|(k, &w)| measure(w, 4.0 * k as f64))
                .collect(),
        );
        let frames_per_column = 2;
        let n = (20.0 / HOP_S) as usize / frames_per_column;
        let column = |s: f64| (s / HOP_S) as usize / frames_per_column;
        assert_eq!(
            repeat_skips(&s, frames_per_column, n),
            vec![(column(8.0) - 1, column(16.0))]
        );
    }
}
