//! `cargo xtask screenshot`: the editor under Xvfb following the example, in both views.
//!
//! - **Notation** (the MusicXML minuet, page view), shot in the middle of the second pass of its
//!   first repeat: the picture must hold the engraved page (staff lines and notes, against the page
//!   as Verovio rasterised it, without cursor or shading), a following cursor, and the shaded
//!   measure where the renderer put the written measure the follower is in.
//! - **Piano roll** (a MIDI score): notes and a following cursor.
//!
//! The editor says what it shows through `SEGNO_EDITOR_REPORT` (plugin/src/editor/report.rs),
//! which also gives its frame times.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;

use crate::run;

/// The editor's own colours: the very file the editor paints with, so the check looks for the
/// colours of notes to come and of a following cursor as they are.
#[allow(dead_code)]
#[path = "../../plugin/src/editor/palette.rs"]
mod palette;

/// Editor size (plugin/src/editor), at the top left of the X screen.
const EDITOR: (u32, u32) = (900, 560);
const DISPLAY: &str = ":97";

/// The minuet's played measures: 1–8 twice, then 9–16 twice. The shot is taken in the second pass
/// of the first repeat, in its middle (measures 3 to 6), while the page shown holds the measure.
fn written_number(played: usize) -> usize {
    match played {
        0..=7 => played + 1,
        8..=15 => played - 7,
        16..=23 => played - 7,
        _ => played - 15,
    }
}
const SHOT_IN_PLAYED: [usize; 2] = [10, 13];

/// Shoots both views into `dir` and checks them.
pub(crate) fn screenshot(root: &Path, wav: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut xvfb = Command::new("Xvfb")
        .args([DISPLAY, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .spawn()
        .context("cannot start Xvfb")?;
    std::thread::sleep(Duration::from_secs(2));
    let result = notation(root, wav, dir).and_then(|()| roll(root, wav, dir));
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    result
}

fn start_app(root: &Path, score: &Path, wav: &Path, report: Option<&Path>) -> Result<Child> {
    let mut app = Command::new(root.join("target/release/segno-app"));
    app.env("DISPLAY", DISPLAY)
        .args(["--backend", "dummy", "--score"])
        .arg(score)
        .arg("--input-file")
        .arg(wav);
    if let Some(report) = report {
        app.env("SEGNO_EDITOR_REPORT", report);
    }
    app.spawn().context("cannot start segno-app")
}

fn shoot(out: &Path) -> Result<()> {
    run(Command::new("import")
        .env("DISPLAY", DISPLAY)
        .args(["-window", "root", "-crop"])
        .arg(format!("{}x{}+0+0", EDITOR.0, EDITOR.1))
        .arg(out))
}

fn notation(root: &Path, wav: &Path, dir: &Path) -> Result<()> {
    let report_path = dir.join("notation-report.json");
    let _ = std::fs::remove_file(&report_path);
    let out = dir.join("notation.png");
    let mut app = start_app(
        root,
        &root.join("assets/example/minuet.musicxml"),
        wav,
        Some(&report_path),
    )?;
    let shot = shoot_in_second_pass(&report_path, &out);
    let _ = app.kill();
    let _ = app.wait();
    let report = shot?;
    check_notation(&report, &report_path, &out)?;
    let f = &report["frame_ms"];
    let line = format!(
        "editor frame (building it, before painting): mean {:.2} ms, median {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames",
        f["mean"].as_f64().unwrap_or(f64::NAN),
        f["median"].as_f64().unwrap_or(f64::NAN),
        f["p99"].as_f64().unwrap_or(f64::NAN),
        f["max"].as_f64().unwrap_or(f64::NAN),
        report["frames"]
    );
    eprintln!("{line}");
    std::fs::write(dir.join("frame-time.txt"), line + "\n")?;
    Ok(())
}

/// Waits until the follower is in the middle of the repeat's second pass, shoots, and keeps the
/// shot if the editor showed the same measure before and after it.
fn shoot_in_second_pass(report_path: &Path, out: &Path) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let played = |r: &Value| r["shown"]["played_measure"].as_u64().map(|p| p as usize);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let Ok(before) = read_report(report_path) else {
            continue;
        };
        let in_middle = |p: &usize| (SHOT_IN_PLAYED[0]..=SHOT_IN_PLAYED[1]).contains(p);
        let on_page = |p: usize| {
            let number = written_number(p).to_string();
            before["shown"]["measures"]
                .as_array()
                .is_some_and(|ms| ms.iter().any(|m| m["number"] == number.as_str()))
        };
        let Some(p) = played(&before).filter(|p| in_middle(p) && on_page(*p)) else {
            if played(&before).is_some_and(|p| p > SHOT_IN_PLAYED[1]) {
                bail!("the follower went past the second pass of the first repeat before a steady shot could be taken");
            }
            continue;
        };
        shoot(out)?;
        std::thread::sleep(Duration::from_millis(150));
        let after = read_report(report_path)?;
        if played(&after) == Some(p) {
            return Ok(after);
        }
    }
    bail!(
        "the editor never showed the second pass of the first repeat (report: {})",
        std::fs::read_to_string(report_path).unwrap_or_else(|_| "none".into())
    )
}

fn read_report(path: &Path) -> Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

fn check_notation(report: &Value, report_path: &Path, shot: &Path) -> Result<()> {
    let shown = &report["shown"];
    let played = shown["played_measure"].as_u64().context("no place")? as usize;
    ensure!(shown["pass"] == 2, "not the second pass: {shown}");
    let number = written_number(played).to_string();
    let rect_of = |m: &Value| -> Result<[f64; 4]> {
        let r = m["rect"].as_array().context("no rect")?;
        Ok([0, 1, 2, 3].map(|i| r[i].as_f64().unwrap_or(f64::NAN)))
    };
    let measures = shown["measures"].as_array().context("no measures")?;
    let expected = measures
        .iter()
        .find(|m| m["number"] == number.as_str())
        .with_context(|| format!("measure {number} is not on the page shown: {shown}"))?;
    let expected = rect_of(expected)?;
    // The shaded measure, as drawn.
    let shade = colour_box(shot, palette::MEASURE_SHADE)?
        .context("no measure is shaded in the notation screenshot")?;
    let overlap = |r: [f64; 4]| {
        let w = (shade[2].min(r[2]) - shade[0].max(r[0])).max(0.0);
        let h = (shade[3].min(r[3]) - shade[1].max(r[1])).max(0.0);
        let area = |b: [f64; 4]| (b[2] - b[0]) * (b[3] - b[1]);
        w * h / (area(shade) + area(r) - w * h)
    };
    let best_other = measures
        .iter()
        .filter(|m| m["number"] != number.as_str())
        .filter_map(|m| rect_of(m).ok())
        .map(overlap)
        .fold(0.0, f64::max);
    eprintln!(
        "{}: shaded {:?}, measure {number} drawn at {:?} (overlap {:.2}, best other {:.2})",
        shot.display(),
        shade,
        expected,
        overlap(expected),
        best_other
    );
    ensure!(
        overlap(expected) > 0.8 && best_other < 0.2,
        "the shaded measure {shade:?} is not measure {number} where the renderer put it ({expected:?})"
    );
    // The engraved page, against Verovio's page without cursor or shading.
    let view = rect_of(&serde_json::json!({"rect": shown["view"]}))?;
    let page = shown["page"].as_u64().context("no page")?;
    let mut clean = report_path.as_os_str().to_owned();
    clean.push(format!(".page-{page}.png"));
    let drawn = Ink::of(&gray(shot, Some(view))?);
    let engraved = Ink::of(&gray(Path::new(&clean), None)?);
    eprintln!(
        "ink share {:.3} drawn, {:.3} engraved; staff-line rows {} drawn, {} engraved",
        drawn.share, engraved.share, drawn.staff_rows, engraved.staff_rows
    );
    ensure!(
        engraved.staff_rows >= 10 && engraved.share > 0.01,
        "the engraved page {} shows no staves",
        Path::new(&clean).display()
    );
    ensure!(
        drawn.staff_rows.abs_diff(engraved.staff_rows) <= 2,
        "the screenshot shows {} staff lines, the engraved page {}",
        drawn.staff_rows,
        engraved.staff_rows
    );
    ensure!(
        (0.8..1.25).contains(&(drawn.share / engraved.share)),
        "the screenshot holds {:.3} ink, the engraved page {:.3}: notes are missing or smeared",
        drawn.share,
        engraved.share
    );
    let cursor = colour_share(shot, palette::FOLLOWING)?;
    ensure!(
        cursor > 0.0003,
        "the notation screenshot shows no following cursor ({cursor})"
    );
    Ok(())
}

/// A grey image, one byte a pixel, row by row.
struct Gray {
    width: u32,
    pixels: Vec<u8>,
}

/// Ink in a page: the share of pixels darker than the measure shade, and how many rows are ink
/// across most of the width (staff lines).
struct Ink {
    share: f64,
    staff_rows: usize,
}

impl Ink {
    fn of(Gray { width, pixels }: &Gray) -> Ink {
        let ink = |p: &u8| *p < 200;
        let rows = pixels.chunks(*width as usize);
        Ink {
            share: pixels.iter().filter(|p| ink(p)).count() as f64 / pixels.len().max(1) as f64,
            staff_rows: rows
                .filter(|r| r.iter().filter(|p| ink(p)).count() * 2 > r.len())
                .count(),
        }
    }
}

/// An image (or a region `[x0, y0, x1, y1]` of it) in grey on white, by ImageMagick.
fn gray(image: &Path, region: Option<[f64; 4]>) -> Result<Gray> {
    let mut cmd = Command::new("convert");
    cmd.arg(image)
        .args(["-background", "white", "-alpha", "remove"]);
    if let Some([x0, y0, x1, y1]) = region {
        cmd.arg("-crop")
            .arg(format!("{}x{}+{}+{}", x1 - x0, y1 - y0, x0, y0))
            .arg("+repage");
    }
    let o = cmd
        .args([
            "-colorspace",
            "Gray",
            "-depth",
            "8",
            "-format",
            "%w %h\n",
            "-write",
            "info:-",
            "gray:-",
        ])
        .output()
        .context("cannot run ImageMagick's convert")?;
    let newline = o
        .stdout
        .iter()
        .position(|&b| b == b'\n')
        .context("no size")?;
    let size = String::from_utf8_lossy(&o.stdout[..newline]).to_string();
    let (w, h) = size.split_once(' ').context("no size")?;
    let (w, h): (u32, u32) = (w.parse()?, h.trim().parse()?);
    let pixels = o.stdout[newline + 1..].to_vec();
    ensure!(
        pixels.len() == (w * h) as usize,
        "cannot read {}: {}",
        image.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    Ok(Gray { width: w, pixels })
}

/// The bounding box `[x0, y0, x1, y1]` of the pixels that are exactly `colour`, if any.
fn colour_box(image: &Path, [r, g, b]: palette::Rgb) -> Result<Option<[f64; 4]>> {
    let colour = format!("rgb({r},{g},{b})");
    let o = Command::new("convert")
        .arg(image)
        .args([
            "-fill", "black", "+opaque", &colour, "-fill", "white", "-opaque", &colour,
        ])
        .args(["-format", "%@", "info:"])
        .output()
        .context("cannot run ImageMagick's convert")?;
    // WxH+X+Y of the non-black part.
    let text = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    let numbers: Vec<f64> = text
        .split(['x', '+'])
        .filter_map(|n| n.parse().ok())
        .collect();
    Ok(match numbers[..] {
        [w, h, x, y] if w > 1.0 && h > 1.0 => Some([x, y, x + w, y + h]),
        _ => None,
    })
}

fn roll(root: &Path, wav: &Path, dir: &Path) -> Result<()> {
    let out = dir.join("roll.png");
    // A MIDI score has no notation: the editor shows it as a piano roll.
    let mut app = start_app(
        root,
        &root.join("assets/example/minuet-performance.mid"),
        wav,
        None,
    )?;
    // Long enough to load the score and follow well into the piece.
    std::thread::sleep(Duration::from_secs(14));
    let shot = shoot(&out);
    let _ = app.kill();
    let _ = app.wait();
    shot?;
    let notes = colour_share(&out, palette::NOTE)?;
    let cursor = colour_share(&out, palette::FOLLOWING)?;
    eprintln!(
        "{}: {:.1} % note pixels, {:.2} % cursor pixels",
        out.display(),
        notes * 100.0,
        cursor * 100.0
    );
    ensure!(
        notes >= 0.005,
        "the piano-roll screenshot {} does not show the piece (no notes drawn)",
        out.display()
    );
    ensure!(
        cursor >= 0.001,
        "the piano-roll screenshot {} shows no following cursor",
        out.display()
    );
    Ok(())
}

/// Where `cargo xtask screenshot` writes by default.
pub(crate) fn default_dir(root: &Path) -> PathBuf {
    root.join("target/screenshot")
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
