#![no_main]
//! Standard MIDI files: any bytes are an error or a score, never a panic or a hang.

use libfuzzer_sys::fuzz_target;
use segno::score::midi;

fuzz_target!(|data: &[u8]| {
    let _ = midi::parse(data);
    let _ = midi::read_events(data);
});
