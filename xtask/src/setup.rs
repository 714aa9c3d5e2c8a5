//! `cargo xtask setup`: the system packages, ONNX Runtime and basic-pitch's model Segno needs.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Result};

use crate::test::venv;
use crate::{run, workspace_root};

/// Debian/Ubuntu packages: three General MIDI SoundFonts (the reference, the benchmark's "other
/// piano" and a third piano for its renderings), ALSA headers for microphone input, JACK headers for the standalone app,
/// ccache, so that Verovio's C++ (the engraved notation) compiles once for every profile, and
/// Python's venv (the tools that cut basic-pitch's model, train the models and host the VST3).
const APT_PACKAGES: &[&str] = &[
    "ccache",
    "fluid-soundfont-gm",
    "timgm6mb-soundfont",
    "csound-soundfont",
    "libasound2-dev",
    "libjack-jackd2-dev",
    "pkg-config",
    "python3-venv",
];

/// What the tests need beyond that: a headless X server, OpenGL in software and ImageMagick for
/// the editor screenshot, a JACK server for the MIDI clock loopback.
pub(crate) const TEST_PACKAGES: &[&str] = &["xvfb", "libgl1-mesa-dri", "imagemagick", "jackd2"];

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

pub(crate) fn setup() -> Result<()> {
    install(APT_PACKAGES)?;
    // ccache may have just been installed.
    compiler_cache();
    onnxruntime(&workspace_root())?;
    pitch_salience_model(&workspace_root())
}

/// Compiles C and C++ (Verovio's 300 files above all) through ccache in every cargo this runs,
/// unless the caller chose compilers: the debug build of the plugin then reuses the release
/// build's objects (verovio-sys has the same settings in both profiles, see Cargo.toml), and a
/// second run reuses everything.
pub(crate) fn compiler_cache() {
    let have = Command::new("ccache").arg("--version").output().is_ok();
    for (var, compiler) in [("CC", "cc"), ("CXX", "c++")] {
        if have && std::env::var_os(var).is_none() {
            std::env::set_var(var, format!("ccache {compiler}"));
        }
    }
}

/// basic-pitch's pretrained pitch/onset model (Apache-2.0, Spotify), the pitch-salience input of
/// the learned similarity: taken from its PyPI wheel, never committed. Only its contour (salience)
/// output is kept: the note and onset heads cost a fifth of its time and Segno reads neither.
pub(crate) fn pitch_salience_model(root: &Path) -> Result<()> {
    let dest = root.join("target/models/basic-pitch-nmp.onnx");
    // Marks a model cut to its contour output (one from before the cut is cut again).
    let cut = dest.with_extension("contour-only");
    if dest.exists() && cut.exists() {
        return Ok(());
    }
    let wheels = root.join("target/wheels");
    run(Command::new("python3")
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "--dest"])
        .arg(&wheels)
        .arg("basic-pitch==0.4.0"))?;
    std::fs::create_dir_all(dest.parent().expect("has a parent"))?;
    let script = "import glob,sys,zipfile\nw=sorted(glob.glob(sys.argv[1]+'/basic_pitch-0.4.0-*.whl'))[-1]\nopen(sys.argv[2],'wb').write(zipfile.ZipFile(w).read('basic_pitch/saved_models/icassp_2022/nmp.onnx'))";
    let whole = dest.with_extension("whole.onnx");
    run(Command::new("python3")
        .args(["-c", script])
        .arg(&wheels)
        .arg(&whole))?;
    let python = venv(root, "onnxenv", &root.join("xtask/onnx-requirements.txt"))?;
    // segno::nn::salience's CONTOUR_OUTPUT.
    let script = "import sys,onnx,onnx.utils\nm=onnx.load(sys.argv[1])\nonnx.save(onnx.utils.Extractor(m).extract_model([m.graph.input[0].name],['StatefulPartitionedCall:0']),sys.argv[2])";
    run(Command::new(python)
        .args(["-c", script])
        .arg(&whole)
        .arg(&dest))?;
    std::fs::remove_file(&whole)?;
    std::fs::write(&cut, "")?;
    Ok(())
}

/// The ONNX Runtime version `ort` 2.0.0-rc.15 (api-31) targets, and the wheel it comes from.
/// `SEGNO_ONNXRUNTIME_PACKAGE=onnxruntime-gpu` takes the CUDA build instead.
const ONNXRUNTIME_VERSION: &str = "1.31.1";

/// Puts `libonnxruntime` from the PyPI wheel into target/onnxruntime/, where Segno looks for it.
pub(crate) fn onnxruntime(root: &Path) -> Result<()> {
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

pub(crate) fn install(packages: &[&str]) -> Result<()> {
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
