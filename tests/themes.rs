//! `segno themes` on the bundled scores: three recordings rendered on another piano than the
//! reference's, one theme, as a user would run it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use segno::audio::write_wav;
use segno::render::{render_score, RenderOptions};
use segno::score::Score;

fn segno(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segno"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The three bundled scores rendered into `dir`, the minuet after two seconds of silence.
fn recordings(dir: &Path) -> Vec<PathBuf> {
    let font = common::performance_font();
    let root = common::root();
    [
        root.join("assets/example/minuet.musicxml"),
        root.join("assets/library/ode-to-joy.musicxml"),
        root.join("assets/library/twinkle.musicxml"),
    ]
    .iter()
    .map(|score| {
        let mut audio = render_score(
            &font,
            &Score::load(score).unwrap(),
            RenderOptions::piano(22_050),
        )
        .unwrap();
        if score.ends_with("minuet.musicxml") {
            audio.splice(0..0, std::iter::repeat_n(0.0, 44_100));
        }
        let name = score.file_stem().unwrap().to_str().unwrap();
        let wav = dir.join(format!("{name}.wav"));
        write_wav(&wav, &audio, 22_050).unwrap();
        wav
    })
    .collect()
}

/// The three recordings in `dir`/recordings, and where their chroma is to be cached.
fn recordings_and_cache(dir: &Path) -> (String, String) {
    let recs = dir.join("recordings");
    std::fs::create_dir(&recs).unwrap();
    recordings(&recs);
    let cache = dir.join("cache");
    (
        recs.to_str().unwrap().to_owned(),
        cache.to_str().unwrap().to_owned(),
    )
}

/// Rows of the ranking: (recording file name, start s, end s).
fn ranking(o: &Output) -> Vec<(String, f64, f64)> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let seconds = |clock: &str| {
        let (m, s) = clock.split_once(':').unwrap();
        m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap()
    };
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let file = Path::new(cols[cols.len() - 1]).file_name().unwrap();
            (
                file.to_string_lossy().into_owned(),
                seconds(cols[2]),
                seconds(cols[3]),
            )
        })
        .collect()
}

/// `segno themes --query QUERY --recordings DIR --cache CACHE`, ranked.
fn search(query: &str, recordings: &str, cache: &str) -> Vec<(String, f64, f64)> {
    ranking(&segno(&[
        "themes",
        "--query",
        query,
        "--recordings",
        recordings,
        "--cache",
        cache,
    ]))
}

#[test]
fn a_theme_is_found_in_the_recording_that_plays_it_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let (recs, cache) = recordings_and_cache(dir.path());
    let (recs, cache) = (recs.as_str(), cache.as_str());

    // The minuet's bars 3-4 (E5 C5 D5 E5 F#5 G5 G4 G4): 1.5 s bars at 120 qpm, after 2 s of
    // silence. With the repeats, and bars 11-12 the same, they are played from 3, 15, 27 and 39 s.
    let theme = "E5:1 C5:0.5 D5:0.5 E5:0.5 F#5:0.5 G5 G4 G4";
    let found = search(theme, recs, cache);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "minuet.wav", "{found:?}");
    let (start, end) = (found[0].1, found[0].2);
    let played = [3.0, 15.0, 27.0, 39.0].map(|t| 2.0 + t);
    assert!(
        played.iter().any(|&t| (start - t).abs() < 0.5) && (end - start - 3.0).abs() < 0.8,
        "{found:?}"
    );

    // The Ode's opening, typed an octave lower: chroma knows no octave.
    let ode = search("F#3 F#3 G3 A3 A3 G3 F#3 E3", recs, cache);
    assert_eq!(ode[0].0, "ode-to-joy.wav", "{ode:?}");
    assert!(ode[0].1 < 1.0, "{ode:?}");

    // A score as the query: its top voice.
    let twinkle = common::root().join("assets/library/twinkle.musicxml");
    let from_score = search(twinkle.to_str().unwrap(), recs, cache);
    assert_eq!(from_score[0].0, "twinkle.wav", "{from_score:?}");

    // Cached: three entries, and the same answer from them.
    assert_eq!(std::fs::read_dir(cache).unwrap().count(), 3);
    let again = search(theme, recs, cache);
    assert_eq!(again, found);
}

#[test]
fn the_deep_chroma_finds_each_theme_where_it_is_played_and_is_cached_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (recs, cache) = recordings_and_cache(dir.path());
    let (recs, cache) = (recs.as_str(), cache.as_str());
    let deep = |query: &str| {
        ranking(&segno(&[
            "themes",
            "--query",
            query,
            "--recordings",
            recs,
            "--cache",
            cache,
            "--chroma",
            "deep",
        ]))
    };
    // As in the classical test above: the minuet's bars 3-4, the Ode's opening, Twinkle's score.
    let minuet = deep("E5:1 C5:0.5 D5:0.5 E5:0.5 F#5:0.5 G5 G4 G4");
    assert_eq!(minuet[0].0, "minuet.wav", "{minuet:?}");
    let played = [3.0, 15.0, 27.0, 39.0].map(|t| 2.0 + t);
    assert!(
        played.iter().any(|&t| (minuet[0].1 - t).abs() < 0.5),
        "{minuet:?}"
    );
    let ode = deep("F#3 F#3 G3 A3 A3 G3 F#3 E3");
    assert_eq!(ode[0].0, "ode-to-joy.wav", "{ode:?}");
    let twinkle = common::root().join("assets/library/twinkle.musicxml");
    let from_score = deep(twinkle.to_str().unwrap());
    assert_eq!(from_score[0].0, "twinkle.wav", "{from_score:?}");
    // The deep chroma's entries sit beside the classical ones, not in their place.
    search("F#3 F#3 G3 A3 A3 G3 F#3 E3", recs, cache);
    assert_eq!(std::fs::read_dir(cache).unwrap().count(), 6);
}

#[test]
fn a_theme_in_another_key_is_found_with_transpose_and_a_bad_file_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    recordings(dir.path());
    std::fs::write(dir.path().join("broken.wav"), b"RIFF not really").unwrap();
    let recs = dir.path().to_str().unwrap();
    // "Twinkle" a fourth higher than the bundled score's C major.
    let query = "F4 F4 C5 C5 D5 D5 C5:2 Bb4 Bb4 A4 A4 G4 G4 F4:2";
    let o = segno(&[
        "themes",
        "--query",
        query,
        "--recordings",
        recs,
        "--transpose",
        "--no-cache",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("skipped") && stderr.contains("broken.wav"),
        "{stderr}"
    );
    let found = ranking(&o);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "twinkle.wav", "{found:?}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let first = stdout.lines().nth(1).unwrap();
    assert!(first.contains("\t-5\t"), "{stdout}");
}

#[test]
fn a_bad_theme_says_which_note_and_how_to_write_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = segno(&[
        "themes",
        "--query",
        "G4 G4 H4",
        "--recordings",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("note 3") && stderr.contains("'H4'") && stderr.contains("Eb4"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_tempo_range_names_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let o = segno(&[
        "themes",
        "--query",
        "G4 G4 G4 Eb4:2",
        "--recordings",
        dir.path().to_str().unwrap(),
        "--tempo",
        "fast",
    ]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("'fast'") && stderr.contains("written or any"),
        "{stderr}"
    );
}
