//! Shared helpers for the integration tests: real SoundFonts, the bundled example.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustysynth::SoundFont;
use segno::render::{find_soundfont, load_soundfont};
use segno::resources::OTHER_PIANO_SOUNDFONT;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example(name: &str) -> PathBuf {
    root().join("assets/example").join(name)
}

/// The reference SoundFont (FluidR3 where installed).
pub fn reference_font() -> Arc<SoundFont> {
    let path = find_soundfont(None).expect("a SoundFont is installed: run `cargo xtask setup`");
    load_soundfont(&path).unwrap()
}

/// Another piano for "performances", so that tests never follow the reference's own sound.
pub fn performance_font() -> Arc<SoundFont> {
    let path = Path::new(OTHER_PIANO_SOUNDFONT);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask setup`",
        path.display()
    );
    load_soundfont(path).unwrap()
}

pub fn benchmark_dir() -> Option<PathBuf> {
    let dir = root().join("../shared/benchmark/dev");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: benchmark data not found at {} (it is not part of the repository)",
            dir.display()
        );
        None
    }
}
