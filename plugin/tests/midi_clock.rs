//! The standalone app's MIDI clock through a real MIDI system on loopback: a JACK server (dummy
//! driver, no sound card needed) carries the app's Song Position Pointer and clock to a JACK client
//! of this test, and the messages must be exactly those the follower's reports call for.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use segno::live::clock::{MidiClock, CLOCK, CONTINUE, SONG_POSITION};
use segno::position::csv::read_positions;
use segno::position::Report;

use common::{example, write_performance};

const RATE: u32 = 44_100;
const SECONDS: f64 = 10.0;

/// A private JACK server, stopped when dropped.
struct JackServer(Child);

impl Drop for JackServer {
    /// SIGTERM first: a killed jackd leaves its entry in JACK's shared registry, and after eight
    /// such entries no JACK server starts on the machine until /dev/shm/jack* is removed.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        for _ in 0..50 {
            if self.0.try_wait().is_ok_and(|s| s.is_some()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_jack(name: &str) -> Option<JackServer> {
    let child = Command::new("jackd")
        .env("JACK_DEFAULT_SERVER", name)
        // Synchronous, with a long client timeout: on a loaded machine a late client then delays
        // the (dummy, virtual) clock instead of missing a cycle and its MIDI.
        .args(["--no-realtime", "--sync", "--timeout", "10000"])
        .args(["-d", "dummy", "-r", "48000", "-p", "256"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match child {
        Ok(c) => Some(JackServer(c)),
        Err(_) => {
            eprintln!("SKIPPED: jackd is not installed (`cargo xtask test` installs jackd2)");
            None
        }
    }
}

/// Counts the cycles JACK reports as missed, which would explain lost MIDI.
struct XrunCounter(Arc<AtomicUsize>);

impl jack::NotificationHandler for XrunCounter {
    fn xrun(&mut self, _: &jack::Client) -> jack::Control {
        self.0.fetch_add(1, Ordering::Relaxed);
        jack::Control::Continue
    }
}

fn read_reports(csv: &Path) -> Vec<Report> {
    read_positions(&std::fs::read_to_string(csv).unwrap()).unwrap()
}

#[test]
fn song_position_and_clock_arrive_over_jack() {
    let server = format!("segno-test-{}", std::process::id());
    let Some(_jack) = start_jack(&server) else {
        return;
    };
    std::env::set_var("JACK_DEFAULT_SERVER", &server);
    // The server needs a moment before it accepts clients.
    let client = (0..50)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            jack::Client::new("receiver", jack::ClientOptions::NO_START_SERVER).ok()
        })
        .expect("the JACK server did not start")
        .0;
    let port = client.register_port("in", jack::MidiIn::default()).unwrap();
    let received = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let sink = received.clone();
    let process = jack::contrib::ClosureProcessHandler::new(
        move |_: &jack::Client, scope: &jack::ProcessScope| {
            // A test client: a lock here is harmless.
            let mut out = sink.lock().unwrap();
            for m in port.iter(scope) {
                out.push(m.bytes.to_vec());
            }
            jack::Control::Continue
        },
    );
    let xruns = Arc::new(AtomicUsize::new(0));
    let _active = client
        .activate_async(XrunCounter(xruns.clone()), process)
        .unwrap();

    let dir = std::env::temp_dir().join(format!("segno-clock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("performance.wav");
    let csv = dir.join("positions.csv");
    write_performance(&wav, RATE, SECONDS);

    // At the performance's own speed, as a pianist plays; then as fast as the follower goes, a
    // few clocks per JACK cycle (measured: not enough to fill a cycle's MIDI buffer).
    for realtime in [true, false] {
        received.lock().unwrap().clear();
        run_app(&server, &wav, &csv, realtime);
        let mut clock = MidiClock::default();
        let mut expected = Vec::new();
        for r in read_reports(&csv) {
            clock.on_report(&r, |m| expected.push(m.to_vec()));
        }
        let got = received.lock().unwrap().clone();
        assert_eq!(
            &got[..2],
            &[vec![SONG_POSITION, 0, 0], vec![CONTINUE]][..],
            "starts at the first note (the minuet has no pickup)"
        );
        let clocks = got.iter().filter(|m| m[..] == [CLOCK]).count();
        assert!(clocks >= 24 * 12, "10 s of a minuet: {clocks} clocks");
        assert!(
            got == expected,
            "realtime {realtime}: the MIDI received is not what the follower's reports call for: \
             {} messages ({clocks} clocks) received, {} expected; JACK reported {} xruns",
            got.len(),
            expected.len(),
            xruns.load(Ordering::Relaxed)
        );
    }
}

/// Follows `wav` with the standalone app headless, sending its clock to this test's JACK port.
/// The app returns only once JACK has delivered its last message.
fn run_app(server: &str, wav: &Path, csv: &Path, realtime: bool) {
    let mut args = vec!["--headless", "--midi-port", "jack:receiver:in"];
    if realtime {
        args.push("--realtime");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_segno-app"))
        .env("JACK_DEFAULT_SERVER", server)
        .args(args)
        .arg("--score")
        .arg(example("minuet.musicxml"))
        .arg("--input-file")
        .arg(wav)
        .arg("--out")
        .arg(csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
