//! The learned similarity means the same thing in training and at run time:
//! - the NumPy features of models/train (features.py) equal the Rust features on the same audio
//!   (max abs difference ≤ 1e-4);
//! - every Siamese model in models/ gives, through ONNX Runtime, the embeddings PyTorch gave at
//!   export, the dual-stack localiser the probabilities it gave, and the cross-modal pathways
//!   the embeddings they gave (and Rust and NumPy read their snippets alike);
//! - a live follower's frame-by-frame embeddings (preallocated, bound run) equal the batched ones
//!   of a reference; a salience model refuses to run live.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use segno::features::hcqt::{self, Hcqt};
use segno::features::{extract_with_semitones, Features, CHROMA_DIM, DIM, SAMPLE_RATE};
use segno::identify::crossmodal::{self, CrossModal, Pathway};
use segno::locate::dual_stack::{self, DualStack, Output};
use segno::nn::deep_chroma::{self, DeepChroma};
use segno::nn::embed::{chroma_of, Embedder, Representation};
use segno::nn::{npy, Device};
use segno::render::{render_score, RenderOptions};
use segno::score::Score;

const TOLERANCE: f32 = 1e-4;

/// The Siamese models (the learned similarity) in models/.
fn models() -> Vec<PathBuf> {
    let dir = common::root().join("models");
    let mut m: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("scnn_"))
        })
        .collect();
    m.sort();
    assert!(
        !m.is_empty(),
        "no models in {}: `cargo xtask models` trains them",
        dir.display()
    );
    m
}

/// Python with NumPy: $SEGNO_PYTHON (set by `cargo xtask test`), else python3 if it has NumPy.
fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SEGNO_PYTHON") {
        return Some(p.into());
    }
    let ok = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: no Python with NumPy (`cargo xtask test` provides one in target/hostenv)"
        );
    }
    ok.then(|| "python3".into())
}

fn example_audio(seconds: f64) -> Vec<f32> {
    let score = Score::load(&common::example("minuet-performance.mid")).unwrap();
    let mut audio = render_score(
        &common::performance_font(),
        &score,
        RenderOptions::piano(SAMPLE_RATE),
    )
    .unwrap();
    audio.truncate((seconds * f64::from(SAMPLE_RATE)) as usize);
    audio
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn rust_and_python_features_agree() {
    let Some(python) = python() else { return };
    let dir = std::env::temp_dir().join(format!("segno-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let audio = example_audio(12.0);
    npy::write(&dir.join("audio.npy"), &[audio.len()], &audio).unwrap();
    let script = "import sys, numpy as np\nsys.path.insert(0, sys.argv[1])\nimport features\ns, c = features.frames(np.load(sys.argv[2]))\nnp.save(sys.argv[3], s)\nnp.save(sys.argv[4], c)";
    let o = Command::new(&python)
        .args(["-c", script])
        .arg(common::root().join("models/train"))
        .args([
            dir.join("audio.npy"),
            dir.join("semitone.npy"),
            dir.join("chroma.npy"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let (classical, semitones) = extract_with_semitones(&audio, SAMPLE_RATE);
    let chroma = chroma_of(&classical);
    let (s_shape, py_semitones) = npy::read::<f32>(&dir.join("semitone.npy")).unwrap();
    let (c_shape, py_chroma) = npy::read::<f32>(&dir.join("chroma.npy")).unwrap();
    assert_eq!(
        (s_shape, c_shape),
        (vec![classical.len(), 88], vec![classical.len(), CHROMA_DIM])
    );
    let (ds, dc) = (
        max_abs_diff(&semitones, &py_semitones),
        max_abs_diff(&chroma, &py_chroma),
    );
    eprintln!(
        "{} frames: max |Rust − NumPy| semitone {ds:.2e}, chroma {dc:.2e}",
        classical.len()
    );
    assert!(
        ds <= TOLERANCE && dc <= TOLERANCE,
        "semitone {ds}, chroma {dc}"
    );
}

#[test]
fn rust_and_python_hcqt_agree() {
    let Some(python) = python() else { return };
    let dir = std::env::temp_dir().join(format!("segno-hcqt-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let audio = example_audio(8.0);
    npy::write(&dir.join("audio.npy"), &[audio.len()], &audio).unwrap();
    let script = "import sys, numpy as np\nsys.path.insert(0, sys.argv[1])\nimport hcqt\nnp.save(sys.argv[3], hcqt.hcqt(np.load(sys.argv[2])))";
    let o = Command::new(&python)
        .args(["-c", script])
        .arg(common::root().join("models/train"))
        .args([dir.join("audio.npy"), dir.join("hcqt.npy")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rust = Hcqt::new().frames(&audio);
    let (shape, py) = npy::read::<f32>(&dir.join("hcqt.npy")).unwrap();
    assert_eq!(
        shape,
        vec![rust.len() / hcqt::FRAME, hcqt::HARMONICS.len(), hcqt::BINS]
    );
    let d = max_abs_diff(&rust, &py);
    eprintln!("{} HCQT frames: max |Rust − NumPy| {d:.2e}", shape[0]);
    assert!(d <= TOLERANCE, "HCQT differs by {d}");
    assert!(
        py.iter().any(|&x| x > 0.1),
        "the HCQT of music is not empty"
    );
}

#[test]
fn onnx_runtime_gives_the_embeddings_pytorch_gave() {
    for model in models() {
        let stem = model.with_extension("");
        let (in_shape, input) = npy::read::<f32>(&PathBuf::from(format!(
            "{}.parity-input.npy",
            stem.display()
        )))
        .unwrap();
        let (_, expected) = npy::read::<f32>(&PathBuf::from(format!(
            "{}.parity-output.npy",
            stem.display()
        )))
        .unwrap();
        let mut m = segno::nn::Model::load(&model, Device::Cpu).unwrap();
        let (_, got) = m.run(&in_shape, &input).unwrap();
        let d = max_abs_diff(&got, &expected);
        eprintln!("{}: max |ONNX Runtime − PyTorch| {d:.2e}", model.display());
        assert!(d <= TOLERANCE, "{}: {d}", model.display());
    }
}

#[test]
fn onnx_runtime_gives_the_localiser_probabilities_pytorch_gave() {
    let model = common::root().join("models").join(dual_stack::MODEL_FILE);
    let vectors =
        |part: &str| npy::read::<f32>(&model.with_extension(format!("parity-{part}.npy"))).unwrap();
    let ((ref_shape, reference), (snip_shape, snippet), (out_shape, expected), (_, logits)) = (
        vectors("reference"),
        vectors("snippet"),
        vectors("output"),
        vectors("logits"),
    );
    assert_eq!(
        (&ref_shape[1..], &snip_shape[1..], &out_shape[1..]),
        (
            &[dual_stack::WINDOW_FRAMES, 88][..],
            &[dual_stack::SNIPPET_FRAMES, 88][..],
            &[dual_stack::MODEL_FRAMES][..]
        )
    );
    // Through the localiser's own path: windows cut from a reference, one snippet per window.
    let windows = ref_shape[0];
    let flat = Features::from_rows(88, reference);
    let starts: Vec<isize> = (0..windows)
        .map(|w| (w * dual_stack::WINDOW_FRAMES) as isize)
        .collect();
    let mut localiser = DualStack::load(&model, Device::Cpu).unwrap();
    let got = localiser
        .windows(&flat, &starts, &snippet, Output::Probabilities)
        .unwrap();
    let d = max_abs_diff(&got, &expected);
    let got_logits = localiser
        .windows(&flat, &starts, &snippet, Output::Logits)
        .unwrap();
    let dl = max_abs_diff(&got_logits, &logits);
    eprintln!(
        "{}: max |ONNX Runtime − PyTorch| {d:.2e} (probabilities), {dl:.2e} (logits)",
        model.display()
    );
    assert!(d <= TOLERANCE && dl <= TOLERANCE, "{d} {dl}");
    // Each window's probabilities sum to one.
    for w in got.chunks(dual_stack::MODEL_FRAMES) {
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
}

#[test]
fn onnx_runtime_gives_the_deep_chroma_pytorch_gave() {
    let model = common::root().join("models").join(deep_chroma::MODEL_FILE);
    let stem = model.with_extension("");
    let vectors = |what: &str| {
        npy::read::<f32>(&stem.with_file_name(format!(
            "{}.parity-{what}.npy",
            stem.file_name().unwrap().to_string_lossy()
        )))
        .unwrap()
    };
    let (in_shape, input) = vectors("input");
    let (out_shape, expected) = vectors("output");
    assert_eq!(in_shape[2..], [hcqt::HARMONICS.len(), hcqt::BINS]);
    assert_eq!(out_shape[1..], [in_shape[1], deep_chroma::OUTPUTS]);
    let mut dc = DeepChroma::load(&model, Device::Cpu, 1).unwrap();
    let got = dc.probabilities(&input).unwrap();
    let d = max_abs_diff(&got, &expected);
    eprintln!(
        "{}: {} frames, max |ORT − PyTorch| {d:.2e}",
        model.display(),
        in_shape[1]
    );
    assert!(d <= TOLERANCE, "deep chroma differs by {d}");
}

#[test]
fn live_embeddings_equal_batched_ones() {
    let audio = example_audio(6.0);
    let (classical, semitones) = extract_with_semitones(&audio, SAMPLE_RATE);
    for model in models() {
        let mut e = Embedder::load(Path::new(&model), Device::Cpu, 1).unwrap();
        let batched = e.frames_of(&audio).unwrap();
        assert_eq!((batched.dim, batched.len()), (DIM + e.dim, classical.len()));
        e.reset();
        let mut frame = Vec::new();
        if e.representation == Representation::Salience {
            let refused = e
                .extend(classical.frame(0), &[0.0; 88], &mut frame)
                .unwrap_err();
            assert!(refused.to_string().contains("offline"), "{refused}");
            continue;
        }
        for k in 0..classical.len() {
            let bands: &[f32; 88] = semitones[k * 88..(k + 1) * 88].try_into().unwrap();
            e.extend(classical.frame(k), bands, &mut frame).unwrap();
            let d = max_abs_diff(&frame, batched.frame(k));
            assert!(d <= 1e-5, "{}: frame {k} differs by {d}", model.display());
        }
    }
}

#[test]
fn onnx_runtime_gives_the_crossmodal_embeddings_pytorch_gave() {
    let dir = common::root().join("models");
    let mut model = CrossModal::load(
        &dir.join(crossmodal::AUDIO_MODEL_FILE),
        &dir.join(crossmodal::SCORE_MODEL_FILE),
        Device::Cpu,
    )
    .unwrap();
    for (pathway, file) in [
        (Pathway::Audio, crossmodal::AUDIO_MODEL_FILE),
        (Pathway::Score, crossmodal::SCORE_MODEL_FILE),
    ] {
        let stem = file.trim_end_matches(".onnx");
        let vectors =
            |what: &str| npy::read::<f32>(&dir.join(format!("{stem}.parity-{what}.npy"))).unwrap();
        let (in_shape, input) = vectors("input");
        let (_, expected) = vectors("output");
        assert_eq!(in_shape[1..], [model.rows(pathway), pathway.width()]);
        let got: Vec<f32> = model.run(pathway, &input).unwrap().concat();
        let d = max_abs_diff(&got, &expected);
        eprintln!(
            "{stem}: {} snippets, max |ORT − PyTorch| {d:.2e}",
            in_shape[0]
        );
        assert!(d <= TOLERANCE, "{stem} differs by {d}");
    }
}

#[test]
fn rust_and_python_read_crossmodal_snippets_alike() {
    let Some(python) = python() else { return };
    let dir = std::env::temp_dir().join(format!("segno-snippet-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (n, width) = (300, 5);
    let frames: Vec<f32> = (0..n * width)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
        .collect();
    npy::write(&dir.join("frames.npy"), &[n, width], &frames).unwrap();
    // At the written tempo, slower, faster, hanging over either end, and an attention's context.
    let windows = [
        (10.0, 84.0, 42),
        (37.25, 151.2, 42),
        (100.5, 58.8, 42),
        (-20.0, 84.0, 42),
        (250.0, 117.6, 42),
        (30.5, 201.6, 84),
    ];
    let script = "import sys, numpy as np\nsys.path.insert(0, sys.argv[1])\nimport features\nf = np.load(sys.argv[2])\nw = [(10.0, 84.0, 42), (37.25, 151.2, 42), (100.5, 58.8, 42), (-20.0, 84.0, 42), (250.0, 117.6, 42), (30.5, 201.6, 84)]\nnp.save(sys.argv[3], np.concatenate([features.snippet(f, a, l, r) for a, l, r in w]).astype(np.float32))";
    let o = Command::new(&python)
        .args(["-c", script])
        .arg(common::root().join("models/train"))
        .args([dir.join("frames.npy"), dir.join("snippets.npy")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, expected) = npy::read::<f32>(&dir.join("snippets.npy")).unwrap();
    let mut got = Vec::new();
    for (start, length, rows) in windows {
        crossmodal::snippet(&frames, width, (start, length), rows, &mut got);
    }
    let d = max_abs_diff(&got, &expected);
    eprintln!("{} snippets: max |Rust − NumPy| {d:.2e}", windows.len());
    assert!(d <= TOLERANCE, "snippets differ by {d}");
}
