//! The CLAP and VST3 bundles, finished: stripped, with ONNX Runtime and the models beside them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{cargo, run};

/// Strips the plugin binaries (release builds keep debug info for profiling; installed bundles
/// need none) and puts ONNX Runtime and the learned models beside each: inside the VST3 bundle,
/// and next to the single-file CLAP (copy them along with it).
pub(crate) fn finish_bundles(root: &Path) -> Result<()> {
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
pub(crate) fn bundle() -> Result<()> {
    run(Command::new(cargo()).args(["xtask", "bundle", "segno-plugin", "--release"]))
}

/// Fails if a shipped binary (the bundles' plugin, `segno`, `segno-app`) carries the path of this
/// checkout: a release binary must find what it needs from where it is installed, not from where
/// it was built. `segno` and `segno-app` keep debug information for profiling (which names source
/// files by nature), so they are checked as they ship: stripped of it, as the bundles are. One
/// kind of occurrence is not ours and finds nothing: the panic locations of source files a
/// dependency's build script generates (`target/release/build/<crate>/out/`, jack-sys's).
pub(crate) fn check_no_build_paths(root: &Path) -> Result<()> {
    let needle = root
        .canonicalize()
        .unwrap_or_else(|_| root.to_owned())
        .to_string_lossy()
        .into_owned();
    let release = root.join("target/release");
    let stripped = root.join("target/tmp/shipped");
    std::fs::create_dir_all(&stripped)?;
    let mut checked = vec![
        root.join("target/bundled/Segno.clap"),
        root.join("target/bundled/Segno.vst3/Contents/x86_64-linux/Segno.so"),
    ];
    for name in ["segno", "segno-app"] {
        let copy = stripped.join(name);
        run(Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(&copy)
            .arg(release.join(name)))?;
        checked.push(copy);
    }
    for binary in &checked {
        let bytes =
            std::fs::read(binary).with_context(|| format!("cannot read {}", binary.display()))?;
        if compiled_in_paths(&bytes, needle.as_bytes()) > 0 {
            bail!(
                "{} contains the build machine's checkout path {needle}: something compiles it in (env!(\"CARGO_MANIFEST_DIR\")?)",
                binary.display()
            );
        }
    }
    eprintln!(
        "no build-machine path in {} shipped binaries",
        checked.len()
    );
    Ok(())
}

/// Occurrences of `checkout` in `binary` other than a dependency's generated sources.
fn compiled_in_paths(binary: &[u8], checkout: &[u8]) -> usize {
    let generated: [&[u8]; 2] = [b"/target/release/build/", b"/target/debug/build/"];
    binary
        .windows(checkout.len())
        .enumerate()
        .filter(|(_, w)| *w == checkout)
        .filter(|(at, _)| {
            let rest = &binary[at + checkout.len()..];
            !generated.iter().any(|g| rest.starts_with(g))
        })
        .count()
}
