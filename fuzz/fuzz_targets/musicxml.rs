#![no_main]
//! Uncompressed MusicXML: any bytes are an error or a score, never a panic or a hang.

use libfuzzer_sys::fuzz_target;
use segno::score::musicxml;

fuzz_target!(|data: &[u8]| {
    let _ = musicxml::parse(data);
});
