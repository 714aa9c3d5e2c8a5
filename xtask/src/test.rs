//! `cargo xtask test` and `cargo xtask example`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::bundle::{bundle, check_no_build_paths};
use crate::screenshot::{default_dir, screenshot};
use crate::setup::{install, TEST_PACKAGES};
use crate::{cargo, run, segno_binary};

pub(crate) fn test(root: &Path) -> Result<()> {
    install(TEST_PACKAGES)?;
    let python = host_python(root)?;
    // The library, the CLI and everything but the plugin (NumPy for the feature parity test).
    run(Command::new(cargo())
        .args([
            "test",
            "--workspace",
            "--release",
            "--exclude",
            "segno-plugin",
        ])
        .env("SEGNO_PYTHON", &python))?;
    // The audio-thread contract needs nice-plug's allocation guard, which exists in debug builds.
    run(Command::new(cargo()).args(["test", "--package", "segno-plugin", "--test", "realtime"]))?;
    bundle()?;
    check_no_build_paths(root)?;
    let bundles = root.join("target/bundled");
    run(Command::new(cargo())
        .args([
            "test",
            "--release",
            "--package",
            "segno-plugin",
            "--lib",
            "--test",
            "clap_host",
            "--test",
            "standalone_app",
            "--test",
            "midi_clock",
            "--test",
            "soak",
            "--test",
            "identify",
        ])
        .env("SEGNO_BUNDLE_DIR", &bundles))?;
    let wav = performance_wav(root)?;
    vst3_host_test(root, &python, &bundles, &wav)?;
    screenshot(root, &wav, &default_dir(root))
}

/// A virtualenv with the test hosts' packages (pedalboard, NumPy): target/hostenv.
pub(crate) fn host_python(root: &Path) -> Result<PathBuf> {
    venv(
        root,
        "hostenv",
        &root.join("plugin/tests/hosts/requirements.txt"),
    )
}

/// `target/<name>`, a virtualenv with `requirements` installed; returns its python.
pub(crate) fn venv(root: &Path, name: &str, requirements: &Path) -> Result<PathBuf> {
    let venv = root.join("target").join(name);
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    run(Command::new(&python)
        .args(["-m", "pip", "install", "-q", "-r"])
        .arg(requirements))?;
    Ok(python)
}

/// Loads the VST3 in pedalboard (Spotify's plugin host, from PyPI; `python` from [`host_python`])
/// and plays `wav` through it.
pub(crate) fn vst3_host_test(root: &Path, python: &Path, bundles: &Path, wav: &Path) -> Result<()> {
    let script = root.join("plugin/tests/hosts/pedalboard_vst3.py");
    run(Command::new(python)
        .arg(script)
        .arg(bundles.join("Segno.vst3"))
        .arg(wav))
}

/// The example performance rendered with the second piano (as `cargo xtask example` does).
pub(crate) fn performance_wav(root: &Path) -> Result<PathBuf> {
    let segno = segno_binary(root)?;
    let out = root.join("target/example");
    std::fs::create_dir_all(&out)?;
    let wav = out.join("performance.wav");
    run(Command::new(&segno)
        .args(["render", "--score"])
        .arg(root.join("assets/example/minuet-performance.mid"))
        // segno::resources::OTHER_PIANO_SOUNDFONT (xtask does not link segno)
        .args(["--soundfont", "/usr/share/sounds/sf2/TimGM6mb.sf2", "--out"])
        .arg(&wav))?;
    Ok(wav)
}

/// Renders the example performance with another piano than the reference, follows it as a live
/// input would arrive, and prints the accuracy against the tempo curve it was made with.
pub(crate) fn example(root: &Path) -> Result<()> {
    let wav = performance_wav(root)?;
    let segno = segno_binary(root)?;
    let out = root.join("target/example");
    let assets = root.join("assets/example");
    run(Command::new(&segno)
        .args(["follow", "--score"])
        .arg(assets.join("minuet.musicxml"))
        .arg("--audio")
        .arg(&wav)
        .arg("--out")
        .arg(out.join("positions.csv"))
        .arg("--onsets")
        .arg(out.join("onsets.csv"))
        .arg("--truth")
        .arg(assets.join("minuet-performance.truth.csv")))?;
    eprintln!("results in {}", out.display());
    Ok(())
}
