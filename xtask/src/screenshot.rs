//! `cargo xtask screenshot`: the editor under Xvfb, checked for the piece and the cursor.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::run;

/// The editor's own colours: the very file the editor paints with, so the check looks for the
/// colours of notes to come and of a following cursor as they are.
#[allow(dead_code)]
#[path = "../../plugin/src/editor/palette.rs"]
mod palette;

/// Editor size (plugin/src/editor).
const EDITOR_SIZE: &str = "900x520+0+0";

/// Runs `segno-app` under Xvfb on the example (`wav` as a simulated performance), screenshots the
/// editor mid-piece and checks that the picture shows the piece's notes and a following cursor.
pub(crate) fn screenshot(root: &Path, wav: &Path, out: &Path) -> Result<()> {
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
    let notes = colour_share(out, palette::NOTE)?;
    let cursor = colour_share(out, palette::FOLLOWING)?;
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
pub(crate) fn colour_share(image: &Path, [r, g, b]: palette::Rgb) -> Result<f64> {
    let colour = format!("rgb({r},{g},{b})");
    let o = Command::new("convert")
        .arg(image)
        .args([
            "+transparent",
            &colour,
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
