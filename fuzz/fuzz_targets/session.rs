#![no_main]
//! The plugin's saved state (what a host hands back when a project opens): any bytes are an
//! error for the editor or a session whose score reads or is refused, never a panic.

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use segno::score::{Score, ScoreFormat};
use segno_plugin::session::Session;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice(data) else {
        return;
    };
    let Ok(session) = Session::from_value(&value) else {
        return;
    };
    if let Some(saved) = session.score {
        let name = Path::new(&saved.name);
        if let Some(format) = ScoreFormat::from_path(name) {
            let _ = Score::from_bytes(&saved.bytes, format, name);
        }
    }
});
