//! Bad input, hostile files and careless paths against the `segno` binary (issue 11): each
//! ends in a clear error or a warning, never a panic (exit 101), never a lost file.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn segno(args: &[&str]) -> Output {
    segno_env(args, &[])
}

fn segno_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_segno"));
    c.args(args).env_remove("SEGNO_SOUNDFONT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails, with exit 1 (not clap's 2, not a panic's 101), and says `needle`.
fn fails_saying(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    assert!(
        stderr(o).contains(needle),
        "wanted '{needle}' in: {}",
        stderr(o)
    );
}

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("segno-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tmp(name: &str) -> String {
    dir().join(name).to_str().unwrap().to_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The tiny SoundFont: loads at once, so the reference is ready in milliseconds.
fn tiny_sf2() -> PathBuf {
    common::root().join("tests/data/tiny.sf2")
}

fn score() -> PathBuf {
    common::example("minuet.musicxml")
}

fn float_wav(name: &str, rate: u32, samples: &[f32]) -> String {
    let path = tmp(name);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    samples.iter().for_each(|&x| w.write_sample(x).unwrap());
    w.finalize().unwrap();
    path
}

/// A second of a sine with NaN and infinite samples in it.
fn poisoned(rate: u32) -> Vec<f32> {
    (0..rate)
        .map(|i| match i % 1000 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            _ => (i as f32 * 0.05).sin() * 0.3,
        })
        .collect()
}

/// `segno <command>` (follow or align) of `audio` against the example, into `out`.
fn run_on(command: &str, audio: &str, out: &str) -> Output {
    let (score, sf) = (score(), tiny_sf2());
    segno(&[
        command,
        "--score",
        s(&score),
        "--audio",
        audio,
        "--out",
        out,
        "--soundfont",
        s(&sf),
        "--similarity",
        "classical",
    ])
}

fn follow(audio: &str, out: &str) -> Output {
    run_on("follow", audio, out)
}

fn align(audio: &str, out: &str) -> Output {
    run_on("align", audio, out)
}

#[test]
fn nan_and_infinite_samples_are_silence_and_said_once() {
    for rate in [44_100, 22_050] {
        let samples = poisoned(rate);
        let bad = samples.iter().filter(|x| !x.is_finite()).count();
        let wav = float_wav(&format!("nan-{rate}.wav"), rate, &samples);
        for o in [
            follow(&wav, &tmp("nan.csv")),
            align(&wav, &tmp("nan-a.csv")),
        ] {
            assert!(o.status.success(), "{}", stderr(&o));
            let err = stderr(&o);
            assert_eq!(err.matches("NaN or infinite").count(), 1, "{err}");
            assert!(err.contains(&format!(": {bad} samples")), "{err}");
        }
    }
}

#[test]
fn an_empty_or_silent_recording_is_said() {
    let empty = float_wav("empty.wav", 44_100, &[]);
    fails_saying(&follow(&empty, &tmp("e.csv")), "no audio samples");
    let all_nan = float_wav("all-nan.wav", 44_100, &[f32::NAN; 4410]);
    let o = align(&all_nan, &tmp("n.csv"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the recording is silent"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_wav_header_of_0_hz_is_refused() {
    let mut wav = std::fs::read(float_wav("rate.wav", 44_100, &[0.0; 100])).unwrap();
    wav[24..28].copy_from_slice(&0u32.to_le_bytes());
    let path = tmp("zero-hz.wav");
    std::fs::write(&path, wav).unwrap();
    fails_saying(&follow(&path, &tmp("z.csv")), "sample rate 0 Hz");
}

#[test]
fn damaged_soundfonts_are_named_and_refused() {
    let tiny = std::fs::read(tiny_sf2()).unwrap();
    let truncated = tmp("truncated.sf2");
    std::fs::write(&truncated, &tiny[..3000]).unwrap();
    let mut bad_index = tiny.clone();
    let phdr = bad_index.windows(4).position(|w| w == b"phdr").unwrap() + 8;
    bad_index[phdr + 38 + 24] = 200;
    let bad = tmp("bad-index.sf2");
    std::fs::write(&bad, bad_index).unwrap();
    for (font, needle) in [(&truncated, "truncated"), (&bad, "points to pbag 200")] {
        let o = segno(&[
            "render",
            "--score",
            s(&score()),
            "--out",
            &tmp("x.wav"),
            "--soundfont",
            font,
        ]);
        fails_saying(&o, needle);
        assert!(stderr(&o).contains(font.as_str()), "{}", stderr(&o));
    }
}

/// A standard MIDI file: one track of `events` (delta-time bytes included).
fn midi(events: &[u8]) -> Vec<u8> {
    let mut track = events.to_vec();
    track.extend([0x00, 0xFF, 0x2F, 0x00]);
    let mut f = b"MThd\0\0\0\x06\0\0\0\x01\x01\xE0MTrk".to_vec();
    f.extend((track.len() as u32).to_be_bytes());
    f.extend(track);
    f
}

fn vlq(mut v: u32) -> Vec<u8> {
    let mut out = vec![(v & 0x7f) as u8];
    v >>= 7;
    while v > 0 {
        out.insert(0, (v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out
}

fn render_score(name: &str, bytes: &[u8]) -> Output {
    let path = tmp(name);
    std::fs::write(&path, bytes).unwrap();
    let sf = tiny_sf2();
    segno(&[
        "render",
        "--score",
        &path,
        "--out",
        &tmp("big.wav"),
        "--soundfont",
        s(&sf),
    ])
}

#[test]
fn tiny_files_that_ask_for_the_whole_machine_are_refused() {
    // Tempo 0xFFFFFF (16.7 s a beat) and one note at beat `beat`.
    let slow = |beat: u32| {
        let mut events = vec![0x00, 0xFF, 0x51, 0x03, 0xFF, 0xFF, 0xFF];
        events.extend(vlq(beat * 480));
        events.extend([0x90, 60, 100, 0x60, 0x80, 60, 0]);
        midi(&events)
    };
    // The issue's file (beat 99 990: 463 hours) has too many bars already; at beat 2000 it is
    // 500 bars, but still 9.3 hours.
    fails_saying(
        &render_score("slow.mid", &slow(99_990)),
        "Segno takes at most",
    );
    fails_saying(
        &render_score("slow-2000.mid", &slow(2000)),
        "9.3 hours of music",
    );
    // One note at beat 69 905 at the default tempo: 17 477 bars.
    let mut late = vlq(69_905 * 480);
    late.extend([0x90, 60, 100, 0x60, 0x80, 60, 0]);
    fails_saying(
        &render_score("late.mid", &midi(&late)),
        "17477 played measures",
    );
    // 100 000 notes.
    let many: Vec<u8> = (0..100_000)
        .flat_map(|_| [0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0])
        .collect();
    fails_saying(&render_score("many.mid", &midi(&many)), "100000 notes");
    // <sound tempo="0.0001"/>.
    let xml = std::fs::read_to_string(score()).unwrap();
    let at = xml.find("<note>").unwrap();
    let glacial = format!("{}<sound tempo=\"0.0001\"/>{}", &xml[..at], &xml[at..]);
    fails_saying(
        &render_score("glacial.musicxml", glacial.as_bytes()),
        "hours of music",
    );
}

#[test]
fn twenty_thousand_measures_are_refused() {
    let measures: String = (1..=20_000)
        .map(|i| format!("<measure number=\"{i}\"><note><pitch><step>C</step><octave>4</octave></pitch><duration>4</duration></note></measure>"))
        .collect();
    let xml = format!(
        "<score-partwise><part-list><score-part id=\"P1\"/></part-list><part id=\"P1\">\
         <measure number=\"0\"><attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes></measure>\
         {measures}</part></score-partwise>"
    );
    fails_saying(
        &render_score("long.musicxml", xml.as_bytes()),
        "played measures",
    );
}

/// An .mxl archive holding `entries` (name, bytes), deflated.
fn mxl(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn compressed_scores_are_bounded_and_nesting_is_explained() {
    let bomb = vec![b' '; 80 << 20];
    let o = render_score("bomb.mxl", &mxl(&[("score.xml", &bomb)]));
    fails_saying(&o, "a score may take at most 64 MiB");
    let inner = mxl(&[("score.musicxml", &std::fs::read(score()).unwrap())]);
    let container =
        br#"<container><rootfiles><rootfile full-path="inner.mxl"/></rootfiles></container>"#;
    let nested = mxl(&[("META-INF/container.xml", container), ("inner.mxl", &inner)]);
    fails_saying(
        &render_score("nested.mxl", &nested),
        "an .mxl inside an .mxl",
    );
}

#[test]
fn an_output_that_names_an_input_is_refused_and_the_input_kept() {
    let score_copy = tmp("score-copy.musicxml");
    std::fs::copy(score(), &score_copy).unwrap();
    let before = std::fs::read(&score_copy).unwrap();
    let sf = tiny_sf2();
    let o = segno(&[
        "render",
        "--score",
        &score_copy,
        "--out",
        &score_copy,
        "--soundfont",
        s(&sf),
    ]);
    fails_saying(&o, "this is also the input --score");
    let audio = float_wav("keep.wav", 22_050, &poisoned(22_050));
    let audio_before = std::fs::read(&audio).unwrap();
    fails_saying(&align(&audio, &audio), "this is also the input --audio");
    fails_saying(&follow(&audio, &audio), "this is also the input --audio");
    assert_eq!(std::fs::read(&score_copy).unwrap(), before);
    assert_eq!(std::fs::read(&audio).unwrap(), audio_before);
}

#[test]
fn an_unwritable_output_or_missing_truth_is_found_before_the_work() {
    let audio = float_wav("early.wav", 22_050, &poisoned(22_050));
    let nowhere = tmp("no-such-folder/out.csv");
    for o in [align(&audio, &nowhere), follow(&audio, &nowhere)] {
        fails_saying(&o, "no-such-folder/out.csv: cannot write");
        assert!(
            !stderr(&o).contains("NaN"),
            "stopped before reading the audio: {}",
            stderr(&o)
        );
    }
    let sf = tiny_sf2();
    let o = segno(&[
        "follow",
        "--score",
        s(&score()),
        "--audio",
        &audio,
        "--out",
        &tmp("t.csv"),
        "--soundfont",
        s(&sf),
        "--truth",
        &tmp("missing-truth.csv"),
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("missing-truth.csv"), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("NaN"),
        "stopped before reading the audio: {}",
        stderr(&o)
    );
    assert!(!Path::new(&tmp("t.csv")).exists());
}

#[test]
fn arguments_out_of_range_say_their_range() {
    let sf = tiny_sf2();
    let o = segno(&[
        "render",
        "--score",
        s(&score()),
        "--out",
        &tmp("r.wav"),
        "--sample-rate",
        "8000",
        "--soundfont",
        s(&sf),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("8000 is not in 16000..=192000"),
        "{}",
        stderr(&o)
    );
    let o = segno(&[
        "follow",
        "--score",
        s(&score()),
        "--audio",
        "x.wav",
        "--block",
        "-1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("-1 is not in 1..=8192"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_soundfont_from_the_environment_names_the_variable() {
    let o = segno_env(
        &["render", "--score", s(&score()), "--out", &tmp("env.wav")],
        &[("SEGNO_SOUNDFONT", "/no/such/piano.sf2")],
    );
    fails_saying(&o, "SEGNO_SOUNDFONT=/no/such/piano.sf2: no such file");
}

/// Noise aligned to the example: `align` used to call every row `following`.
#[test]
fn align_says_when_the_recording_is_not_the_piece() {
    let mut rng = segno::rng::Rng::from_name("noise");
    let noise: Vec<f32> = (0..22_050 * 20)
        .map(|_| 0.1 * rng.normal() as f32)
        .collect();
    let wav = float_wav("noise.wav", 22_050, &noise);
    let (following, rows) = aligned_as_not_the_piece(&wav, &tmp("noise.csv"));
    assert_eq!(
        following, 0,
        "{following} of {rows} rows of noise called following"
    );
}

/// Another piece aligned to the example: the path finds the places it matches best, and its rows
/// were `following` there (100 of the ode's 908).
#[test]
fn align_calls_no_row_of_another_piece_following() {
    let ode = common::root().join("assets/library/ode-to-joy.musicxml");
    let wav = tmp("ode.wav");
    let o = segno(&[
        "render",
        "--score",
        s(&ode),
        "--out",
        &wav,
        "--soundfont",
        s(&tiny_sf2()),
        "--sample-rate",
        "22050",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (following, rows) = aligned_as_not_the_piece(&wav, &tmp("ode.csv"));
    assert_eq!(
        following, 0,
        "{following} of {rows} rows of another piece called following"
    );
}

/// Aligns `wav` to the example into `out`, expecting the warning that it is not the piece; then
/// [`following_rows`].
fn aligned_as_not_the_piece(wav: &str, out: &str) -> (usize, usize) {
    let o = align(wav, out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("matches the score poorly"),
        "{}",
        stderr(&o)
    );
    following_rows(out)
}

/// Of the rows of an `align` output, how many are `following`, and how many there are.
fn following_rows(csv: &str) -> (usize, usize) {
    let rows =
        segno::position::csv::read_positions(&std::fs::read_to_string(csv).unwrap()).unwrap();
    let following = rows
        .iter()
        .filter(|r| r.state == segno::position::FollowState::Following)
        .count();
    (following, rows.len())
}

/// Silence matched to the silence before and after the piece is no evidence that a recording is
/// the piece: before, a third of a long silent recording's rows were `following`.
#[test]
fn align_calls_no_row_of_a_silent_recording_following() {
    let silence = vec![0f32; 22_050 * 120];
    let wav = float_wav("silence.wav", 22_050, &silence);
    let out = tmp("silence.csv");
    let o = align(&wav, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let (following, rows) = following_rows(&out);
    assert_eq!(following, 0, "of {rows} rows of silence");
}

/// Score files and SoundFonts are read whole: one past its bound is refused by its size, before
/// it is read (the files here are sparse, so the test writes almost nothing).
#[test]
fn score_files_and_soundfonts_past_their_bounds_are_refused_by_size() {
    let sparse = |name: &str, len: u64| {
        let path = tmp(name);
        std::fs::File::create(&path).unwrap().set_len(len).unwrap();
        path
    };
    let score = sparse("huge.musicxml", 65 << 20);
    let o = segno(&["render", "--score", &score, "--out", &tmp("h.wav")]);
    fails_saying(
        &o,
        "the file is 65 MiB; Segno reads scores of at most 64 MiB",
    );
    let font = sparse("huge.sf2", (2 << 30) + 1);
    let o = segno(&[
        "render",
        "--score",
        s(&common::example("minuet.musicxml")),
        "--out",
        &tmp("h.wav"),
        "--soundfont",
        &font,
    ]);
    fails_saying(&o, "Segno reads SoundFonts of at most 2048 MiB");
    assert!(stderr(&o).contains("huge.sf2"), "{}", stderr(&o));
}
