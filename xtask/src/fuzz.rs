//! `cargo xtask fuzz`: every parser's fuzz target for a bounded time.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::{cargo, run};

const FUZZ_TARGETS: &[(&str, &[&str])] = &[
    ("midi", &["assets/example/minuet-performance.mid"]),
    ("musicxml", &["assets/example/minuet.musicxml"]),
    ("mxl", &[]),
];

/// Runs each parser's fuzz target for `seconds`, starting from the bundled example files.
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
    for (target, seeds) in FUZZ_TARGETS {
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
            ]))?;
    }
    Ok(())
}
