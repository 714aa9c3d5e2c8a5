#![no_main]
//! Compressed MusicXML (zip container): any bytes are an error or a score, never a panic.

use libfuzzer_sys::fuzz_target;
use segno::score::musicxml;

fuzz_target!(|data: &[u8]| {
    let _ = musicxml::parse_mxl(data);
});
