#![no_main]
//! SoundFont files: any bytes are an error or a SoundFont that plays, never a panic out of Segno.
//!
//! Segno catches a panic inside rustysynth as its last line of defence, so the default hook of
//! libfuzzer-sys (abort on any panic, even a caught one) is replaced by a silent one: what fails
//! here is a panic that escapes `segno::render`, which is what would take a host down.

use libfuzzer_sys::fuzz_target;
use segno::render::{parse_soundfont, render_events, RenderOptions};
use segno::score::midi::ChannelEvent;

fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let Ok(font) = parse_soundfont(data) else {
            return;
        };
        let event = |time_s, command, data1| ChannelEvent {
            time_s,
            channel: 0,
            command,
            data1,
            data2: 100,
        };
        let events = [event(0.0, 0x90, 21), event(0.0, 0x90, 108), event(0.05, 0x80, 21)];
        let _ = render_events(&font, &events, RenderOptions::piano(16_000));
    }
);
