//! A real CLAP host (built on `clack-host`) loads the bundled `Segno.clap`, restores a project
//! state that carries the example score, streams a rendered performance through it in real time,
//! and captures its MIDI output. The position messages must be the ones the CLI follower reports
//! on the same audio: the same beats in the same order, each within two hops of the follower's
//! attack analysis (11.6 ms; the follower reports onsets at the attack hop, not the 23 ms frame).
//!
//! Needs the bundle: `cargo xtask test` builds it and sets `SEGNO_BUNDLE_DIR`; without it this
//! test says so and passes (a plain `cargo test` has no bundle to load).

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::MidiEvent;
use clack_host::prelude::*;
use segno::eval::practice::{Practice, Scenario};
use segno::features::attack::FINE_HOP;
use segno::features::{HOP_S, SAMPLE_RATE};
use segno::live::protocol::{BeatTracker, ControlChange, MidiProtocol, PositionEvent};
use segno::position::csv::read_positions;

use common::{example, write_wav};

/// One hop of the follower's attack analysis, in seconds.
const FINE_HOP_S: f64 = FINE_HOP as f64 / SAMPLE_RATE as f64;

const RATE: u32 = 44_100;
/// Not a divisor of the hop (1024 samples here), so events fall inside blocks.
const BLOCK: usize = 300;
/// Silence before the performance: time for the plugin to prepare the score it was given.
const LEAD_S: f64 = 6.0;
/// Seconds of the performance streamed (real time, so this is the test's duration).
const PLAYED_S: f64 = 24.0;

fn bundle_dir() -> Option<PathBuf> {
    match std::env::var_os("SEGNO_BUNDLE_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("SKIPPED: SEGNO_BUNDLE_DIR is not set; `cargo xtask test` builds the bundles and runs this test");
            None
        }
    }
}

struct Shared;
impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct TestHost;
impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

/// The example performance at 44.1 kHz behind `LEAD_S` of silence.
fn performance() -> Vec<f32> {
    let mut out = vec![0.0; (LEAD_S * f64::from(RATE)) as usize];
    out.extend(common::performance(RATE));
    out
}

/// Position events from the CLI's `positions.csv`, with the time each was known; `relocation`
/// as `segno follow --relocation`.
fn cli_events(
    bundles: &Path,
    wav: &Path,
    out: &Path,
    relocation: bool,
) -> Vec<(f64, PositionEvent)> {
    let segno = bundles.parent().unwrap().join("release/segno");
    let o = Command::new(&segno)
        .args(["follow", "--score"])
        .arg(example("minuet.musicxml"))
        .arg("--audio")
        .arg(wav)
        .arg("--out")
        .arg(out)
        .args(relocation.then_some("--relocation"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", segno.display()));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut tracker = BeatTracker::default();
    let mut events = Vec::new();
    for report in read_positions(&std::fs::read_to_string(out).unwrap()).unwrap() {
        tracker.on_report(&report, |e| events.push((report.perf_time_s, e)));
    }
    events
}

/// The plugin state a DAW would have saved with a project in which the score was loaded, and
/// relocation turned on or off.
fn project_state(relocation: bool) -> Vec<u8> {
    use base64::Engine as _;
    let score = std::fs::read(example("minuet.musicxml")).unwrap();
    let session = serde_json::json!({
        "format": "segno-session",
        "version": 1,
        "score": { "name": "minuet.musicxml", "bytes": base64::engine::general_purpose::STANDARD.encode(score) },
    });
    let state = serde_json::json!({
        "version": "0.1.0",
        "params": { "relocation": { "bool": relocation } },
        "fields": { "session": session.to_string() },
    });
    // nice-plug's CLAP state: the JSON's length as a little-endian u64, then the JSON.
    let json = serde_json::to_vec(&state).unwrap();
    let mut stream = (json.len() as u64).to_le_bytes().to_vec();
    stream.extend(json);
    stream
}

/// Streams `audio` through the plugin, in real time or as an offline render (as fast as the
/// plugin lets it); returns the position events it sent, with their time, and the state it saves
/// afterwards.
fn run_plugin(
    bundle: &Path,
    audio: &[f32],
    mode: RenderMode,
    relocation: bool,
    block: usize,
) -> (Vec<(f64, PositionEvent)>, String) {
    let entry = unsafe { PluginEntry::load(bundle) }.expect("cannot load Segno.clap");
    let factory = entry.get_plugin_factory().expect("no plugin factory");
    let descriptor = factory
        .plugin_descriptors()
        .next()
        .expect("no plugin in the bundle");
    assert_eq!(descriptor.name().unwrap().to_bytes(), b"Segno");
    let id = descriptor.id().unwrap();
    let host_info =
        HostInfo::new("segno-test-host", "Segno", "https://example.invalid", "0.1").unwrap();
    let mut instance =
        PluginInstance::<TestHost>::new(|_| Shared, |_| (), &entry, id, &host_info).unwrap();

    let state: PluginState = instance
        .plugin_handle()
        .get_extension()
        .expect("no state extension");
    // A damaged project must be refused, not crash the host.
    for garbage in [&b"\x05\0\0\0\0\0\0\0{{{{{"[..], b"not a state at all", b""] {
        assert!(state
            .load(
                &instance.plugin_handle(),
                &mut Cursor::new(garbage.to_vec())
            )
            .is_err());
    }
    state
        .load(
            &instance.plugin_handle(),
            &mut Cursor::new(project_state(relocation)),
        )
        .expect("the plugin refused the project state");

    let config = PluginAudioConfiguration {
        sample_rate: f64::from(RATE),
        min_frames_count: 1,
        max_frames_count: block as u32,
    };
    let render: PluginRender = instance
        .plugin_handle()
        .get_extension()
        .expect("no render extension");
    render
        .set(&instance.plugin_handle(), mode)
        .expect("the plugin refused the render mode");
    let processor = instance.activate(|_, _| (), config).unwrap();
    let protocol = MidiProtocol::default();
    let realtime = mode == RenderMode::Realtime;
    let (events, processor) = std::thread::scope(|s| {
        s.spawn(|| {
            let mut processor = processor.start_processing().unwrap();
            let mut decoder = protocol.decoder();
            let mut events = Vec::new();
            let (mut input_ports, mut output_ports) = (
                AudioPorts::with_capacity(2, 1),
                AudioPorts::with_capacity(2, 1),
            );
            let mut out_events = EventBuffer::with_capacity(64);
            let (mut left, mut right) = (vec![0.0f32; block], vec![0.0f32; block]);
            let (mut out_l, mut out_r) = (vec![0.0f32; block], vec![0.0f32; block]);
            let block_len = block;
            let start = Instant::now();
            for (b, block) in audio.chunks(block_len).enumerate() {
                let n = block.len();
                left[..n].copy_from_slice(block);
                right[..n].copy_from_slice(block);
                out_events.clear();
                let input = input_ports.with_input_buffers([AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only([
                        InputChannel::variable(&mut left[..n]),
                        InputChannel::variable(&mut right[..n]),
                    ]),
                }]);
                let mut output = output_ports.with_output_buffers([AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_output_only(
                        [&mut out_l[..n], &mut out_r[..n]].into_iter(),
                    ),
                }]);
                let block_start = (b * block_len) as u64;
                processor
                    .process(
                        &input,
                        &mut output,
                        &InputEvents::empty(),
                        &mut OutputEvents::from_buffer(&mut out_events),
                        Some(block_start),
                        None,
                    )
                    .unwrap();
                assert_eq!(
                    (&out_l[..n], &out_r[..n]),
                    (block, block),
                    "audio must pass through unchanged"
                );
                for e in out_events.iter() {
                    let Some(midi) = e.as_event::<MidiEvent>() else {
                        continue;
                    };
                    let [status, controller, value] = midi.data();
                    assert_eq!(status & 0xF0, 0xB0, "only control changes are sent");
                    let cc = ControlChange {
                        channel: status & 0x0F,
                        controller,
                        value,
                    };
                    if let Some(event) = decoder.feed(cc) {
                        let sample = block_start + u64::from(midi.header().time());
                        events.push((sample as f64 / f64::from(RATE), event));
                    }
                }
                // Real time: the worker runs beside the audio thread as it would in a DAW.
                let due = Duration::from_secs_f64(((b + 1) * block_len) as f64 / f64::from(RATE));
                if let Some(wait) = due.checked_sub(start.elapsed()).filter(|_| realtime) {
                    std::thread::sleep(wait);
                }
            }
            if !realtime {
                let (audio_s, took_s) = (audio.len() as f64 / f64::from(RATE), start.elapsed().as_secs_f64());
                eprintln!(
                    "{audio_s:.1} s of audio rendered offline in {block_len}-sample blocks in {took_s:.2} s: {:.0}× real time",
                    audio_s / took_s
                );
            }
            (events, processor.stop_processing())
        })
        .join()
        .unwrap()
    });
    instance.deactivate(processor);
    let mut saved = Vec::new();
    state
        .save(&instance.plugin_handle(), &mut saved)
        .expect("the plugin cannot save its state");
    (
        events,
        String::from_utf8(saved[8..].to_vec()).expect("nice-plug saves JSON after the length"),
    )
}

#[test]
fn midi_output_matches_the_cli_follower() {
    let Some(bundles) = bundle_dir() else { return };
    let dir = test_dir("realtime");
    let mut audio = performance();
    audio.truncate(((LEAD_S + PLAYED_S) * f64::from(RATE)) as usize);
    let (got, expected, saved) =
        compare(&bundles, &dir, &audio, RenderMode::Realtime, false, BLOCK);
    // The last few events may not have been sent before the stream ended.
    let expected: Vec<_> = expected
        .into_iter()
        .filter(|e| e.0 < LEAD_S + PLAYED_S - 0.1)
        .collect();
    assert_same_events(&got, &expected, 2.0 * FINE_HOP_S);

    // The saved project carries the score and where the pianist got to.
    let state: serde_json::Value = serde_json::from_str(&saved).unwrap();
    let session: serde_json::Value =
        serde_json::from_str(state["fields"]["session"].as_str().unwrap()).unwrap();
    assert_eq!(session["score"]["name"], "minuet.musicxml");
    assert!(
        session["last_measure"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{session}"
    );
}

/// A bounce: the host renders offline, faster than real time, and from the first sample (no
/// silence in which to prepare the score). The plugin waits for its worker, so it loses nothing:
/// the same events as the CLI, each at its own sample. In 64-sample blocks, the smallest a host
/// commonly uses, where each block waits for the worker.
#[test]
fn an_offline_render_sends_every_event_at_its_sample() {
    let Some(bundles) = bundle_dir() else { return };
    let dir = test_dir("offline");
    let mut audio = common::performance(RATE);
    audio.truncate((PLAYED_S * f64::from(RATE)) as usize);
    let (got, expected, _) = compare(&bundles, &dir, &audio, RenderMode::Offline, false, 64);
    assert_same_events(&got, &expected, 0.5e-3);
}

/// A pianist stops and starts again earlier in the piece (the practice benchmark's restart, cut
/// from the example's performance). With relocation on, the plugin finds them and says so: a
/// relocation event carrying the measure they are in, among the same events as the CLI's
/// `follow --relocation`, each at its sample.
#[test]
fn a_restart_is_sent_as_a_relocation() {
    let Some(bundles) = bundle_dir() else { return };
    let dir = test_dir("restart");
    let case = segno::eval::cases::Case {
        id: "minuet".into(),
        score: example("minuet.musicxml"),
        performance: example("minuet-performance.mid"),
        piece: "minuet".into(),
        truth: segno::eval::cases::read_truth(&example("minuet-performance.truth.csv")).unwrap(),
    };
    let events =
        segno::score::midi::read_events(&std::fs::read(&case.performance).unwrap()).unwrap();
    let mut rng = segno::rng::Rng::from_name("minuet restart");
    let practice = Practice::build(Scenario::Restart, &events, &case.truth, &[], &mut rng).unwrap();
    let audio = common::render_events(&practice.events, RATE);
    let (got, expected, _) = compare(&bundles, &dir, &audio, RenderMode::Offline, true, BLOCK);
    assert_same_events(&got, &expected, 0.5e-3);

    let jump = practice.jumps()[0];
    let score = segno::score::Score::load(&case.score).unwrap();
    let relocations: Vec<(f64, u16)> = got
        .iter()
        .filter_map(|&(t, e)| match e {
            PositionEvent::Relocated { measure } => Some((t, measure)),
            _ => None,
        })
        .collect();
    let (t, measure) = *relocations.iter().find(|r| r.0 > jump).unwrap_or_else(|| {
        panic!("no relocation after the restart at {jump:.1} s: {relocations:?}")
    });
    let truth = practice.score_time_at(&case.truth, t).unwrap();
    let played = score.position_at(truth).measure_index.unwrap() + 1;
    eprintln!(
        "restart at {jump:.1} s; relocated at {t:.1} s to measure {measure} (the pianist is in {played})"
    );
    // Measured: 4.6 s (this rendering has no room or noise, and the plugin compares frames with
    // the hybrid similarity; `tests/practice.rs` measures the benchmark's recording).
    assert!(t - jump <= 6.0, "found {:.1} s after the restart", t - jump);
    assert!(
        usize::from(measure).abs_diff(played) <= 1,
        "relocated to measure {measure}, the pianist is in {played}"
    );
}

fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("segno-clap-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

type Events = Vec<(f64, PositionEvent)>;

/// The events the plugin sends for `audio` in `mode`, those `segno follow` reports for the same
/// audio, and the state the plugin saves.
fn compare(
    bundles: &Path,
    dir: &Path,
    audio: &[f32],
    mode: RenderMode,
    relocation: bool,
    block: usize,
) -> (Events, Events, String) {
    let wav = dir.join("performance.wav");
    write_wav(&wav, audio, RATE);
    let expected = cli_events(bundles, &wav, &dir.join("positions.csv"), relocation);
    let (got, saved) = run_plugin(&bundles.join("Segno.clap"), audio, mode, relocation, block);
    (got, expected, saved)
}

/// The same position events in the same order (the plugin may have sent fewer, at the end of the
/// stream), each within `tolerance_s` of the CLI's time.
fn assert_same_events(
    got: &[(f64, PositionEvent)],
    expected: &[(f64, PositionEvent)],
    tolerance_s: f64,
) {
    let beats = expected
        .iter()
        .filter(|e| matches!(e.1, PositionEvent::Beat { .. }))
        .count();
    assert!(
        beats >= 30,
        "the CLI follower must have followed the piece: {beats} beats"
    );
    let got_events: Vec<PositionEvent> = got.iter().map(|e| e.1).take(expected.len()).collect();
    let expected_events: Vec<PositionEvent> = expected.iter().map(|e| e.1).collect();
    assert_eq!(
        got_events, expected_events,
        "the plugin sent other positions than the CLI reports"
    );
    let worst = got
        .iter()
        .zip(expected)
        .map(|(g, e)| (g.0 - e.0).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "{} position events, worst timing difference {:.1} ms (one frame: {:.1} ms)",
        expected.len(),
        worst * 1e3,
        HOP_S * 1e3
    );
    assert!(
        worst <= tolerance_s,
        "timing differs by {:.1} ms, more than {:.1} ms",
        worst * 1e3,
        tolerance_s * 1e3
    );
}
