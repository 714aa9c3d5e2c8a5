//! `cargo xtask <command>`: set-up, the bundled example, tests and benchmarks.
//!
//! This crate uses nothing but the standard library and `anyhow`, so it builds on a machine that
//! has none of the system packages Segno needs: installing them is its first job.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Debian/Ubuntu packages: two General MIDI SoundFonts (the reference and the benchmark's
/// "other piano"), ALSA headers for microphone input, JACK headers for the standalone app.
const APT_PACKAGES: &[&str] = &[
    "fluid-soundfont-gm",
    "timgm6mb-soundfont",
    "libasound2-dev",
    "libjack-jackd2-dev",
    "pkg-config",
];

/// What the tests need beyond that: a headless X server, OpenGL in software and ImageMagick for
/// the editor screenshot, a JACK server for the MIDI clock loopback, Python's venv for the VST3 host.
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "libgl1-mesa-dri",
    "imagemagick",
    "jackd2",
    "python3-venv",
];

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup     install the system packages Segno needs (apt; asks for sudo when not root)
  example   follow the bundled example performance and print its accuracy
  test      run every test: unit and integration tests, the plugin's audio-thread test (debug
            build), the bundles in real hosts (pedalboard VST3, a clack-host CLAP host), the
            standalone app's OSC and MIDI output, and the editor screenshot
  bench     run the benchmark on ../shared/benchmark/dev and write target/bench/*.md
            (extra arguments go to `segno eval`, e.g. `cargo xtask bench --every 5`)
  bundle segno-plugin --release
            build the CLAP and VST3 bundles into target/bundled/
  models [INPUT..]
            retrain the learned-similarity models from scratch (all, or those on the named
            inputs: semitone, chroma, salience): training data from ../shared/benchmark/train,
            PyTorch (CPU) in target/trainenv, ONNX + model cards in models/
  screenshot [FILE]
            render the editor under Xvfb following the example (default target/screenshot/editor.png)
            and check that it shows the piece
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
            test(&root)
        }
        Some("screenshot") => {
            setup()?;
            install(TEST_PACKAGES)?;
            let out = args
                .get(1)
                .map_or_else(|| root.join("target/screenshot/editor.png"), PathBuf::from);
            bundle()?;
            screenshot(&root, &performance_wav(&root)?, &out)
        }
        Some("bench") => {
            setup()?;
            bench(&root, &args[1..])
        }
        Some("bundle") => {
            setup()?;
            nice_plug_xtask::main_with_args("cargo xtask", args.iter().cloned())?;
            finish_bundles(&root)
        }
        Some("models") => {
            setup()?;
            models(&root, &args[1..])
        }
        Some("fuzz") => fuzz(
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

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", format!("{cmd:?}").replace('"', ""));
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
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
    install(APT_PACKAGES)?;
    onnxruntime(&workspace_root())?;
    pitch_salience_model(&workspace_root())
}

/// basic-pitch's pretrained pitch/onset model (Apache-2.0, Spotify), the pitch-salience input of
/// the learned similarity: taken from its PyPI wheel, never committed.
fn pitch_salience_model(root: &Path) -> Result<()> {
    let dest = root.join("target/models/basic-pitch-nmp.onnx");
    if dest.exists() {
        return Ok(());
    }
    let wheels = root.join("target/wheels");
    run(Command::new("python3")
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "--dest"])
        .arg(&wheels)
        .arg("basic-pitch==0.4.0"))?;
    std::fs::create_dir_all(dest.parent().expect("has a parent"))?;
    let script = "import glob,sys,zipfile\nw=sorted(glob.glob(sys.argv[1]+'/basic_pitch-0.4.0-*.whl'))[-1]\nopen(sys.argv[2],'wb').write(zipfile.ZipFile(w).read('basic_pitch/saved_models/icassp_2022/nmp.onnx'))";
    run(Command::new("python3")
        .args(["-c", script])
        .arg(&wheels)
        .arg(&dest))
}

/// The ONNX Runtime version `ort` 2.0.0-rc.15 (api-31) targets, and the wheel it comes from.
/// `SEGNO_ONNXRUNTIME_PACKAGE=onnxruntime-gpu` takes the CUDA build instead.
const ONNXRUNTIME_VERSION: &str = "1.31.1";

/// Puts `libonnxruntime` from the PyPI wheel into target/onnxruntime/, where Segno looks for it.
fn onnxruntime(root: &Path) -> Result<()> {
    let dest = root.join("target/onnxruntime");
    let package =
        std::env::var("SEGNO_ONNXRUNTIME_PACKAGE").unwrap_or_else(|_| "onnxruntime".into());
    let stamp = dest.join(format!("{package}-{ONNXRUNTIME_VERSION}"));
    if stamp.exists() {
        return Ok(());
    }
    let wheels = root.join("target/wheels");
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
        ])
        .arg(&wheels)
        .arg(format!("{package}=={ONNXRUNTIME_VERSION}")))?;
    std::fs::create_dir_all(&dest)?;
    // The shared libraries of the wheel's onnxruntime/capi/, the unversioned name included.
    let script = r#"
import glob, os, shutil, sys, zipfile
wheels, package, version, dest = sys.argv[1:]
wheel = sorted(glob.glob(os.path.join(wheels, package.replace('-', '_') + '-' + version + '-*.whl')))[-1]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if name.startswith('onnxruntime/capi/') and (base.startswith('libonnxruntime') or base.startswith('onnxruntime.dll')) and 'pybind' not in base:
            with z.open(name) as src, open(os.path.join(dest, base), 'wb') as out:
                shutil.copyfileobj(src, out)
            if '.so.' in base and base.startswith('libonnxruntime.so'):
                shutil.copy(os.path.join(dest, base), os.path.join(dest, 'libonnxruntime.so'))
            print('  ' + base)
"#;
    eprintln!(
        "ONNX Runtime {ONNXRUNTIME_VERSION} ({package}) into {}:",
        dest.display()
    );
    run(Command::new("python3")
        .args(["-c", script.trim()])
        .arg(&wheels)
        .arg(&package)
        .arg(ONNXRUNTIME_VERSION)
        .arg(&dest))?;
    std::fs::write(stamp, "")?;
    Ok(())
}

fn install(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if Command::new("apt-get").arg("--version").output().is_err() {
        bail!("missing system packages {missing:?} and no apt-get here: install a General MIDI SoundFont (.sf2) and ALSA headers with your package manager, and set SEGNO_SOUNDFONT to the .sf2");
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
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

/// Strips the plugin binaries (release builds keep debug info for profiling; installed bundles
/// need none) and puts ONNX Runtime and the learned models beside each: inside the VST3 bundle,
/// and next to the single-file CLAP (copy them along with it).
fn finish_bundles(root: &Path) -> Result<()> {
    let bundled = root.join("target/bundled");
    let vst3_dir = bundled.join("Segno.vst3/Contents/x86_64-linux");
    for binary in [bundled.join("Segno.clap"), vst3_dir.join("Segno.so")] {
        if binary.is_file() && Command::new("strip").arg("--version").output().is_ok() {
            run(Command::new("strip").arg("--strip-debug").arg(&binary))?;
        }
    }
    let runtime: Vec<PathBuf> = std::fs::read_dir(root.join("target/onnxruntime"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime"))
                })
                .collect()
        })
        .unwrap_or_default();
    let models: Vec<PathBuf> = std::fs::read_dir(root.join("models"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    for dir in [bundled.clone(), vst3_dir] {
        if !dir.is_dir() {
            continue;
        }
        for lib in &runtime {
            std::fs::copy(lib, dir.join(lib.file_name().expect("a file")))?;
        }
        std::fs::create_dir_all(dir.join("models"))?;
        for model in &models {
            std::fs::copy(
                model,
                dir.join("models").join(model.file_name().expect("a file")),
            )?;
        }
    }
    eprintln!(
        "bundled ONNX Runtime ({} files) and {} models beside the plugins",
        runtime.len(),
        models.len()
    );
    Ok(())
}

/// Builds the CLAP and VST3 bundles (and, in the same build, `segno-app`).
fn bundle() -> Result<()> {
    run(Command::new(cargo()).args(["xtask", "bundle", "segno-plugin", "--release"]))
}

fn test(root: &Path) -> Result<()> {
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
        ])
        .env("SEGNO_BUNDLE_DIR", &bundles))?;
    let wav = performance_wav(root)?;
    vst3_host_test(root, &python, &bundles, &wav)?;
    screenshot(root, &wav, &root.join("target/screenshot/editor.png"))
}

/// A virtualenv with the test hosts' packages (pedalboard, NumPy): target/hostenv.
fn host_python(root: &Path) -> Result<PathBuf> {
    venv(
        root,
        "hostenv",
        &root.join("plugin/tests/hosts/requirements.txt"),
    )
}

/// `target/<name>`, a virtualenv with `requirements` installed; returns its python.
fn venv(root: &Path, name: &str, requirements: &Path) -> Result<PathBuf> {
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
fn vst3_host_test(root: &Path, python: &Path, bundles: &Path, wav: &Path) -> Result<()> {
    let script = root.join("plugin/tests/hosts/pedalboard_vst3.py");
    run(Command::new(python)
        .arg(script)
        .arg(bundles.join("Segno.vst3"))
        .arg(wav))
}

/// The example performance rendered with the second piano (as `cargo xtask example` does).
fn performance_wav(root: &Path) -> Result<PathBuf> {
    let segno = segno_binary(root)?;
    let out = root.join("target/example");
    std::fs::create_dir_all(&out)?;
    let wav = out.join("performance.wav");
    run(Command::new(&segno)
        .args(["render", "--score"])
        .arg(root.join("assets/example/minuet-performance.mid"))
        // segno::render::OTHER_PIANO_SOUNDFONT (xtask does not link segno)
        .args(["--soundfont", "/usr/share/sounds/sf2/TimGM6mb.sf2", "--out"])
        .arg(&wav))?;
    Ok(wav)
}

/// Editor size (plugin/src/editor) and the colours the score view paints notes to come and a
/// following cursor in.
const EDITOR_SIZE: &str = "900x520+0+0";
const NOTE_COLOR: &str = "rgb(40,96,200)";
const CURSOR_COLOR: &str = "rgb(20,150,60)";

/// Runs `segno-app` under Xvfb on the example (`wav` as a simulated performance), screenshots the
/// editor mid-piece and checks that the picture shows the piece's notes and a following cursor.
fn screenshot(root: &Path, wav: &Path, out: &Path) -> Result<()> {
    let display = ":97";
    let mut xvfb = Command::new("Xvfb")
        .args([display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .spawn()
        .context("cannot start Xvfb")?;
    std::thread::sleep(std::time::Duration::from_secs(2));
    let app = Command::new(root.join("target/release/segno-app"))
        .env("DISPLAY", display)
        .args(["--backend", "dummy", "--score"])
        .arg(root.join("assets/example/minuet.musicxml"))
        .arg("--input-file")
        .arg(wav)
        .spawn();
    let result = app.context("cannot start segno-app").and_then(|mut app| {
        // Long enough to load the score and follow well into the piece.
        std::thread::sleep(std::time::Duration::from_secs(14));
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let shot = run(Command::new("import")
            .env("DISPLAY", display)
            .args(["-window", "root", "-crop", EDITOR_SIZE])
            .arg(out));
        let _ = app.kill();
        let _ = app.wait();
        shot
    });
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    result?;
    let notes = colour_share(out, NOTE_COLOR)?;
    let cursor = colour_share(out, CURSOR_COLOR)?;
    eprintln!(
        "{}: {:.1} % note pixels, {:.2} % cursor pixels",
        out.display(),
        notes * 100.0,
        cursor * 100.0
    );
    if notes < 0.005 {
        bail!(
            "the editor screenshot {} does not show the piece (no notes drawn)",
            out.display()
        );
    }
    if cursor < 0.001 {
        bail!(
            "the editor screenshot {} shows no following cursor",
            out.display()
        );
    }
    Ok(())
}

/// The share of an image's pixels that are exactly `colour`, by ImageMagick.
fn colour_share(image: &Path, colour: &str) -> Result<f64> {
    let o = Command::new("convert")
        .arg(image)
        .args([
            "+transparent",
            colour,
            "-alpha",
            "extract",
            "-format",
            "%[fx:mean]",
            "info:",
        ])
        .output()
        .context("cannot run ImageMagick's convert")?;
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .with_context(|| {
            format!(
                "cannot measure {}: {}",
                image.display(),
                String::from_utf8_lossy(&o.stderr)
            )
        })
}

/// Input representations of the Siamese CNN variants (models/scnn_<input>.onnx).
const MODEL_INPUTS: &[&str] = &["semitone", "chroma", "salience"];

/// Rebuilds every model in models/ from the train split: data, training, export, cards.
fn models(root: &Path, only: &[String]) -> Result<()> {
    if let Some(unknown) = only.iter().find(|i| !MODEL_INPUTS.contains(&i.as_str())) {
        bail!(
            "no model on '{unknown}': choose among {}",
            MODEL_INPUTS.join(", ")
        );
    }
    let train = root.join("../shared/benchmark/train");
    if !train.is_dir() {
        bail!(
            "training data not found at {}: the models are trained on the benchmark's train split",
            train.display()
        );
    }
    let segno = segno_binary(root)?;
    let data = root.join("target/dataset");
    run(Command::new(&segno)
        .args(["dataset", "--cases"])
        .arg(&train)
        .arg("--out")
        .arg(&data)
        .args(["--every", "2"]))?;
    let python = venv(
        root,
        "trainenv",
        &root.join("models/train/requirements.txt"),
    )?;
    for input in MODEL_INPUTS
        .iter()
        .filter(|i| only.is_empty() || only.iter().any(|o| o == *i))
    {
        run(Command::new(&python)
            .current_dir(root.join("models/train"))
            .args(["train.py", "--data"])
            .arg(&data)
            .args(["--input", input, "--out"])
            .arg(root.join(format!("models/scnn_{input}.onnx"))))?;
    }
    Ok(())
}

fn segno_binary(root: &Path) -> Result<PathBuf> {
    run(Command::new(cargo()).args(["build", "--release", "--package", "segno"]))?;
    Ok(root.join("target/release/segno"))
}

/// Renders the example performance with another piano than the reference, follows it as a live
/// input would arrive, and prints the accuracy against the tempo curve it was made with.
fn example(root: &Path) -> Result<()> {
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

fn bench(root: &Path, extra: &[String]) -> Result<()> {
    let cases = root.join("../shared/benchmark/dev");
    if !cases.is_dir() {
        eprintln!(
            "benchmark data not found at {}: skipping (it is not part of the repository)",
            cases.display()
        );
        return Ok(());
    }
    let segno = segno_binary(root)?;
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    let summary = out.join("table2.csv");
    let _ = std::fs::remove_file(&summary);
    let eval = |file: &str, title: &str, args: Vec<String>| -> Result<()> {
        let mut args = args;
        if let Some(model) = args.iter().position(|a| a == "--model") {
            let path = root.join(&args[model + 1]);
            if !path.is_file() {
                eprintln!(
                    "{}: missing, skipping {title} (`cargo xtask models` trains it)",
                    path.display()
                );
                return Ok(());
            }
            args[model + 1] = path.display().to_string();
        }
        run(Command::new(&segno)
            .args(["eval", "--cases"])
            .arg(&cases)
            .args(&args)
            .args(extra)
            .arg("--markdown")
            .arg(out.join(format!("{file}.md")))
            .arg("--summary-csv")
            .arg(&summary)
            .args(["--summary-name", title]))
    };
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    for (file, title, args) in BENCH_CONFIGS {
        eval(file, title, owned(args))?;
    }
    for (file, title, args) in BENCH_CONFIGS
        .iter()
        .filter(|c| UNSEEN_PIANO_CONFIGS.contains(&c.0))
    {
        let mut args = owned(args);
        args.retain(|a| a != "--no-online");
        args.push("--no-online".into());
        args.extend(owned(&UNSEEN_PIANO));
        eval(
            &format!("unseen_{file}"),
            &format!("unseen piano: {title}"),
            args,
        )?;
    }
    let table = table2(&std::fs::read_to_string(&summary)?);
    std::fs::write(out.join("table2.md"), &table)?;
    eprintln!("{table}\nwrote {}", out.join("table2.md").display());
    Ok(())
}

/// The benchmark's configurations: file name, row title, `segno eval` arguments.
const BENCH_CONFIGS: &[(&str, &str, &[&str])] = &[
    (
        "chroma",
        "DTW / OLTW on chroma (classical)",
        &["--cost", "chroma", "--follower", "oltw"],
    ),
    (
        "oltw",
        "OLTW on chroma + onsets",
        &["--follower", "oltw", "--no-offline"],
    ),
    (
        "filter",
        "Segno classical: chroma + onsets with the position-tempo filter",
        &["--follower", "filter"],
    ),
    (
        "scnn_semitone",
        "SCNN semitone",
        &["--cost", "learned", "--model", "models/scnn_semitone.onnx"],
    ),
    (
        "scnn_semitone_binary",
        "SCNN semitone (binary matrix)",
        &[
            "--cost",
            "learned-binary",
            "--model",
            "models/scnn_semitone.onnx",
            "--no-online",
        ],
    ),
    (
        "scnn_hybrid",
        "classical + 0.3 × SCNN semitone",
        &[
            "--cost",
            "hybrid",
            "--hybrid-weight",
            "0.3",
            "--model",
            "models/scnn_semitone.onnx",
        ],
    ),
    (
        "scnn_chroma",
        "SCNN chroma",
        &["--cost", "learned", "--model", "models/scnn_chroma.onnx"],
    ),
    (
        "scnn_chroma_binary",
        "SCNN chroma (binary matrix)",
        &[
            "--cost",
            "learned-binary",
            "--model",
            "models/scnn_chroma.onnx",
            "--no-online",
        ],
    ),
    (
        "scnn_salience",
        "SCNN salience (offline only)",
        &[
            "--cost",
            "learned",
            "--model",
            "models/scnn_salience.onnx",
            "--no-online",
        ],
    ),
    (
        "scnn_salience_hybrid",
        "classical + 0.3 × SCNN salience",
        &[
            "--cost",
            "hybrid",
            "--hybrid-weight",
            "0.3",
            "--model",
            "models/scnn_salience.onnx",
            "--no-online",
        ],
    ),
];

/// The synthetic-to-real gap, by proxy (there are no real recordings here): these configurations
/// again, offline, with the performance on a piano sound no model heard as a performance in
/// training (FluidR3's electric grand, program 2).
const UNSEEN_PIANO_CONFIGS: &[&str] = &["filter", "scnn_semitone", "scnn_salience"];
const UNSEEN_PIANO: [&str; 4] = [
    "--performance-soundfont",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "--performance-program",
    "2",
];

/// Seed 000's Table II layout from the summary rows: offline and online, share within each threshold.
fn table2(csv: &str) -> String {
    let thresholds = ["25", "50", "100", "200", "300", "500", "1000"];
    let head = format!(
        "| model | {} |\n|---|{}\n",
        thresholds.map(|t| format!("<{t} ms")).join(" | "),
        "---|".repeat(thresholds.len())
    );
    let mut offline = String::new();
    let mut online = String::new();
    for line in csv.lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 2 + 2 * thresholds.len() {
            continue;
        }
        let (on, off, us) = (&f[1..8], &f[8..15], f[15]);
        if !off[0].is_empty() {
            offline += &format!("| {} | {} |\n", f[0], off.join(" | "));
        }
        if !on[0].is_empty() {
            online += &format!("| {} ({} µs/frame) | {} |\n", f[0], us, on.join(" | "));
        }
    }
    format!("#### Offline alignment (share of truth rows within, %)\n\n{head}{offline}\n#### Online following (share of truth rows reached within, %)\n\n{head}{online}")
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
