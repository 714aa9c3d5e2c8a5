//! `cargo xtask <command>`: set-up, the bundled example, tests and benchmarks.
//!
//! This crate uses nothing but the standard library and `anyhow`, so it builds on a machine that
//! has none of the system packages Segno needs: installing them is its first job.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod bench;
mod bundle;
mod fuzz;
mod models;
mod screenshot;
mod setup;
mod test;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup     install the system packages Segno needs (apt; asks for sudo when not root)
  example   follow the bundled example performance and print its accuracy
  test      run every test: unit and integration tests, the plugin's audio-thread test (debug
            build), the bundles in real hosts (pedalboard VST3, a clack-host CLAP host), the
            standalone app's OSC and MIDI output, and the editor screenshot
  bench     run the benchmark on ../shared/benchmark/dev and write target/bench/*.md
            (extra arguments go to `segno eval`, e.g. `cargo xtask bench --every 5`)
  bench synctoolbox
            only the synctoolbox anchor (issue 12; PyPI's synctoolbox in target/synctoolbox),
            on the audio `segno eval --every 5` renders: target/bench/synctoolbox.md
  bundle segno-plugin --release
            build the CLAP and VST3 bundles into target/bundled/
  models [MODEL..]
            retrain the models from scratch (all, or those named: semitone, chroma, salience
            for the Siamese CNNs, localiser for seed 001's dual-stack localiser, crossmodal for
            seed 003's cross-modal embedding, deep_chroma for seed 004's theme-search chroma): training data from ../shared/benchmark/train,
            PyTorch (CPU) in target/trainenv, ONNX + model cards in models/
  screenshot [DIR]
            render the editor under Xvfb following the example, as notation and as a piano roll
            (notation.png, roll.png in DIR, default target/screenshot/), check what they show and
            report the editor's frame time
  fuzz [S]  run every fuzz target (score parsers, SoundFont, audio, plugin state) with cargo-fuzz for S seconds each (default 30)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    // Commands that build without `setup` (fuzz) compile through ccache too, where it is.
    setup::compiler_cache();
    match args.first().map(String::as_str) {
        Some("setup") => setup::setup(),
        Some("example") => {
            setup::setup()?;
            test::example(&root)
        }
        Some("test") => {
            setup::setup()?;
            test::test(&root)
        }
        Some("screenshot") => {
            setup::setup()?;
            setup::install(setup::TEST_PACKAGES)?;
            let dir = args
                .get(1)
                .map_or_else(|| screenshot::default_dir(&root), PathBuf::from);
            bundle::bundle()?;
            screenshot::screenshot(&root, &test::performance_wav(&root)?, &dir)
        }
        Some("bench") => {
            setup::setup()?;
            bench::bench(&root, &args[1..])
        }
        Some("bundle") => {
            setup::setup()?;
            nice_plug_xtask::main_with_args("cargo xtask", args.iter().cloned())?;
            bundle::finish_bundles(&root)
        }
        Some("models") => {
            setup::setup()?;
            models::models(&root, &args[1..])
        }
        Some("fuzz") => fuzz::fuzz(
            &root,
            args.get(1)
                .map_or(Ok(30), |s| s.parse())
                .context("fuzz takes a number of seconds")?,
        ),
        _ => {
            eprintln!("{USAGE}");
            bail!("no such command")
        }
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", format!("{cmd:?}").replace('"', ""));
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

pub(crate) fn segno_binary(root: &Path) -> Result<PathBuf> {
    run(Command::new(cargo()).args(["build", "--release", "--package", "segno"]))?;
    Ok(root.join("target/release/segno"))
}
