#![no_main]
//! Audio files (WAV, FLAC, MP3, OGG): any bytes are an error or audio that the feature front end
//! takes, never a panic out of Segno. NaN and infinite samples included.
//!
//! Segno catches a panic inside symphonia as its last line of defence, so libfuzzer-sys's hook
//! (abort on any panic, even a caught one) is replaced by a silent one: what fails here is a
//! panic that escapes Segno.

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use segno::audio::decode::decode_bytes;
use segno::features::FeatureExtractor;

/// The extensions tried, by the first byte: symphonia probes the content, the hint only orders it.
const NAMES: [&str; 4] = ["fuzz.wav", "fuzz.flac", "fuzz.mp3", "fuzz.ogg"];

fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let Some(&first) = data.first() else {
            return;
        };
        let name = NAMES[usize::from(first) % NAMES.len()];
        let Ok(audio) = decode_bytes(data.to_vec(), Path::new(name)) else {
            return;
        };
        let mut features = FeatureExtractor::new(audio.sample_rate);
        let head = audio.samples.len().min(audio.sample_rate as usize);
        features.push(&audio.samples[..head], |_| {});
        features.finish(|_| {});
    }
);
