//! The position: what every part of Segno passes around once a performance has been placed on the
//! score. The follower makes one per live frame, the offline aligner one per path step; outputs
//! (MIDI, OSC, the editor, `positions.csv` in [`csv`]) read them.

pub mod csv;

use std::fmt;
use std::str::FromStr;

use crate::score::Score;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowState {
    /// Nothing played yet since the start or the last reset.
    Waiting,
    Following,
    Uncertain,
    Lost,
    /// The pianist may be elsewhere in the piece (a restart, a skip): the follower is looking for
    /// them over the whole piece and its position is not to be trusted until it has found them.
    Searching,
}

impl FollowState {
    /// Every state, in the order of their codes (the seqlock stores the index).
    pub const ALL: [Self; 5] = [
        Self::Waiting,
        Self::Following,
        Self::Uncertain,
        Self::Lost,
        Self::Searching,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Following => "following",
            Self::Uncertain => "uncertain",
            Self::Lost => "lost",
            Self::Searching => "searching",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for FollowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FollowState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown state '{s}': one of {}", names.join(", "))
        })
    }
}

/// Where the performer is: the follower's answer after one live frame, or one step of an offline
/// alignment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Time in the performance at which this report is available: the end of the live frame, plus
    /// the resampler's latency when the input is not at the internal rate.
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
    /// The follower has just moved to another place in the score (a restart or a skip found):
    /// set on the first report there only.
    pub relocated: bool,
}

impl Report {
    /// The report placing `perf_time_s` of the performance at `score_time_s` of `score`: beat,
    /// measure and beat in the measure follow from the score.
    pub fn at(
        score: &Score,
        perf_time_s: f64,
        score_time_s: f64,
        tempo_ratio: f64,
        confidence: f32,
        state: FollowState,
    ) -> Self {
        let pos = score.position_at(score_time_s);
        Self {
            perf_time_s,
            score_time_s,
            score_beat: pos.beat,
            measure_index: pos.measure_index.unwrap_or(0),
            beat_in_measure: pos.beat_in_measure,
            tempo_ratio,
            confidence,
            state,
            relocated: false,
        }
    }
}
