//! ONNX Runtime through `segno::nn`: the real library from the `onnxruntime` wheel (installed by
//! `cargo xtask setup`) running a real model (basic-pitch's, from its wheel), and every fallback
//! this GPU-less machine can exercise: a GPU asked for, `auto`, no library at all.

use std::path::PathBuf;
use std::process::Command;

use segno::nn::{Device, Model};

fn pitch_model() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/models/basic-pitch-nmp.onnx");
    assert!(
        p.is_file(),
        "{} is missing: run `cargo xtask setup`",
        p.display()
    );
    p
}

#[test]
fn a_model_runs_on_the_cpu() {
    let mut m = Model::load(&pitch_model(), Device::Cpu)
        .expect("ONNX Runtime must load: run `cargo xtask setup`");
    assert_eq!((m.device, m.fallback.as_deref()), (Device::Cpu, None));
    // basic-pitch takes 2 s windows of 22.05 kHz audio; a 440 Hz tone lights up A4's pitch bins.
    let n = 43_844;
    let tone: Vec<f32> = (0..n)
        .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 22_050.0).sin() * 0.5)
        .collect();
    let (shape, out) = m.run(&[1, n, 1], &tone).unwrap();
    assert_eq!(shape.len(), 3, "{shape:?}");
    assert_eq!(out.len(), shape.iter().product::<usize>());
    assert!(out.iter().all(|x| x.is_finite()));
    assert!(
        out.iter().cloned().fold(0.0, f32::max) > 0.5,
        "a clear tone gives a confident activation"
    );
}

#[test]
fn an_unavailable_gpu_falls_back_to_the_cpu_and_says_why() {
    for device in [Device::Cuda, Device::TensorRt, Device::Auto] {
        let m = Model::load(&pitch_model(), device).unwrap();
        assert_eq!(m.device, Device::Cpu, "no GPU here");
        let why = m.fallback.clone().unwrap_or_default();
        assert!(
            why.contains("CPU") && (why.contains("CUDA") || why.contains("TensorRT")),
            "{device}: {why}"
        );
        assert!(m.describe().starts_with("CPU ("), "{}", m.describe());
    }
}

#[test]
fn devices_are_chosen_by_name() {
    assert_eq!("cuda".parse::<Device>().unwrap(), Device::Cuda);
    assert_eq!("CPU".parse::<Device>().unwrap(), Device::Cpu);
    let e = "gpu0".parse::<Device>().unwrap_err().to_string();
    assert!(e.contains("auto, cpu, cuda"), "{e}");
}

#[test]
fn without_the_library_segno_says_why_and_carries_on() {
    let o = Command::new(env!("CARGO_BIN_EXE_segno"))
        .args(["devices"])
        .env("SEGNO_ONNXRUNTIME", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("not available") && out.contains("classical features"),
        "{out}"
    );
    // A broken library file is refused the same way, not a crash.
    let broken = std::env::temp_dir().join(format!("segno-broken-{}.so", std::process::id()));
    std::fs::write(&broken, b"not a shared library").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_segno"))
        .args(["devices"])
        .env("SEGNO_ONNXRUNTIME", &broken)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("could not be loaded"));
}

#[test]
fn follow_uses_the_learned_model_by_default_and_falls_back_without_the_runtime() {
    let out = std::env::temp_dir().join(format!("segno-nn-follow-{}.csv", std::process::id()));
    let wav = std::env::temp_dir().join(format!("segno-nn-follow-{}.wav", std::process::id()));
    let score = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/example");
    let o = Command::new(env!("CARGO_BIN_EXE_segno"))
        .args(["render", "--score"])
        .arg(score.join("minuet-performance.mid"))
        .args([
            "--soundfont",
            segno::resources::OTHER_PIANO_SOUNDFONT,
            "--out",
        ])
        .arg(&wav)
        .output()
        .unwrap();
    assert!(o.status.success());
    for (library, expected) in [
        (
            None,
            "classical features + learned similarity (scnn_semitone, Semitone input) on CPU",
        ),
        (
            Some("/nonexistent/libonnxruntime.so"),
            "classical features (chroma + onsets): ONNX Runtime",
        ),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_segno"));
        cmd.args(["follow", "--score"])
            .arg(score.join("minuet.musicxml"))
            .arg("--audio")
            .arg(&wav)
            .arg("--out")
            .arg(&out);
        if let Some(l) = library {
            cmd.env("SEGNO_ONNXRUNTIME", l);
        }
        let o = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// Salience frames (`nn::salience`) sit on Segno's frame grid, in time and in pitch: on the
/// example minuet, the strongest semitone of a frame is a note the score sounds then, and
/// shifting the frames by a few hops or the bins by a semitone makes that clearly rarer.
#[test]
fn salience_peaks_at_the_notes_sounding_in_each_frame() {
    use segno::features::{frame_time, semitone::BANDS, SAMPLE_RATE};
    use segno::nn::salience::Salience;
    use segno::render::{load_soundfont, render_score, RenderOptions};
    use segno::resources::OTHER_PIANO_SOUNDFONT;
    use segno::score::Score;

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let score = Score::load(&root.join("assets/example/minuet-performance.mid")).unwrap();
    let font = load_soundfont(std::path::Path::new(OTHER_PIANO_SOUNDFONT))
        .expect("run `cargo xtask setup`");
    let audio = render_score(&font, &score, RenderOptions::piano(SAMPLE_RATE)).unwrap();
    let mut salience = Salience::load(&pitch_model(), Device::Cpu, 1).unwrap();
    let s = salience.frames(&audio).unwrap();
    let frames = s.len() / BANDS;
    assert_eq!(
        frames,
        1 + audio.len() / 512,
        "one salience frame per feature frame"
    );
    assert!(s.iter().all(|x| (0.0..=1.0).contains(x)));

    // Share of confident frames whose peak is a sounding note, with frames shifted by `lag` and
    // pitches by `transpose`. A frame is centred about 17 ms before its end time.
    let hits = |lag: isize, transpose: i32| {
        let (mut hit, mut total) = (0, 0);
        for k in 0..frames as isize {
            let j = k + lag;
            if j < 0 || j >= frames as isize {
                continue;
            }
            let row = &s[j as usize * BANDS..(j as usize + 1) * BANDS];
            let (peak, &value) = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap();
            if value < 0.3 {
                continue;
            }
            let t = frame_time(k as usize) - 0.017;
            let sounding = score.notes.iter().any(|n| {
                n.onset_s <= t
                    && t < n.offset_s
                    && i32::from(n.pitch) - 21 == peak as i32 + transpose
            });
            hit += usize::from(sounding);
            total += 1;
        }
        assert!(total > 100, "{total} confident frames");
        hit as f64 / total as f64
    };
    let aligned = hits(0, 0);
    eprintln!(
        "peak is a sounding note: {aligned:.3}; frames 8 hops late {:.3}, early {:.3}; a semitone off {:.3}",
        hits(8, 0),
        hits(-8, 0),
        hits(0, 1)
    );
    assert!(aligned > 0.8, "{aligned}");
    for other in [hits(8, 0), hits(-8, 0), hits(0, 1), hits(0, -1)] {
        assert!(aligned > other + 0.1, "{aligned} vs {other}");
    }
}

/// A plan loads its model once: the session that checked the model prepares the reference, then
/// follows; a second session is loaded only while both are in use at once.
#[test]
fn a_plan_lends_one_model_session_to_its_reference_and_its_follower() {
    use std::sync::Arc;

    use segno::follow::Method;
    use segno::render::load_soundfont;
    use segno::resources::{Resources, OTHER_PIANO_SOUNDFONT};
    use segno::score::Score;
    use segno::similarity::{Similarity, SimilarityPlanner, Task};

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let plan = SimilarityPlanner::new(Resources::default(), Device::Cpu)
        .plan(Similarity::Hybrid, Task::Follow(Method::default()))
        .expect("the semitone model and ONNX Runtime: run `cargo xtask setup`");
    assert_eq!(
        plan.idle_sessions(),
        1,
        "the session that checked the model"
    );
    let score = Score::load(&root.join("assets/example/minuet.musicxml")).unwrap();
    let font = load_soundfont(std::path::Path::new(OTHER_PIANO_SOUNDFONT)).unwrap();
    let reference = Arc::new(plan.reference(score, &font).unwrap());
    assert_eq!(plan.idle_sessions(), 1, "back from the reference");
    let follower = plan
        .follower(reference.clone(), 44_100, Method::default())
        .unwrap();
    assert_eq!(plan.idle_sessions(), 0, "lent to the follower");
    let second = plan.follower(reference, 44_100, Method::default()).unwrap();
    drop((follower, second));
    assert_eq!(
        plan.idle_sessions(),
        2,
        "two were in use at once, both came back"
    );
}
