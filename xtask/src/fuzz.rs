//! `cargo xtask fuzz`: every fuzz target (score parsers, SoundFont, audio decoding, the plugin's
//! saved state) for a bounded time.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::{cargo, run};

/// Each target, the files its corpus starts from, and the largest single allocation (MiB) it may
/// make. The audio target's is above 4 GiB: symphonia's FLAC and tag readers allocate whatever
/// a 32-bit length in a header claims before they find the file shorter (Linux commits such a
/// zeroed buffer lazily, so memory use stays low); the 2 GiB limit on resident memory still
/// holds for it.
const FUZZ_TARGETS: &[(&str, &[&str], u32)] = &[
    ("midi", &["assets/example/minuet-performance.mid"], 2048),
    ("musicxml", &["assets/example/minuet.musicxml"], 2048),
    ("mxl", &[], 2048),
    ("soundfont", &["tests/data/tiny.sf2"], 2048),
    ("audio", &["tests/data/blip.wav"], 4200),
    ("session", &["tests/data/session.json"], 2048),
];

/// Runs each fuzz target for `seconds`, starting from the bundled example and test files.
/// cargo-fuzz passes sanitizer flags that only nightly compilers accept; RUSTC_BOOTSTRAP lets the
/// stable toolchain, the only one here, accept them.
pub(crate) fn fuzz(root: &Path, seconds: u32) -> Result<()> {
    if Command::new(cargo())
        .args(["fuzz", "--version"])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        run(Command::new(cargo()).args(["install", "cargo-fuzz", "--locked"]))?;
    }
    for (target, seeds, malloc_limit_mb) in FUZZ_TARGETS {
        let corpus = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        for seed in *seeds {
            let from = root.join(seed);
            std::fs::copy(
                &from,
                corpus.join(from.file_name().expect("seed is a file")),
            )?;
        }
        run(Command::new(cargo())
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "-O", target])
            .arg(&corpus)
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-rss_limit_mb=2048",
                &format!("-malloc_limit_mb={malloc_limit_mb}"),
            ]))?;
    }
    Ok(())
}
