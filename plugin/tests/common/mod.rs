//! Shared by the plugin's integration tests: the bundled example, rendered as a performance.

#![allow(dead_code)]

pub mod host;

use std::path::{Path, PathBuf};

use segno::render::{load_soundfont, render_score, RenderOptions};
use segno::resources::OTHER_PIANO_SOUNDFONT;
use segno::score::Score;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn example(name: &str) -> PathBuf {
    root().join("assets/example").join(name)
}

/// The example's performance MIDI played on another piano than the reference's, at `rate`.
pub fn performance(rate: u32) -> Vec<f32> {
    let font = load_soundfont(Path::new(OTHER_PIANO_SOUNDFONT)).expect("run `cargo xtask setup`");
    let score = Score::load(&example("minuet-performance.mid")).unwrap();
    render_score(&font, &score, RenderOptions::piano(rate)).unwrap()
}

/// MIDI events (a performance cut for practice) played on the performance's piano, at `rate`.
pub fn render_events(events: &[segno::score::midi::ChannelEvent], rate: u32) -> Vec<f32> {
    let font = load_soundfont(Path::new(OTHER_PIANO_SOUNDFONT)).expect("run `cargo xtask setup`");
    segno::render::render_events(&font, events, RenderOptions::piano(rate)).unwrap()
}

/// A mono 32-bit float WAV: the apps must hear exactly the samples a test feeds the plugin.
pub fn write_wav(path: &Path, audio: &[f32], rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    audio.iter().for_each(|&s| w.write_sample(s).unwrap());
    w.finalize().unwrap();
}

/// The first `seconds` of the performance, written to `path` at `rate`.
pub fn write_performance(path: &Path, rate: u32, seconds: f64) {
    let mut audio = performance(rate);
    audio.truncate((seconds * f64::from(rate)) as usize);
    write_wav(path, &audio, rate);
}
