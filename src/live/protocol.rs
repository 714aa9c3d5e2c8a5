//! The position protocol accompaniment systems read: which events the follower's reports become
//! ([`BeatTracker`]), and how each event is spelled as MIDI control changes ([`MidiProtocol`]).
//!
//! Protocol (all on one MIDI channel, controller numbers configurable):
//! - every beat: controller `measure_cc` (MSB) and `measure_cc + 32` (LSB) carry the 1-based
//!   *played* measure (14 bits: 1…16383; a repeat's second pass has its own number), then
//!   controller `beat_cc` carries the 1-based beat within the measure (in the time signature's
//!   unit). The beat controller comes last and marks the beat's time;
//! - controller `state_cc` carries the follower's state when it changes: 0 when it loses the
//!   performer, 32 when it is searching the whole piece for them (a restart or a skip is likely:
//!   hold still), 127 when it finds them again where it was;
//! - a relocation (the performer restarted, skipped or started elsewhere, and the follower has
//!   moved there): controllers `measure_cc`/`measure_cc + 32` carry the measure moved to, then
//!   `state_cc` = 96. An accompaniment system jumps to that measure; the beat events go on from
//!   there. (A receiver that knows only lost and found reads 32 as lost and 96 as found.)
//!
//! Per the MIDI 1.0 convention for 14-bit controllers the LSB controller is the MSB's number + 32,
//! so `measure_cc` must be 0…31.

use crate::position::{FollowState, Report};

/// What an accompaniment system is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionEvent {
    /// A beat has begun: `measure` is the 1-based played measure, `beat` the 1-based beat in it.
    Beat {
        measure: u16,
        beat: u8,
    },
    Lost,
    /// The follower is looking for the performer over the whole piece.
    Searching,
    /// Found again where the follower was.
    Found,
    /// Found elsewhere: the performer is now in the 1-based played `measure`.
    Relocated {
        measure: u16,
    },
}

/// `state_cc` values of the state events.
const LOST_VALUE: u8 = 0;
const SEARCHING_VALUE: u8 = 32;
const RELOCATED_VALUE: u8 = 96;
const FOUND_VALUE: u8 = 127;

/// One MIDI control change: channel 0…15, controller 0…127, value 0…127.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlChange {
    pub channel: u8,
    pub controller: u8,
    pub value: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MidiProtocol {
    /// 0-based MIDI channel (0 = channel 1).
    pub channel: u8,
    pub measure_cc: u8,
    pub beat_cc: u8,
    pub state_cc: u8,
}

impl Default for MidiProtocol {
    /// Channel 16 and general-purpose controllers 16/48 (measure), 17 (beat), 18 (state): none of
    /// them changes the sound of a General MIDI instrument that happens to receive them.
    fn default() -> Self {
        Self {
            channel: 15,
            measure_cc: 16,
            beat_cc: 17,
            state_cc: 18,
        }
    }
}

pub const MAX_MEASURE: u16 = (1 << 14) - 1;

impl MidiProtocol {
    /// Clamps every number into its valid range, so a bad setting never sends a wrong message.
    pub fn sanitized(self) -> Self {
        Self {
            channel: self.channel.min(15),
            measure_cc: self.measure_cc.min(31),
            beat_cc: self.beat_cc.min(127),
            state_cc: self.state_cc.min(127),
        }
    }

    /// The control changes for one event, in sending order (at most three).
    pub fn encode(&self, event: PositionEvent) -> ([ControlChange; 3], usize) {
        let cc = |controller: u8, value: u8| ControlChange {
            channel: self.channel,
            controller,
            value,
        };
        let none = cc(0, 0);
        let measure = |m: u16, last: ControlChange| {
            let m = m.min(MAX_MEASURE);
            (
                [
                    cc(self.measure_cc, (m >> 7) as u8),
                    cc(self.measure_cc + 32, (m & 0x7f) as u8),
                    last,
                ],
                3,
            )
        };
        match event {
            PositionEvent::Beat { measure: m, beat } => measure(m, cc(self.beat_cc, beat.min(127))),
            PositionEvent::Relocated { measure: m } => {
                measure(m, cc(self.state_cc, RELOCATED_VALUE))
            }
            PositionEvent::Lost => ([cc(self.state_cc, LOST_VALUE), none, none], 1),
            PositionEvent::Searching => ([cc(self.state_cc, SEARCHING_VALUE), none, none], 1),
            PositionEvent::Found => ([cc(self.state_cc, FOUND_VALUE), none, none], 1),
        }
    }

    /// A decoder for this protocol's messages (what an accompaniment system would run).
    pub fn decoder(&self) -> Decoder {
        Decoder {
            protocol: *self,
            msb: 0,
            lsb: 0,
        }
    }
}

/// Rebuilds [`PositionEvent`]s from received control changes; messages of other channels and
/// controllers are ignored.
#[derive(Debug, Clone)]
pub struct Decoder {
    protocol: MidiProtocol,
    msb: u8,
    lsb: u8,
}

impl Decoder {
    fn measure(&self) -> u16 {
        (u16::from(self.msb) << 7) | u16::from(self.lsb)
    }

    pub fn feed(&mut self, cc: ControlChange) -> Option<PositionEvent> {
        let p = &self.protocol;
        if cc.channel != p.channel {
            return None;
        }
        match cc.controller {
            c if c == p.measure_cc => self.msb = cc.value,
            c if c == p.measure_cc + 32 => self.lsb = cc.value,
            c if c == p.beat_cc => {
                return Some(PositionEvent::Beat {
                    measure: self.measure(),
                    beat: cc.value,
                });
            }
            // The nearest of the state values.
            c if c == p.state_cc => {
                return Some(match cc.value {
                    0..16 => PositionEvent::Lost,
                    16..64 => PositionEvent::Searching,
                    64..112 => PositionEvent::Relocated {
                        measure: self.measure(),
                    },
                    _ => PositionEvent::Found,
                })
            }
            _ => {}
        }
        None
    }
}

/// Turns the stream of reports into protocol events: a beat event whenever the followed
/// (measure, beat) changes, lost or searching when the follower loses the performer or looks for
/// them, found when it has them again, relocated when it has moved elsewhere. No beats are sent
/// while lost or searching, nor while waiting for the first note.
#[derive(Debug, Clone, Default)]
pub struct BeatTracker {
    last_beat: Option<(u16, u8)>,
    /// Lost or searching: what was last said, until the performer is found.
    missing: Option<FollowState>,
}

impl BeatTracker {
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// At most two events per report (found or relocated, then the beat there).
    pub fn on_report(&mut self, report: &Report, mut emit: impl FnMut(PositionEvent)) {
        let beat = beat_of(report);
        if report.relocated {
            self.missing = None;
            self.last_beat = None;
            emit(PositionEvent::Relocated { measure: beat.0 });
        }
        match report.state {
            FollowState::Waiting => return,
            state @ (FollowState::Lost | FollowState::Searching) => {
                if self.missing != Some(state) {
                    self.missing = Some(state);
                    emit(match state {
                        FollowState::Lost => PositionEvent::Lost,
                        _ => PositionEvent::Searching,
                    });
                }
                return;
            }
            FollowState::Following | FollowState::Uncertain => {}
        }
        if self.missing.is_some() {
            if report.state != FollowState::Following {
                return;
            }
            self.missing = None;
            self.last_beat = None;
            emit(PositionEvent::Found);
        }
        if self.last_beat != Some(beat) {
            self.last_beat = Some(beat);
            emit(PositionEvent::Beat {
                measure: beat.0,
                beat: beat.1,
            });
        }
    }
}

/// The 1-based played measure and 1-based whole beat of a report.
pub fn beat_of(report: &Report) -> (u16, u8) {
    let measure = (report.measure_index + 1).min(usize::from(MAX_MEASURE)) as u16;
    // A hair of tolerance: a position computed as 2.9999999 is on beat 3.
    let beat = (report.beat_in_measure + 1e-6).floor().clamp(1.0, 127.0) as u8;
    (measure, beat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(measure_index: usize, beat_in_measure: f64, state: FollowState) -> Report {
        Report {
            perf_time_s: 0.0,
            score_time_s: 0.0,
            score_beat: 0.0,
            measure_index,
            beat_in_measure,
            tempo_ratio: 1.0,
            confidence: 1.0,
            state,
            relocated: false,
        }
    }

    #[test]
    fn every_event_round_trips_through_midi() {
        let p = MidiProtocol {
            channel: 3,
            measure_cc: 20,
            beat_cc: 21,
            state_cc: 22,
        };
        let events = [
            PositionEvent::Beat {
                measure: 1,
                beat: 1,
            },
            PositionEvent::Beat {
                measure: 300,
                beat: 4,
            },
            PositionEvent::Beat {
                measure: MAX_MEASURE,
                beat: 12,
            },
            PositionEvent::Lost,
            PositionEvent::Searching,
            PositionEvent::Found,
            PositionEvent::Relocated { measure: 2 },
            PositionEvent::Relocated { measure: 777 },
        ];
        let mut dec = p.decoder();
        for e in events {
            let (ccs, n) = p.encode(e);
            let decoded: Vec<_> = ccs[..n].iter().filter_map(|&cc| dec.feed(cc)).collect();
            assert_eq!(decoded, vec![e]);
            assert!(ccs[..n]
                .iter()
                .all(|cc| cc.channel == 3 && cc.value <= 127 && cc.controller <= 127));
        }
    }

    #[test]
    fn decoder_ignores_other_channels_and_controllers() {
        let p = MidiProtocol::default();
        let mut dec = p.decoder();
        assert_eq!(
            dec.feed(ControlChange {
                channel: 0,
                controller: p.beat_cc,
                value: 1
            }),
            None
        );
        assert_eq!(
            dec.feed(ControlChange {
                channel: p.channel,
                controller: 7,
                value: 100
            }),
            None
        );
    }

    #[test]
    fn sanitized_keeps_the_lsb_controller_valid() {
        let p = MidiProtocol {
            channel: 40,
            measure_cc: 120,
            beat_cc: 200,
            state_cc: 128,
        }
        .sanitized();
        assert_eq!(
            p,
            MidiProtocol {
                channel: 15,
                measure_cc: 31,
                beat_cc: 127,
                state_cc: 127
            }
        );
    }

    #[test]
    fn beats_lost_and_found() {
        let mut t = BeatTracker::default();
        let mut out = Vec::new();
        let reports = [
            report(0, 1.0, FollowState::Waiting),
            report(0, 1.0, FollowState::Following),
            report(0, 1.5, FollowState::Following),
            report(0, 1.999_999_9, FollowState::Uncertain),
            report(1, 1.2, FollowState::Following),
            report(1, 1.3, FollowState::Lost),
            report(1, 2.3, FollowState::Lost),
            report(4, 3.0, FollowState::Uncertain),
            report(4, 3.1, FollowState::Following),
            report(4, 3.2, FollowState::Following),
        ];
        for r in &reports {
            t.on_report(r, |e| out.push(e));
        }
        use PositionEvent::*;
        assert_eq!(
            out,
            vec![
                Beat {
                    measure: 1,
                    beat: 1
                },
                Beat {
                    measure: 1,
                    beat: 2
                },
                Beat {
                    measure: 2,
                    beat: 1
                },
                Lost,
                Found,
                Beat {
                    measure: 5,
                    beat: 3
                },
            ]
        );
    }

    #[test]
    fn searching_holds_the_beats_and_a_relocation_names_its_measure() {
        let mut t = BeatTracker::default();
        let mut out = Vec::new();
        let relocated = Report {
            relocated: true,
            ..report(1, 1.0, FollowState::Uncertain)
        };
        let reports = [
            report(7, 1.0, FollowState::Following),
            report(7, 2.0, FollowState::Searching),
            report(8, 1.0, FollowState::Searching),
            relocated,
            report(1, 2.0, FollowState::Following),
            report(3, 1.0, FollowState::Following),
            Report {
                relocated: true,
                ..report(9, 1.0, FollowState::Following)
            },
        ];
        for r in &reports {
            t.on_report(r, |e| out.push(e));
        }
        use PositionEvent::*;
        assert_eq!(
            out,
            vec![
                Beat {
                    measure: 8,
                    beat: 1
                },
                Searching,
                Relocated { measure: 2 },
                Beat {
                    measure: 2,
                    beat: 1
                },
                Beat {
                    measure: 2,
                    beat: 2
                },
                Beat {
                    measure: 4,
                    beat: 1
                },
                Relocated { measure: 10 },
                Beat {
                    measure: 10,
                    beat: 1
                },
            ]
        );
    }
}
