//! MIDI beat clock and Song Position Pointer derived from the followed position, for
//! accompaniment systems and sequencers that slave to MIDI clock.
//!
//! The clock is locked to the score, not free-running: after each report it has sent exactly
//! ⌊beat × 24⌋ clocks since the last Song Position Pointer (24 per quarter note, as MIDI defines),
//! so the receiver's position never drifts from the follower's. A jump (start, a new measure
//! chosen, found again, or a position that moved back or more than a beat ahead) is sent as Stop,
//! Song Position Pointer, Continue; losing the performer, or searching the
//! piece for them, sends Stop.
//!
//! Clocks go out when reports arrive (every 23 ms), so a tick may be up to one analysis hop late.

use crate::position::{FollowState, Report};

pub const CLOCK: u8 = 0xF8;
pub const CONTINUE: u8 = 0xFB;
pub const STOP: u8 = 0xFC;
pub const SONG_POSITION: u8 = 0xF2;

const TICKS_PER_QUARTER: f64 = 24.0;
/// Song Position Pointer counts sixteenth notes (6 clocks each), 14 bits.
const TICKS_PER_SPP_UNIT: u64 = 6;
const MAX_SPP: u64 = (1 << 14) - 1;

#[derive(Debug, Clone, Default)]
pub struct MidiClock {
    /// Clocks sent so far, as an absolute tick of the score; `None` while stopped.
    ticks: Option<u64>,
}

impl MidiClock {
    pub fn reset(&mut self) {
        self.ticks = None;
    }

    /// The MIDI messages to send after this report, each as raw bytes.
    pub fn on_report(&mut self, report: &Report, mut send: impl FnMut(&[u8])) {
        let running = matches!(
            report.state,
            FollowState::Following | FollowState::Uncertain
        );
        if !running {
            let missing = matches!(report.state, FollowState::Lost | FollowState::Searching);
            if self.ticks.take().is_some() && missing {
                send(&[STOP]);
            }
            return;
        }
        let target = (report.score_beat.max(0.0) * TICKS_PER_QUARTER).floor() as u64;
        let ticks = match self.ticks {
            Some(t) if target >= t && target - t <= TICKS_PER_QUARTER as u64 => t,
            previous => {
                if previous.is_some() {
                    send(&[STOP]);
                }
                // Song Position Pointer can only say sixteenths: start from the one at or before
                // the position and let the clocks below catch up.
                let spp = (target / TICKS_PER_SPP_UNIT).min(MAX_SPP);
                send(&[SONG_POSITION, (spp & 0x7f) as u8, (spp >> 7) as u8]);
                send(&[CONTINUE]);
                spp * TICKS_PER_SPP_UNIT
            }
        };
        for _ in ticks..target {
            send(&[CLOCK]);
        }
        self.ticks = Some(target.max(ticks));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(beat: f64, state: FollowState) -> Report {
        Report {
            perf_time_s: 0.0,
            score_time_s: 0.0,
            score_beat: beat,
            measure_index: 0,
            beat_in_measure: 1.0,
            tempo_ratio: 1.0,
            confidence: 1.0,
            state,
            relocated: false,
        }
    }

    fn run(reports: &[Report]) -> Vec<Vec<u8>> {
        let mut clock = MidiClock::default();
        let mut out = Vec::new();
        for r in reports {
            clock.on_report(r, |m| out.push(m.to_vec()));
        }
        out
    }

    #[test]
    fn clocks_follow_the_position_exactly() {
        let beats: Vec<Report> = (0..=40)
            .map(|i| at(2.0 + i as f64 * 0.05, FollowState::Following))
            .collect();
        let out = run(&beats);
        // Start at beat 2 = sixteenth 8.
        assert_eq!(out[..2], [vec![SONG_POSITION, 8, 0], vec![CONTINUE]]);
        let clocks = out.iter().filter(|m| m[..] == [CLOCK]).count();
        assert_eq!(clocks, 48, "2 beats × 24");
    }

    #[test]
    fn jumps_and_losses_are_announced() {
        let out = run(&[
            at(0.0, FollowState::Waiting),
            at(1.0, FollowState::Following),
            at(1.1, FollowState::Following),
            at(9.5, FollowState::Following),
            at(9.6, FollowState::Lost),
        ]);
        let spp_9_5 = (9.5f64 * 4.0).floor() as u8; // 38 sixteenths
        let mut expected = vec![vec![SONG_POSITION, 4, 0], vec![CONTINUE]];
        expected.extend(std::iter::repeat_n(vec![CLOCK], 2)); // 24 → 26 ticks
        expected.extend([vec![STOP], vec![SONG_POSITION, spp_9_5, 0], vec![CONTINUE]]);
        expected.extend([vec![STOP]]);
        assert_eq!(out, expected);
    }

    #[test]
    fn song_position_uses_both_data_bytes() {
        let out = run(&[at(1000.0, FollowState::Following)]);
        assert_eq!(
            out[0],
            vec![SONG_POSITION, (4000 & 0x7f) as u8, (4000 >> 7) as u8]
        );
    }
}
