//! "What am I playing?" through the plugin: what the editor's button does
//! (`SessionField::identify`) names the bundled minuet from its performance on another piano,
//! and following the piece proposed loads it at the place the pianist was found.

mod common;

use std::time::{Duration, Instant};

use segno::eval::metrics::truth_score_at;
use segno::identify::crossmodal::CrossModal;
use segno::identify::listen::{FIRST_LOOK_S, LOOK_EVERY_S};
use segno::identify::{Descriptor, Library};
use segno::live::Identifying;
use segno::nn::Device;
use segno::resources::Resources;
use segno_plugin::Segno;

use common::host::{activate, process_block, Host};

const RATE: u32 = 44_100;
const HEARD_S: f64 = 20.0;

/// The bundled library (`assets/library/`: the minuet, Ode to Joy, Twinkle), in a file of its
/// own, less the scores whose file names contain `without`.
fn bundled_library(name: &str, without: Option<&str>) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("segno-{name}-{}.segnolib", std::process::id()));
    let mut library = Library::default();
    let mut files = Library::find_scores(&[common::root().join("assets/library")]).unwrap();
    files.retain(|f| without.is_none_or(|w| !f.to_string_lossy().contains(w)));
    // As `segno library add` indexes it: with the cross-modal embeddings the button ranks by.
    let mut model = CrossModal::installed(&Resources::default(), Device::Cpu)
        .expect("the cross-modal model in models/ and ONNX Runtime (`cargo xtask setup`)");
    let report = library.add(&files, Some(&mut model), |_| {}).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    library.save(&path).unwrap();
    path
}

/// Plays `audio` to the plugin no faster than its worker takes it (nothing may be dropped).
fn play(plugin: &mut Segno, audio: &[f32]) {
    let mut host = Host::new(RATE);
    for block in audio.chunks(512) {
        process_block(plugin, &mut host, [block, block]);
        host.events.clear();
        while plugin.backlog() > RATE as usize {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The newest answer once it covers the audio up to at least `until_s`.
fn answer(plugin: &Segno, until_s: f64) -> segno::identify::listen::Identification {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match plugin.worker().status().identifying {
            Some(Identifying::Found(found)) if found.until_s >= until_s => return found,
            Some(Identifying::Failed(why)) => panic!("{why}"),
            other => assert!(Instant::now() < deadline, "no answer: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A plugin that was asked "What am I playing?" in `library` and heard the minuet's
/// performance, and its newest answer.
fn identify_the_performance(
    library: &std::path::Path,
) -> (Segno, segno::identify::listen::Identification) {
    let mut plugin = Segno::default();
    activate(&mut plugin, RATE, 512);
    plugin.session().set_library(Some(library.to_owned()));
    plugin.session().identify().unwrap();
    let mut audio = common::performance(RATE);
    audio.truncate((HEARD_S * f64::from(RATE)) as usize);
    play(&mut plugin, &audio);
    // A look is due every LOOK_EVERY_S of audio, and one due when the audio ends is still taken.
    let found = answer(&plugin, HEARD_S - LOOK_EVERY_S);
    (plugin, found)
}

#[test]
fn the_button_names_the_minuet_and_following_it_starts_where_the_pianist_is() {
    let library = bundled_library("all", None);
    let (plugin, found) = identify_the_performance(&library);
    let named = found.named().expect("the minuet is in the library");
    assert!(named.title.contains("minuet"), "{found:?}");
    assert_eq!(found.descriptor, Descriptor::CrossModal);
    assert_eq!(found.candidates.len(), 3, "the top 3 are shown");
    // Where the pianist was when the audio looked at ended.
    let truth =
        segno::eval::cases::read_truth(&common::example("minuet-performance.truth.csv")).unwrap();
    let now = truth_score_at(&truth, found.until_s);
    assert!(
        (named.now_s - now).abs() < 3.0,
        "found at {:.1} s of the score, the pianist was at {now:.1} s",
        named.now_s
    );
    plugin.session().follow_candidate(named).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while plugin.worker().status().score_name != "minuet.musicxml"
        || plugin.worker().status().score.is_none()
    {
        assert!(Instant::now() < deadline, "the minuet did not load");
        std::thread::sleep(Duration::from_millis(20));
    }
    let session = plugin.session().get();
    assert_eq!(
        session.last_measure, named.now_measure,
        "it starts where the pianist was found"
    );
    assert!(
        plugin.worker().status().identifying.is_none(),
        "identifying stopped"
    );
    std::fs::remove_file(&library).unwrap();
}

#[test]
fn a_piece_missing_from_the_library_is_said_to_be_missing() {
    let library = bundled_library("no-minuet", Some("minuet"));
    let (_, found) = identify_the_performance(&library);
    assert_eq!(found.candidates.len(), 2);
    assert!(
        found.named().is_none(),
        "the least bad piece is proposed: {found:?}"
    );
    std::fs::remove_file(&library).unwrap();
}

#[test]
fn the_app_names_the_piece_of_a_recording_and_refines_it() {
    let library = bundled_library("app", None);
    let wav = std::env::temp_dir().join(format!("segno-identify-{}.wav", std::process::id()));
    common::write_performance(&wav, RATE, HEARD_S);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_segno-app"))
        .args(["--headless", "--identify", "--library"])
        .arg(&library)
        .arg("--input-file")
        .arg(&wav)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("at ")).collect();
    // Faster than real time, every look is still taken: the first once enough is heard, then
    // one every few seconds, however busy the machine.
    let at_s: Vec<f64> = answers
        .iter()
        .map(|a| a[3..].split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(at_s.len() >= 3, "refined as it listens: {stdout}");
    assert!((at_s[0] - FIRST_LOOK_S).abs() <= 1.0, "{stdout}");
    for pair in at_s.windows(2) {
        assert!((pair[1] - pair[0] - LOOK_EVERY_S).abs() <= 1.0, "{stdout}");
    }
    let last = answers.last().unwrap();
    assert!(
        last.contains("compared by crossmodal") && last.contains("this is minuet"),
        "{stdout}"
    );
    assert!(
        last.contains("twinkle (") && last.contains("ode-to-joy ("),
        "the top 3: {last}"
    );
    std::fs::remove_file(&library).unwrap();
    std::fs::remove_file(&wav).unwrap();
}
