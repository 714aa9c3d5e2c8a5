//! The standalone app's OSC output, received on loopback: every message must say what the
//! follower reported (the app's own `--out` CSV is the follower's output of the same run).

mod common;

use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rosc::{OscPacket, OscType};
use segno::live::protocol::{BeatTracker, PositionEvent};
use segno::position::csv::read_positions;
use segno::position::{FollowState, Report};

use common::{example, write_performance};

const RATE: u32 = 48_000;
const SECONDS: f64 = 12.0;

fn read_reports(csv: &Path) -> Vec<Report> {
    read_positions(&std::fs::read_to_string(csv).unwrap()).unwrap()
}

#[test]
fn osc_messages_match_the_followers_reports() {
    let dir = std::env::temp_dir().join(format!("segno-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("performance.wav");
    let csv = dir.join("positions.csv");
    write_performance(&wav, RATE, SECONDS);

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let target = socket.local_addr().unwrap().to_string();
    // In real time, as a live performance would arrive: the receiver never falls behind.
    let mut app = Command::new(env!("CARGO_BIN_EXE_segno-app"))
        .args(["--headless", "--realtime", "--osc", &target, "--score"])
        .arg(example("minuet.musicxml"))
        .arg("--input-file")
        .arg(&wav)
        .arg("--out")
        .arg(&csv)
        .spawn()
        .unwrap();
    let mut messages = Vec::new();
    let mut buf = [0u8; 1536];
    let mut quiet_after_exit = 0;
    while quiet_after_exit < 5 {
        match socket.recv(&mut buf) {
            Ok(n) => match rosc::decoder::decode_udp(&buf[..n]).unwrap().1 {
                OscPacket::Message(m) => messages.push(m),
                OscPacket::Bundle(_) => panic!("Segno sends plain messages"),
            },
            Err(_) => {
                if app.try_wait().unwrap().is_some() {
                    quiet_after_exit += 1;
                }
            }
        }
    }
    assert!(app.wait().unwrap().success());

    let reports = read_reports(&csv);
    let following: Vec<&Report> = reports
        .iter()
        .filter(|r| r.state != FollowState::Waiting)
        .collect();
    assert!(
        following.len() > 300,
        "12 s of playing: {} reports",
        following.len()
    );

    let positions: Vec<&[OscType]> = messages
        .iter()
        .filter(|m| m.addr == "/segno/position")
        .map(|m| &m.args[..])
        .collect();
    assert_eq!(
        positions.len(),
        following.len(),
        "one /segno/position per report while following"
    );
    for (args, r) in positions.iter().zip(&following) {
        let [OscType::Int(measure), OscType::Float(beat), OscType::Float(score_time), OscType::Float(tempo), OscType::Float(confidence)] =
            args
        else {
            panic!("/segno/position has the wrong arguments: {args:?}");
        };
        assert_eq!(*measure as usize, r.measure_index + 1);
        assert!(
            (f64::from(*beat) - r.beat_in_measure).abs() < 2e-3,
            "{beat} vs {}",
            r.beat_in_measure
        );
        assert!((f64::from(*score_time) - r.score_time_s).abs() < 1e-4);
        assert!((f64::from(*confidence) - f64::from(r.confidence)).abs() < 2e-3);
        assert!(
            *tempo > 20.0 && *tempo < 400.0,
            "tempo {tempo} quarter notes per minute"
        );
    }

    let mut tracker = BeatTracker::default();
    let mut expected_beats = Vec::new();
    for r in &reports {
        tracker.on_report(r, |e| {
            if let PositionEvent::Beat { measure, beat } = e {
                expected_beats.push(vec![
                    OscType::Int(measure.into()),
                    OscType::Int(beat.into()),
                ]);
            }
        });
    }
    let beats: Vec<Vec<OscType>> = messages
        .iter()
        .filter(|m| m.addr == "/segno/beat")
        .map(|m| m.args.clone())
        .collect();
    assert_eq!(beats, expected_beats);
    assert!(beats.len() >= 15, "{} beats", beats.len());

    let states: Vec<String> = messages
        .iter()
        .filter(|m| m.addr == "/segno/state")
        .map(|m| match &m.args[..] {
            [OscType::String(s)] => s.clone(),
            other => panic!("/segno/state has the wrong arguments: {other:?}"),
        })
        .collect();
    assert_eq!(states.first().map(String::as_str), Some("waiting"));
    // The first notes are heard before the follower has moved through two of them: unsure.
    assert_eq!(states.get(1).map(String::as_str), Some("uncertain"));
    assert_eq!(states.get(2).map(String::as_str), Some("following"));
}
