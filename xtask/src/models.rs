//! `cargo xtask models`: retrains the learned-similarity models, the localiser, the cross-modal
//! embedding and the deep chroma from the train split.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Result};

use crate::test::venv;
use crate::{run, segno_binary};

/// Input representations of the Siamese CNN variants (models/scnn_<input>.onnx).
const MODEL_INPUTS: &[&str] = &["semitone", "chroma", "salience"];
/// Seed 001's dual-stack localiser (models/localiser.onnx).
const LOCALISER: &str = "localiser";
/// Seed 003's cross-modal embedding (models/crossmodal_{audio,score}.onnx).
const CROSSMODAL: &str = "crossmodal";
/// Seed 004's deep chroma (models/deep_chroma.onnx).
const DEEP_CHROMA: &str = "deep_chroma";

/// Rebuilds every model in models/ from the train split: data, training, export, cards.
pub(crate) fn models(root: &Path, only: &[String]) -> Result<()> {
    let known =
        |i: &str| MODEL_INPUTS.contains(&i) || [LOCALISER, CROSSMODAL, DEEP_CHROMA].contains(&i);
    if let Some(unknown) = only.iter().find(|i| !known(i)) {
        bail!(
            "no model '{unknown}': choose among {}, {LOCALISER}, {CROSSMODAL}, {DEEP_CHROMA}",
            MODEL_INPUTS.join(", ")
        );
    }
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let train = root.join("../shared/benchmark/train");
    if !train.is_dir() {
        bail!(
            "training data not found at {}: the models are trained on the benchmark's train split",
            train.display()
        );
    }
    let segno = segno_binary(root)?;
    let python = venv(
        root,
        "trainenv",
        &root.join("models/train/requirements.txt"),
    )?;
    if wanted(DEEP_CHROMA) {
        deep_chroma(root, &segno, &python, &train)?;
    }
    if !MODEL_INPUTS.iter().any(|i| wanted(i)) && !wanted(LOCALISER) && !wanted(CROSSMODAL) {
        return Ok(());
    }
    let data = root.join("target/dataset");
    run(Command::new(&segno)
        .args(["dataset", "--cases"])
        .arg(&train)
        .arg("--out")
        .arg(&data)
        .args(["--every", "2"]))?;
    for input in MODEL_INPUTS.iter().filter(|i| wanted(i)) {
        run(Command::new(&python)
            .current_dir(root.join("models/train"))
            .args(["train.py", "--data"])
            .arg(&data)
            .args(["--input", input, "--out"])
            .arg(root.join(format!("models/scnn_{input}.onnx"))))?;
    }
    if wanted(LOCALISER) {
        run(Command::new(&python)
            .current_dir(root.join("models/train"))
            .args(["train_localiser.py", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(root.join("models/localiser.onnx")))?;
    }
    if wanted(CROSSMODAL) {
        run(Command::new(&python)
            .current_dir(root.join("models/train"))
            .args(["train_crossmodal.py", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(root.join("models/crossmodal")))?;
    }
    Ok(())
}

/// Melody passages rendered from the train split (its pieces by the theme benchmark's composers
/// left out), then the training of its three networks (frame-wise cross-entropy:
/// `models/train/train_deep_chroma.py`; about 45 min on 2 cores).
fn deep_chroma(root: &Path, segno: &Path, python: &Path, train: &Path) -> Result<()> {
    let data = root.join("target/melody_dataset");
    run(Command::new(segno)
        .args(["melody-dataset", "--cases"])
        .arg(train)
        .arg("--out")
        .arg(&data)
        .args(["--every", "2"]))?;
    run(Command::new(python)
        .current_dir(root.join("models/train"))
        .args(["train_deep_chroma.py", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(root.join("models/deep_chroma.onnx"))
        // An interrupted training goes on with `--resume` (models/train/train_deep_chroma.py).
        .arg("--checkpoint")
        .arg(root.join("target/deep_chroma.checkpoint.pt")))
}
