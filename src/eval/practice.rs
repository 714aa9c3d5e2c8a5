//! Practice performances, for the benchmark and the tests: a real performance cut and re-joined as
//! a pianist practising plays it. The pianist stops and starts again a few seconds back
//! ([`Scenario::Restart`]), skips ahead ([`Scenario::Skip`]), starts in the middle of the piece
//! ([`Scenario::MidPiece`]) or does not take a repeat ([`Scenario::RepeatNotTaken`], where the
//! score has one: the benchmark's MIDI scores have their repeats written out). Every note keeps
//! the human timing it was played with; only the order of the passages changes, so the truth
//! (performance time → score time) stays exact, piece by piece.
//!
//! The measures are those of the practice-proof following issue: the share of 100 ms ticks at
//! which the reported score time is within 0.5 s of the truth (the first 3 s after each jump are
//! left out), for every jump the time until the report is within 0.5 s and stays there for 2 s,
//! and "false confidence", the share of ticks reported `following` more than 2 s off.

use std::fmt;
use std::str::FromStr;

use super::metrics::{truth_perf_at, truth_score_at};
use crate::position::{FollowState, Report};
use crate::rng::Rng;
use crate::score::midi::ChannelEvent;
use crate::score::Branch;

/// Seconds the pianist stops before restarting.
const RESTART_PAUSE_S: f64 = 1.5;
/// Seconds between the last note before a skip and the first after it (turning a page).
const SKIP_PAUSE_S: f64 = 0.5;
/// Silence before a mid-piece start.
const LEAD_IN_S: f64 = 1.0;
/// Spacing of the ticks the tracking is measured at.
pub const TICK_S: f64 = 0.1;
/// A report this close to the truth is on the pianist.
pub const ON_TARGET_S: f64 = 0.5;
/// Ticks this soon after a jump are left out of the tracking share (the time to find the pianist
/// is measured on its own).
pub const SETTLE_S: f64 = 3.0;
/// A recovered report stays on target this long.
pub const STAY_S: f64 = 2.0;
/// `following` this far off is false confidence.
pub const FALSE_CONFIDENCE_S: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Stop, then start again 4–20 s of performance earlier.
    Restart,
    /// Continue 8–30 s of performance later.
    Skip,
    /// Start at a point 20–60 % into the piece.
    MidPiece,
    /// At the end of a repeat's first pass, go on with what follows it in writing; or, at the
    /// first ending, go to the second at once (one [`Branch`] the performance plays, drawn).
    RepeatNotTaken,
}

impl Scenario {
    pub const ALL: [Self; 4] = [
        Self::Restart,
        Self::Skip,
        Self::MidPiece,
        Self::RepeatNotTaken,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Restart => "restart",
            Self::Skip => "skip",
            Self::MidPiece => "mid-piece",
            Self::RepeatNotTaken => "repeat-not-taken",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                format!("unknown scenario '{s}': use restart, skip, mid-piece or repeat-not-taken")
            })
    }
}

/// One passage of the original performance, played from `start_s` in the practice performance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Passage {
    pub start_s: f64,
    /// The passage in the original performance's time.
    pub from_s: f64,
    pub to_s: f64,
}

impl Passage {
    fn shift(&self) -> f64 {
        self.start_s - self.from_s
    }

    fn end_s(&self) -> f64 {
        self.to_s + self.shift()
    }
}

/// A practice performance: its MIDI events and where each passage came from.
#[derive(Debug, Clone)]
pub struct Practice {
    pub scenario: Scenario,
    pub events: Vec<ChannelEvent>,
    pub passages: Vec<Passage>,
}

impl Practice {
    /// Cuts `events` (a performance whose `truth` rows are `(score_time, perf_time)`) for
    /// `scenario`, with the cut points drawn from `rng`; `branches` are the score's
    /// ([`crate::score::Score::branches`]). `None` if the performance is too short for it, or
    /// the score has no repeat it plays.
    pub fn build(
        scenario: Scenario,
        events: &[ChannelEvent],
        truth: &[(f64, f64)],
        branches: &[Branch],
        rng: &mut Rng,
    ) -> Option<Self> {
        let (first, last) = (truth.first()?.1, truth.last()?.1);
        let span = last - first;
        let uniform = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.uniform();
        let passages = match scenario {
            Scenario::Restart => {
                let back = uniform(rng, 4.0, 20.0);
                if span < back + 10.0 {
                    return None;
                }
                let stop = uniform(
                    rng,
                    (first + back + 5.0).max(first + 0.4 * span),
                    last - 5.0,
                );
                rejoin(stop, RESTART_PAUSE_S, stop - back)
            }
            Scenario::Skip => {
                let ahead = uniform(rng, 8.0, 30.0);
                if span < ahead + 20.0 {
                    return None;
                }
                let stop = uniform(rng, first + 10.0, last - ahead - 8.0);
                rejoin(stop, SKIP_PAUSE_S, stop + ahead)
            }
            Scenario::MidPiece => {
                if span < 20.0 {
                    return None;
                }
                let from = first + span * uniform(rng, 0.2, 0.6);
                vec![Passage {
                    start_s: LEAD_IN_S,
                    from_s: from,
                    to_s: f64::INFINITY,
                }]
            }
            Scenario::RepeatNotTaken => {
                // Branches the performance plays, with some playing before and after.
                let played: Vec<(f64, f64)> = branches
                    .iter()
                    .map(|b| (truth_perf_at(truth, b.from_s), truth_perf_at(truth, b.to_s)))
                    .filter(|&(stop, resume)| stop >= first + 3.0 && resume <= last - 8.0)
                    .collect();
                if played.is_empty() {
                    return None;
                }
                let pick = ((rng.uniform() * played.len() as f64) as usize).min(played.len() - 1);
                let (stop, resume) = played[pick];
                // On in time, as from the end of the second pass.
                rejoin(stop, 0.0, resume)
            }
        };
        Some(Self {
            scenario,
            events: splice(events, &passages),
            passages,
        })
    }

    /// Practice-performance times at which the pianist jumps: where each passage that does not
    /// continue the one before starts (a mid-piece start is a jump from nowhere).
    pub fn jumps(&self) -> Vec<f64> {
        self.passages
            .iter()
            .filter(|p| p.from_s > 0.0)
            .map(|p| p.start_s)
            .collect()
    }

    /// The score time the pianist is at, `t` seconds into the practice performance (`None`
    /// while they do not play: before, between and after the passages, or outside the truth).
    pub fn score_time_at(&self, truth: &[(f64, f64)], t: f64) -> Option<f64> {
        let (first, last) = (truth.first()?.1, truth.last()?.1);
        let p = self
            .passages
            .iter()
            .find(|p| t >= p.start_s && t < p.end_s())?;
        let original = t - p.shift();
        (first..=last)
            .contains(&original)
            .then(|| truth_score_at(truth, original))
    }
}

/// The performance up to `stop`, then after `pause` seconds on from `resume` to the end.
fn rejoin(stop: f64, pause: f64, resume: f64) -> Vec<Passage> {
    vec![
        Passage {
            start_s: 0.0,
            from_s: 0.0,
            to_s: stop,
        },
        Passage {
            start_s: stop + pause,
            from_s: resume,
            to_s: f64::INFINITY,
        },
    ]
}

/// The events of each passage, moved to where it is played. Notes sounding at the end of a passage
/// are released there and the pedal lifted; a passage starts with the pedal as it was at its
/// start in the original.
fn splice(events: &[ChannelEvent], passages: &[Passage]) -> Vec<ChannelEvent> {
    let mut out = Vec::with_capacity(events.len());
    for p in passages {
        let shift = p.shift();
        let pedal = events
            .iter()
            .rev()
            .find(|e| e.time_s < p.from_s && e.command == 0xB0 && e.data1 == 64);
        if let Some(e) = pedal {
            out.push(ChannelEvent {
                time_s: p.start_s,
                ..*e
            });
        }
        let mut sounding: Vec<(u8, u8)> = Vec::new();
        for e in events
            .iter()
            .filter(|e| e.time_s >= p.from_s && e.time_s < p.to_s)
        {
            match e.command {
                0x90 if e.data2 > 0 => sounding.push((e.channel, e.data1)),
                0x80 | 0x90 => {
                    let Some(k) = sounding.iter().position(|&n| n == (e.channel, e.data1)) else {
                        continue; // the note began before the passage
                    };
                    sounding.remove(k);
                }
                _ => {}
            }
            out.push(ChannelEvent {
                time_s: e.time_s + shift,
                ..*e
            });
        }
        if p.to_s.is_finite() {
            let end = p.to_s + shift;
            for (channel, pitch) in sounding {
                out.push(ChannelEvent {
                    time_s: end,
                    channel,
                    command: 0x80,
                    data1: pitch,
                    data2: 0,
                });
            }
            for channel in 0..16 {
                out.push(ChannelEvent {
                    time_s: end,
                    channel,
                    command: 0xB0,
                    data1: 64,
                    data2: 0,
                });
            }
        }
    }
    out.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    out
}

/// How a follower did on one practice performance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PracticeScore {
    /// Ticks measured, and those within [`ON_TARGET_S`] of the truth.
    pub ticks: usize,
    pub on_target: usize,
    /// Ticks reported `following` (all ticks the pianist plays), and those more than
    /// [`FALSE_CONFIDENCE_S`] off.
    pub following: usize,
    pub falsely_confident: usize,
    pub all_ticks: usize,
    /// Per jump, seconds until the report was on target and stayed there [`STAY_S`] (`None`:
    /// never).
    pub recoveries: Vec<Option<f64>>,
}

impl PracticeScore {
    /// Share of the measured ticks within [`ON_TARGET_S`] of the truth.
    pub fn on_target_share(&self) -> f64 {
        self.on_target as f64 / self.ticks.max(1) as f64
    }

    /// Share of all ticks reported `following` more than [`FALSE_CONFIDENCE_S`] off.
    pub fn false_confidence_share(&self) -> f64 {
        self.falsely_confident as f64 / self.all_ticks.max(1) as f64
    }

    /// Scores `reports` (in time order) against the practice performance's truth.
    pub fn of(practice: &Practice, truth: &[(f64, f64)], reports: &[Report]) -> Self {
        let end = reports.last().map_or(0.0, |r| r.perf_time_s);
        let jumps = practice.jumps();
        // (tick time, error in seconds, reported following) while the pianist plays.
        let mut ticks = Vec::new();
        let mut k = 0;
        for tick in 1..=(end / TICK_S) as usize {
            let t = tick as f64 * TICK_S;
            while k + 1 < reports.len() && reports[k + 1].perf_time_s <= t {
                k += 1;
            }
            if let (Some(truth_s), Some(r)) = (
                practice.score_time_at(truth, t),
                reports.get(k).filter(|r| r.perf_time_s <= t),
            ) {
                ticks.push((t, (r.score_time_s - truth_s).abs(), r.state));
            }
        }
        let settling = |t: f64| jumps.iter().any(|&j| t >= j && t < j + SETTLE_S);
        let mut s = Self {
            all_ticks: ticks.len(),
            ..Self::default()
        };
        for &(t, error, state) in &ticks {
            if state == FollowState::Following {
                s.following += 1;
                s.falsely_confident += usize::from(error > FALSE_CONFIDENCE_S);
            }
            if !settling(t) {
                s.ticks += 1;
                s.on_target += usize::from(error <= ON_TARGET_S);
            }
        }
        s.recoveries = jumps.iter().map(|&j| recovery(&ticks, j)).collect();
        s
    }
}

/// Seconds from `jump` until the first tick from which every tick of the next [`STAY_S`] is on
/// target (with the performance going on at least that long).
fn recovery(ticks: &[(f64, f64, FollowState)], jump: f64) -> Option<f64> {
    let after: Vec<&(f64, f64, FollowState)> = ticks.iter().filter(|t| t.0 >= jump).collect();
    let last = after.last()?.0;
    (0..after.len()).find_map(|i| {
        let start = after[i].0;
        let stays = start + STAY_S <= last + 1e-9
            && after[i..]
                .iter()
                .take_while(|t| t.0 < start + STAY_S)
                .all(|t| t.1 <= ON_TARGET_S);
        stays.then_some(start - jump)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A performance of one note a second for a minute, at half the score's tempo.
    fn steady() -> (Vec<ChannelEvent>, Vec<(f64, f64)>) {
        let mut events = Vec::new();
        let mut truth = Vec::new();
        for k in 0..60 {
            let t = f64::from(k);
            for (time_s, command, data2) in [(t, 0x90, 64), (t + 0.5, 0x80, 0)] {
                events.push(ChannelEvent {
                    time_s,
                    channel: 0,
                    command,
                    data1: 60 + (k % 12) as u8,
                    data2,
                });
            }
            truth.push((t / 2.0, t));
        }
        (events, truth)
    }

    #[test]
    fn a_restart_plays_the_passage_again_with_its_own_truth() {
        let (events, truth) = steady();
        let p = Practice::build(Scenario::Restart, &events, &truth, &[], &mut Rng::new(3)).unwrap();
        let [first, second] = p.passages[..] else {
            panic!("two passages: {:?}", p.passages)
        };
        let back = first.to_s - second.from_s;
        assert!((4.0..=20.0).contains(&back), "{back}");
        assert_eq!(second.start_s, first.to_s + RESTART_PAUSE_S);
        assert_eq!(p.jumps(), vec![second.start_s]);
        // Just after the restart the pianist is `back` seconds of performance earlier.
        let before = p.score_time_at(&truth, first.to_s - 0.01).unwrap();
        let after = p.score_time_at(&truth, second.start_s + 0.01).unwrap();
        assert!(
            (before - after - back / 2.0).abs() < 0.02,
            "{before} {after}"
        );
        assert_eq!(p.score_time_at(&truth, first.to_s + 0.5), None, "the pause");
        // Every note-on is released, and the second passage keeps its timing.
        let ons = p.events.iter().filter(|e| e.command == 0x90).count();
        let offs = p.events.iter().filter(|e| e.command == 0x80).count();
        assert_eq!(ons, offs);
        assert!(p.events.windows(2).all(|w| w[0].time_s <= w[1].time_s));
    }

    #[test]
    fn a_mid_piece_start_and_a_skip_jump_once() {
        let (events, truth) = steady();
        let mid =
            Practice::build(Scenario::MidPiece, &events, &truth, &[], &mut Rng::new(5)).unwrap();
        let from = mid.passages[0].from_s;
        assert!((12.0..=36.0).contains(&from), "{from}");
        assert_eq!(mid.jumps(), vec![LEAD_IN_S]);
        let skip = Practice::build(Scenario::Skip, &events, &truth, &[], &mut Rng::new(5)).unwrap();
        let ahead = skip.passages[1].from_s - skip.passages[0].to_s;
        assert!((8.0..=30.0).contains(&ahead), "{ahead}");
        assert!(Practice::build(
            Scenario::Skip,
            &events[..20],
            &truth[..10],
            &[],
            &mut Rng::new(5)
        )
        .is_none());
    }

    /// The steady performance plays score seconds 0–24 as if unfolded from |: 0–6 :| 6–…: at
    /// score 6 s (performance 12 s) the pianist goes on with score 12 s (performance 24 s).
    #[test]
    fn a_repeat_not_taken_goes_on_with_the_written_successor() {
        let (events, truth) = steady();
        let branches = [Branch {
            from_s: 6.0,
            to_s: 12.0,
        }];
        let mut rng = Rng::new(5);
        let p = Practice::build(
            Scenario::RepeatNotTaken,
            &events,
            &truth,
            &branches,
            &mut rng,
        )
        .unwrap();
        let [first, second] = p.passages[..] else {
            panic!("two passages: {:?}", p.passages)
        };
        assert_eq!(
            (first.to_s, second.start_s, second.from_s),
            (12.0, 12.0, 24.0)
        );
        assert_eq!(p.jumps(), vec![12.0]);
        assert_eq!(
            p.score_time_at(&truth, 12.01).map(|s| s.round()),
            Some(12.0)
        );
        let none = Practice::build(Scenario::RepeatNotTaken, &events, &truth, &[], &mut rng);
        assert!(none.is_none(), "no repeat, no scenario");
    }

    #[test]
    fn the_score_counts_ticks_recoveries_and_false_confidence() {
        let (events, truth) = steady();
        let p = Practice::build(Scenario::Restart, &events, &truth, &[], &mut Rng::new(3)).unwrap();
        let jump = p.jumps()[0];
        // A follower that finds the pianist 1.2 s after the restart, confidently wrong before.
        let end = p.events.last().unwrap().time_s;
        let reports: Vec<Report> = (1..)
            .map(|k| f64::from(k) * 0.023)
            .take_while(|&t| t < end)
            .map(|t| {
                let truth_s = p.score_time_at(&truth, t).unwrap_or(0.0);
                let lost = t >= jump && t < jump + 1.2;
                Report {
                    perf_time_s: t,
                    score_time_s: if lost { truth_s + 5.0 } else { truth_s },
                    score_beat: 0.0,
                    measure_index: 0,
                    beat_in_measure: 1.0,
                    tempo_ratio: 1.0,
                    confidence: 1.0,
                    state: FollowState::Following,
                    relocated: false,
                }
            })
            .collect();
        let s = PracticeScore::of(&p, &truth, &reports);
        let r = s.recoveries[0].unwrap();
        // Ticks every 0.1 s, reports every 23 ms: found between 1.2 s and a tick and a frame later.
        assert!((1.2..=1.33).contains(&r), "{r}");
        assert_eq!(
            s.on_target, s.ticks,
            "the lost ticks are all in the settling time"
        );
        assert!(
            (11..=13).contains(&s.falsely_confident),
            "{}",
            s.falsely_confident
        );
    }
}
