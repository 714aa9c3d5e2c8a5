//! `cargo xtask <command>`: set-up, the bundled example, tests and benchmarks.
//!
//! This crate uses nothing but the standard library and `anyhow`, so it builds on a machine that
//! has none of the system packages Segno needs: installing them is its first job.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Debian/Ubuntu packages: two General MIDI SoundFonts (the reference and the benchmark's
/// "other piano"), ALSA headers for microphone input, JACK headers for the standalone app.
const APT_PACKAGES: &[&str] = &["fluid-soundfont-gm", "timgm6mb-soundfont", "libasound2-dev", "libjack-jackd2-dev", "pkg-config"];

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup     install the system packages Segno needs (apt; asks for sudo when not root)
  example   follow the bundled example performance and print its accuracy
  test      run every test (unit, integration, parser fuzzing)
  bench     run the benchmark on ../shared/benchmark/dev and write target/bench/*.md
            (extra arguments go to `segno eval`, e.g. `cargo xtask bench --every 5`)
  bundle segno-plugin --release
            build the CLAP and VST3 bundles into target/bundled/
  fuzz [S]  fuzz every score parser with cargo-fuzz for S seconds each (default 30)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("example") => {
            setup()?;
            example(&root)
        }
        Some("test") => {
            setup()?;
            run(Command::new(cargo()).args(["test", "--workspace", "--release"]))
        }
        Some("bench") => {
            setup()?;
            bench(&root, &args[1..])
        }
        Some("bundle") => {
            setup()?;
            nice_plug_xtask::main_with_args("cargo xtask", args.iter().cloned())
        }
        Some("fuzz") => fuzz(&root, args.get(1).map_or(Ok(30), |s| s.parse()).context("fuzz takes a number of seconds")?),
        _ => {
            eprintln!("{USAGE}");
            bail!("no such command")
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", format!("{cmd:?}").replace('"', ""));
    let status = cmd.status().with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn setup() -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES.iter().copied().filter(|p| !is_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if Command::new("apt-get").arg("--version").output().is_err() {
        bail!("missing system packages {missing:?} and no apt-get here: install a General MIDI SoundFont (.sf2) and ALSA headers with your package manager, and set SEGNO_SOUNDFONT to the .sf2");
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        let mut cmd = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            cmd.arg("apt-get");
        }
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        cmd
    };
    eprintln!("installing {missing:?}");
    run(&mut apt(&["update", "-qq"]))?;
    run(apt(&["install", "-y", "-qq", "--no-install-recommends"]).args(&missing))
}

fn segno_binary(root: &Path) -> Result<PathBuf> {
    run(Command::new(cargo()).args(["build", "--release", "--package", "segno"]))?;
    Ok(root.join("target/release/segno"))
}

/// Renders the example performance with another piano than the reference, follows it as a live
/// input would arrive, and prints the accuracy against the tempo curve it was made with.
fn example(root: &Path) -> Result<()> {
    let segno = segno_binary(root)?;
    let out = root.join("target/example");
    std::fs::create_dir_all(&out)?;
    let assets = root.join("assets/example");
    let wav = out.join("performance.wav");
    run(Command::new(&segno)
        .args(["render", "--score"])
        .arg(assets.join("minuet-performance.mid"))
        // segno::render::OTHER_PIANO_SOUNDFONT (xtask does not link segno)
        .args(["--soundfont", "/usr/share/sounds/sf2/TimGM6mb.sf2", "--out"])
        .arg(&wav))?;
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

fn bench(root: &Path, extra: &[String]) -> Result<()> {
    let cases = root.join("../shared/benchmark/dev");
    if !cases.is_dir() {
        eprintln!("benchmark data not found at {}: skipping (it is not part of the repository)", cases.display());
        return Ok(());
    }
    let segno = segno_binary(root)?;
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    for (name, args) in [("filter", &["--follower", "filter"][..]), ("oltw", &["--follower", "oltw", "--no-offline"][..]), ("chroma", &["--cost", "chroma", "--follower", "oltw"][..])] {
        run(Command::new(&segno)
            .args(["eval", "--cases"])
            .arg(&cases)
            .args(args)
            .args(extra)
            .arg("--markdown")
            .arg(out.join(format!("{name}.md"))))?;
    }
    Ok(())
}

const FUZZ_TARGETS: &[(&str, &[&str])] = &[
    ("midi", &["assets/example/minuet-performance.mid"]),
    ("musicxml", &["assets/example/minuet.musicxml"]),
    ("mxl", &[]),
];

/// Runs each parser's fuzz target for `seconds`, starting from the bundled example files.
/// cargo-fuzz passes sanitizer flags that only nightly compilers accept; RUSTC_BOOTSTRAP lets the
/// stable toolchain, the only one here, accept them.
fn fuzz(root: &Path, seconds: u32) -> Result<()> {
    if Command::new(cargo()).args(["fuzz", "--version"]).output().map_or(true, |o| !o.status.success()) {
        run(Command::new(cargo()).args(["install", "cargo-fuzz", "--locked"]))?;
    }
    for (target, seeds) in FUZZ_TARGETS {
        let corpus = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        for seed in *seeds {
            let from = root.join(seed);
            std::fs::copy(&from, corpus.join(from.file_name().expect("seed is a file")))?;
        }
        run(Command::new(cargo())
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "-O", target])
            .arg(&corpus)
            .args(["--", &format!("-max_total_time={seconds}"), "-rss_limit_mb=2048"]))?;
    }
    Ok(())
}
