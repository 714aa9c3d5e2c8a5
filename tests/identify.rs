//! `segno library` and `segno identify` on the bundled library (`assets/library/`: the minuet,
//! Ode to Joy, Twinkle), with the minuet's performance rendered on another piano than any
//! reference, as a user would run them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use segno::audio::write_wav;
use segno::render::{render_score, RenderOptions};
use segno::score::Score;

const RATE: u32 = 22_050;

fn segno(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segno"))
        .args(args)
        .env_remove("SEGNO_DATA_DIR")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `path`'s score or performance MIDI rendered on the performance piano, from `from_s` to
/// `to_s`, into `out`.
fn render(path: &Path, from_s: f64, to_s: f64, out: &Path) {
    let audio = render_score(
        &common::performance_font(),
        &Score::load(path).unwrap(),
        RenderOptions::piano(RATE),
    )
    .unwrap();
    let at = |s: f64| ((s * f64::from(RATE)) as usize).min(audio.len());
    write_wav(out, &audio[at(from_s)..at(to_s)], RATE).unwrap();
}

/// The score time the minuet's performance plays at `perf_s`, from its truth.
fn minuet_score_time(perf_s: f64) -> f64 {
    let truth = std::fs::read_to_string(common::example("minuet-performance.truth.csv")).unwrap();
    let rows: Vec<(f64, f64)> = truth
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<f64> = l.split(',').take(2).map(|x| x.parse().unwrap()).collect();
            (c[0], c[1])
        })
        .collect();
    let k = rows
        .partition_point(|r| r.1 <= perf_s)
        .clamp(1, rows.len() - 1);
    let ((s0, p0), (s1, p1)) = (rows[k - 1], rows[k]);
    s0 + (perf_s - p0) / (p1 - p0) * (s1 - s0)
}

/// Rows of `identify`'s ranking: (piece title, start clock in seconds).
fn ranking(out: &str) -> Vec<(String, f64)> {
    out.lines()
        .skip_while(|l| !l.starts_with("rank"))
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let clock = cols[2].rsplit('(').next().unwrap().trim_end_matches(')');
            let (m, s) = clock.split_once(':').unwrap();
            (
                cols[4].to_owned(),
                m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap(),
            )
        })
        .collect()
}

/// `segno identify --audio wav --library lib`'s output, by the default descriptor (the
/// cross-modal embedding: it must not have fallen back to the chroma).
fn identify(wav: &Path, lib: &str) -> String {
    identify_by(wav, lib, "crossmodal")
}

fn identify_by(wav: &Path, lib: &str, descriptor: &str) -> String {
    let o = segno(&[
        "identify",
        "--audio",
        wav.to_str().unwrap(),
        "--library",
        lib,
        "--descriptor",
        descriptor,
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("comparing by chroma"), "{err}");
    stdout(&o)
}

fn library_in(dir: &Path) -> (PathBuf, String) {
    let lib = dir.join("scores.segnolib");
    let s = lib.to_str().unwrap().to_owned();
    (lib, s)
}

#[test]
fn a_fragment_of_the_minuet_is_named_with_its_place_and_an_absent_piece_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (_, lib) = library_in(dir.path());
    let assets = common::root().join("assets/library");
    let added = stdout(&segno(&[
        "library",
        "add",
        assets.to_str().unwrap(),
        "--library",
        &lib,
    ]));
    assert!(
        added.contains("3 added") && added.contains("3 pieces"),
        "{added}"
    );
    // The embeddings' snippet index is saved with them: a query is shortlisted by it.
    let listed = stdout(&segno(&["library", "list", "--library", &lib]));
    assert!(listed.contains("snippets indexed"), "{listed}");

    let (from, to) = (20.0, 35.0);
    let fragment = dir.path().join("fragment.wav");
    render(
        &common::example("minuet-performance.mid"),
        from,
        to,
        &fragment,
    );
    let expected = minuet_score_time(from);
    for descriptor in ["crossmodal", "chroma"] {
        let out = identify_by(&fragment, &lib, descriptor);
        assert!(!out.contains("not in your library"), "{descriptor}: {out}");
        let rows = ranking(&out);
        assert_eq!(rows[0].0, "minuet", "{descriptor}: {out}");
        assert!(
            (rows[0].1 - expected).abs() < 2.0,
            "{descriptor}: starts at {} s of the score, truth {expected:.1} s\n{out}",
            rows[0].1
        );
    }

    // Twinkle taken out of the library: a recording of it is nobody's piece.
    let removed = stdout(&segno(&[
        "library",
        "remove",
        assets.join("twinkle.musicxml").to_str().unwrap(),
        "--library",
        &lib,
    ]));
    assert!(removed.contains("removed"), "{removed}");
    let listed = stdout(&segno(&["library", "list", "--library", &lib]));
    assert!(
        listed.contains("2 pieces") && listed.contains("snippets indexed"),
        "{listed}"
    );
    let twinkle = dir.path().join("twinkle.wav");
    render(&assets.join("twinkle.musicxml"), 0.0, 60.0, &twinkle);
    let out = identify(&twinkle, &lib);
    assert!(out.contains("not in your library"), "{out}");
}

#[test]
fn a_second_file_of_the_same_piece_does_not_make_it_doubtful() {
    let dir = tempfile::tempdir().unwrap();
    let (_, lib) = library_in(dir.path());
    let copy = dir.path().join("minuet-copy.musicxml");
    std::fs::copy(common::example("minuet.musicxml"), &copy).unwrap();
    let assets = common::root().join("assets/library");
    let added = stdout(&segno(&[
        "library",
        "add",
        assets.to_str().unwrap(),
        copy.to_str().unwrap(),
        "--library",
        &lib,
    ]));
    assert!(added.contains("4 pieces"), "{added}");
    let fragment = dir.path().join("fragment.wav");
    render(
        &common::example("minuet-performance.mid"),
        5.0,
        25.0,
        &fragment,
    );
    let out = identify(&fragment, &lib);
    assert!(out.starts_with("minuet"), "{out}");
}

#[test]
fn adding_again_reads_only_what_changed_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let (lib_path, lib) = library_in(dir.path());
    let scores = dir.path().join("scores");
    std::fs::create_dir(&scores).unwrap();
    for name in ["ode-to-joy.musicxml", "twinkle.musicxml"] {
        std::fs::copy(
            common::root().join("assets/library").join(name),
            scores.join(name),
        )
        .unwrap();
    }
    std::fs::write(scores.join("broken.mid"), b"MThd not really").unwrap();
    let add = || {
        segno(&[
            "library",
            "add",
            scores.to_str().unwrap(),
            "--library",
            &lib,
        ])
    };
    let first = add();
    let out = stdout(&first);
    assert!(
        out.contains("2 added") && out.contains("1 skipped"),
        "{out}"
    );
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(err.contains("broken.mid"), "{err}");
    assert!(lib_path.is_file());

    let again = stdout(&add());
    assert!(
        again.contains("0 added") && again.contains("2 unchanged"),
        "{again}"
    );

    // Embeddings another model made (the file's model id, after its header, changed) are not
    // compared with this model's query: chroma until the pieces are embedded again.
    let mut bytes = std::fs::read(&lib_path).unwrap();
    bytes[8] ^= 0xff;
    std::fs::write(&lib_path, bytes).unwrap();
    let wav = dir.path().join("ode.wav");
    render(&scores.join("ode-to-joy.musicxml"), 0.0, 10.0, &wav);
    let query = || {
        segno(&[
            "identify",
            "--audio",
            wav.to_str().unwrap(),
            "--library",
            &lib,
        ])
    };
    let stale = query();
    let err = String::from_utf8_lossy(&stale.stderr);
    assert!(
        stale.status.success() && err.contains("another version of the cross-modal model"),
        "{err}"
    );
    let embedded = stdout(&add());
    assert!(embedded.contains("2 of them newly embedded"), "{embedded}");
    let err = String::from_utf8_lossy(&query().stderr).into_owned();
    assert!(!err.contains("comparing by chroma"), "{err}");

    // A changed score is read again, a deleted one dropped.
    let ode = scores.join("ode-to-joy.musicxml");
    let text = std::fs::read_to_string(&ode).unwrap();
    std::fs::write(&ode, text + "<!-- edited -->\n").unwrap();
    std::fs::remove_file(scores.join("twinkle.musicxml")).unwrap();
    let changed = stdout(&add());
    assert!(
        changed.contains("1 updated")
            && changed.contains("1 dropped")
            && changed.contains("1 pieces"),
        "{changed}"
    );
    let list = stdout(&segno(&["library", "list", "--library", &lib]));
    assert!(
        list.contains("ode-to-joy") && !list.contains("twinkle"),
        "{list}"
    );
}

#[test]
fn a_damaged_library_file_is_named_and_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (lib_path, lib) = library_in(dir.path());
    std::fs::write(&lib_path, b"something else").unwrap();
    let o = segno(&["library", "list", "--library", &lib]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("scores.segnolib") && err.contains("not a Segno library"),
        "{err}"
    );
    assert_eq!(std::fs::read(&lib_path).unwrap(), b"something else");
}

#[test]
fn a_score_ranks_its_own_recording_first_among_others_and_skips_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings");
    std::fs::create_dir(&recordings).unwrap();
    let assets = common::root().join("assets/library");
    render(
        &common::example("minuet-performance.mid"),
        0.0,
        30.0,
        &recordings.join("take1.wav"),
    );
    for name in ["ode-to-joy", "twinkle"] {
        render(
            &assets.join(format!("{name}.musicxml")),
            0.0,
            30.0,
            &recordings.join(format!("{name}.wav")),
        );
    }
    std::fs::write(recordings.join("broken.wav"), b"RIFF not really").unwrap();
    let minuet = common::example("minuet.musicxml");
    for descriptor in ["crossmodal", "chroma"] {
        let o = segno(&[
            "identify",
            "--score",
            minuet.to_str().unwrap(),
            "--recordings",
            recordings.to_str().unwrap(),
            "--descriptor",
            descriptor,
            "--no-cache",
        ]);
        let out = stdout(&o);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("comparing by chroma"), "{err}");
        assert!(err.contains("broken.wav"), "{descriptor}: {err}");
        let first = out.lines().nth(1).unwrap_or_default();
        assert!(first.ends_with("take1.wav"), "{descriptor}: {out}");
        assert_eq!(
            out.lines().count(),
            4,
            "{descriptor}: three recordings ranked\n{out}"
        );
    }
}
