//! `cargo xtask bench`: the benchmark on the dev split, Table II from its rows, the theme
//! search's and identification's tables, and the synctoolbox anchor.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Result};

use crate::test::venv;
use crate::{run, segno_binary};

pub(crate) fn bench(root: &Path, extra: &[String]) -> Result<()> {
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
    if let Some(extra) = extra.strip_prefix(&["synctoolbox".to_string()]) {
        return synctoolbox_anchor(root, &segno, &cases, &out, extra);
    }
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
    // Theme search (seed 004's retrieval): a table of its own, no Table II row.
    run(Command::new(&segno)
        .args(["eval", "--cases"])
        .arg(&cases)
        .args(["--themes", "13"])
        .args(extra)
        .arg("--markdown")
        .arg(out.join("themes.md")))?;
    // Piece identification (seed 002's Tables I and II): a table of its own.
    run(Command::new(&segno)
        .args(["eval", "--cases"])
        .arg(&cases)
        .arg("--identify")
        .args(extra)
        .arg("--markdown")
        .arg(out.join("identify.md")))?;
    synctoolbox_anchor(root, &segno, &cases, &out, extra)?;
    let table = table2(&std::fs::read_to_string(&summary)?);
    std::fs::write(out.join("table2.md"), &table)?;
    eprintln!("{table}\nwrote {}", out.join("table2.md").display());
    Ok(())
}

/// Issue 12's anchor: synctoolbox's MrMsDTW with DLNCO (PyPI, in its own environment) on the
/// very audio `segno eval` renders, into `synctoolbox.md`. On `--every 5` unless `extra` picks
/// the cases: the anchor is a Python aligner at a few times real time.
fn synctoolbox_anchor(
    root: &Path,
    segno: &Path,
    cases: &Path,
    out: &Path,
    extra: &[String],
) -> Result<()> {
    let picked = extra
        .iter()
        .any(|a| ["--every", "--only"].contains(&a.split('=').next().unwrap_or_default()));
    let dump = out.join("dump");
    let _ = std::fs::remove_dir_all(&dump);
    run(Command::new(segno)
        .args(["eval", "--cases"])
        .arg(cases)
        .args(if picked {
            &[][..]
        } else {
            &["--every", "5"][..]
        })
        .arg("--no-offline")
        .args(extra)
        .arg("--dump")
        .arg(&dump))?;
    let python = venv(
        root,
        "synctoolbox",
        &root.join("scripts/synctoolbox-requirements.txt"),
    )?;
    let script = root.join("scripts/synctoolbox_anchor.py");
    eprintln!(
        "$ {} {} {}",
        python.display(),
        script.display(),
        dump.display()
    );
    // Its table is on stdout; its warnings show as it runs.
    let table = Command::new(&python)
        .arg(&script)
        .arg(&dump)
        .stderr(Stdio::inherit())
        .output()?;
    if !table.status.success() {
        bail!("{} failed with {}", script.display(), table.status);
    }
    let file = out.join("synctoolbox.md");
    std::fs::write(&file, &table.stdout)?;
    eprintln!(
        "{}wrote {}",
        String::from_utf8_lossy(&table.stdout),
        file.display()
    );
    Ok(())
}

/// The benchmark's configurations: file name, row title, `segno eval` arguments.
const BENCH_CONFIGS: &[(&str, &str, &[&str])] = &[
    (
        "chroma",
        "DTW / OLTW on chroma (classical)",
        &[
            "--similarity",
            "chroma",
            "--follower",
            "oltw",
            "--no-refine",
        ],
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
        "frames_only",
        "Segno classical online, onsets crossed at frames only (no attack crossing)",
        &["--no-offline", "--no-attack-crossing"],
    ),
    (
        "path_only",
        "Segno classical offline, onsets where the DTW path puts them (no refinement)",
        &["--no-online", "--no-refine"],
    ),
    (
        "scnn_semitone",
        "SCNN semitone",
        &[
            "--similarity",
            "learned",
            "--model",
            "models/scnn_semitone.onnx",
        ],
    ),
    (
        "scnn_semitone_binary",
        "SCNN semitone (binary matrix)",
        &[
            "--similarity",
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
            "--similarity",
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
        &[
            "--similarity",
            "learned",
            "--model",
            "models/scnn_chroma.onnx",
        ],
    ),
    (
        "scnn_chroma_binary",
        "SCNN chroma (binary matrix)",
        &[
            "--similarity",
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
            "--similarity",
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
            "--similarity",
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
pub(crate) fn table2(csv: &str) -> String {
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
