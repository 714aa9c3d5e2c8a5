//! Position output as OSC over UDP, for accompaniment systems on the same machine or network.
//!
//! Messages (all numbers 32-bit):
//! - `/segno/position measure beat score_time tempo confidence` after every analysis frame while
//!   following (not while waiting for the first note or searching): `measure` (int) the 1-based played measure, `beat` (float) the 1-based position
//!   in it in the time signature's unit, `score_time` (float) seconds of the score at its written
//!   tempo, `tempo` (float) the performer's tempo in quarter notes per minute, `confidence`
//!   (float) 0…1;
//! - `/segno/beat measure beat` (int, int) at every beat, the same events as the MIDI protocol;
//! - `/segno/state name` (string: waiting, following, uncertain, lost, searching) whenever the
//!   state changes; `searching`: the follower is looking for the performer over the whole piece
//!   (a restart or a skip is likely), so hold still;
//! - `/segno/relocated measure` (int) when the follower has moved to another place in the score
//!   (the performer restarted, skipped or started elsewhere): jump to that 1-based played
//!   measure. Beats and positions go on from there.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

use rosc::{OscMessage, OscPacket, OscType};

use crate::live::protocol::{BeatTracker, PositionEvent};
use crate::live::ReportSink;
use crate::position::{FollowState, Report};
use crate::score::Score;

#[derive(Debug, thiserror::Error)]
pub enum OscError {
    #[error("cannot resolve the OSC destination '{0}': give it as host:port, e.g. 127.0.0.1:9000")]
    Address(String),
    #[error("cannot open a UDP socket for OSC: {0}")]
    Socket(#[from] std::io::Error),
}

pub struct OscSender {
    socket: UdpSocket,
    target: SocketAddr,
    beats: BeatTracker,
    state: Option<FollowState>,
    errors: u64,
}

impl OscSender {
    /// `target` is `host:port`.
    pub fn new(target: &str) -> Result<Self, OscError> {
        let target = target
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| OscError::Address(target.to_owned()))?;
        let bind: SocketAddr = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .expect("literal address");
        let socket = UdpSocket::bind(bind)?;
        Ok(Self {
            socket,
            target,
            beats: BeatTracker::default(),
            state: None,
            errors: 0,
        })
    }

    /// UDP sends that failed (the receiver not listening is not one: UDP does not know).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    fn send(&mut self, addr: &str, args: Vec<OscType>) {
        let packet = OscPacket::Message(OscMessage {
            addr: addr.to_owned(),
            args,
        });
        let sent = rosc::encoder::encode(&packet)
            .ok()
            .and_then(|bytes| self.socket.send_to(&bytes, self.target).ok());
        if sent.is_none() {
            self.errors += 1;
        }
    }
}

impl ReportSink for OscSender {
    fn report(&mut self, report: &Report, score: &Score, _sample_time: u64) {
        if self.state != Some(report.state) {
            self.state = Some(report.state);
            self.send(
                "/segno/state",
                vec![OscType::String(report.state.as_str().into())],
            );
        }
        let mut beats = Vec::new();
        self.beats.on_report(report, |e| beats.push(e));
        for event in beats {
            match event {
                PositionEvent::Beat { measure, beat } => self.send(
                    "/segno/beat",
                    vec![OscType::Int(measure.into()), OscType::Int(beat.into())],
                ),
                PositionEvent::Relocated { measure } => {
                    self.send("/segno/relocated", vec![OscType::Int(measure.into())])
                }
                _ => {}
            }
        }
        if !matches!(report.state, FollowState::Waiting | FollowState::Searching) {
            self.send("/segno/position", position_args(report, score));
        }
    }

    fn reset(&mut self) {
        self.beats.reset();
        self.state = None;
    }
}

fn position_args(report: &Report, score: &Score) -> Vec<OscType> {
    let qpm = score.tempo.qpm_at(report.score_beat) * report.tempo_ratio;
    vec![
        OscType::Int((report.measure_index + 1).min(i32::MAX as usize) as i32),
        OscType::Float(report.beat_in_measure as f32),
        OscType::Float(report.score_time_s as f32),
        OscType::Float(qpm as f32),
        OscType::Float(report.confidence),
    ]
}
