//! The bundled minuet, engraved by the real Verovio: every note finds its head, the second pass of
//! a repeat lights the written measure of the first, and pages turn at the turn point and after
//! jumps, from positions alone.

use std::path::Path;
use std::sync::Arc;

use segno::score::Score;
use segno_notation::turn::{halves_to_show, page_to_show};
use segno_notation::{engrave, Engraving, Layout, NotationError, Timeline, TurnPoint};

const MINUET: &str = "../assets/example/minuet.musicxml";

fn layout(height: u32) -> Layout {
    Layout {
        width: 700,
        height,
        zoom_percent: 45,
        pixels_per_point: 1.0,
    }
}

/// Small pages, so that the minuet needs several.
fn minuet(height: u32) -> (Engraving, Timeline) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(MINUET);
    let bytes = std::fs::read(&path).unwrap();
    let engraving = engrave("minuet.musicxml", &bytes, layout(height)).unwrap();
    let score = Arc::new(Score::load(&path).unwrap());
    let timeline = Timeline::new(score, &engraving);
    (engraving, timeline)
}

#[test]
fn every_note_of_the_minuet_finds_its_engraved_head() {
    let (engraving, timeline) = minuet(400);
    let m = timeline.matching;
    assert_eq!((m.measures, m.measures_paired), (16, 16));
    assert_eq!(engraving.measures.len(), 16);
    assert!(m.note_share() > 0.99, "{m:?}");
    let page = &engraving.pages[0];
    assert_eq!(
        page.rgba.len(),
        (page.width_px * page.height_px * 4) as usize
    );
    let ink = page.rgba.chunks(4).filter(|p| p[3] > 128).count();
    assert!(
        ink > page.rgba.len() / 4 / 50,
        "the page has no notation on it"
    );
}

#[test]
fn the_second_pass_of_a_repeat_shows_the_written_measure_again() {
    let (engraving, timeline) = minuet(400);
    let score = timeline.score().clone();
    // The minuet plays 1–8, 1–8, 9–16, 9–16.
    let middle = |played: usize| {
        let m = &score.measures[played];
        score.tempo.seconds_at(m.start_beat + m.length_beats / 2.0)
    };
    let first = timeline.place(&engraving, middle(4)).unwrap();
    let second = timeline.place(&engraving, middle(12)).unwrap();
    assert_eq!(first.measure, 4);
    assert_eq!(second.measure, first.measure);
    assert_eq!((first.pass, second.pass), (1, 2));
    assert_eq!(second.cursor_x, first.cursor_x);
    let rect = engraving.measures[4].rect;
    assert!(rect.x0 < first.cursor_x && first.cursor_x < rect.x1);
    // In the second pass only what was played again is played; what is sounding is so too.
    let played: Vec<usize> = timeline.played(&second, middle(12)).collect();
    assert!(played.iter().all(|&n| engraving.notes[n].measure <= 4));
    assert!(played.iter().any(|&n| engraving.notes[n].measure == 0));
    let sounding: Vec<usize> = timeline.sounding(&second, middle(12)).collect();
    assert!(!sounding.is_empty() && sounding.iter().all(|n| played.contains(n)));
}

#[test]
fn pages_turn_at_the_last_system_and_at_once_after_a_jump() {
    let (engraving, timeline) = minuet(260);
    assert!(
        engraving.pages.len() >= 3,
        "{} pages",
        engraving.pages.len()
    );
    let score = timeline.score().clone();
    let end = score.duration_s();
    let mut turns = 0;
    let mut shown_before = 0;
    for step in 0..(end * 20.0) as usize {
        let t = step as f64 / 20.0;
        let Some(place) = timeline.place(&engraving, t) else {
            continue;
        };
        let shown = page_to_show(&engraving, place.system, TurnPoint::LastSystem);
        let systems = &engraving.systems;
        let last_on_page = systems
            .get(place.system + 1)
            .is_none_or(|s| s.page != place.page);
        let first_on_page = place.system == 0 || systems[place.system - 1].page != place.page;
        let ahead = last_on_page && !first_on_page && place.page + 1 < engraving.pages.len();
        assert_eq!(shown, place.page + usize::from(ahead), "at {t:.2} s");
        turns += usize::from(shown != shown_before);
        shown_before = shown;
    }
    assert!(turns >= 2, "{turns} page turns");
    // A jump from the last page back to the start shows the first page on the next frame.
    let start = timeline.place(&engraving, 0.5).unwrap();
    assert_eq!(
        page_to_show(&engraving, start.system, TurnPoint::LastSystem),
        0
    );
    assert_eq!(halves_to_show(&engraving, start.system), [0, 0]);
}

#[test]
fn scores_engrave_on_several_threads_at_once() {
    // Two plugin instances in one host engrave at the same time: Verovio must not see it.
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| minuet(400).0.measures.len()))
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 16);
    }
}

#[test]
fn a_compressed_score_engraves_as_its_musicxml_and_a_midi_file_has_no_notation() {
    use std::io::Write;
    let xml = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(MINUET)).unwrap();
    let mut mxl = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    mxl.start_file("META-INF/container.xml", options).unwrap();
    mxl.write_all(br#"<container><rootfiles><rootfile full-path="score/minuet.xml"/></rootfiles></container>"#)
        .unwrap();
    mxl.start_file("score/minuet.xml", options).unwrap();
    mxl.write_all(&xml).unwrap();
    let mxl = mxl.finish().unwrap().into_inner();
    let from_mxl = engrave("minuet.mxl", &mxl, layout(400)).unwrap();
    let from_xml = engrave("minuet.musicxml", &xml, layout(400)).unwrap();
    assert_eq!(from_mxl.measures.len(), 16);
    assert_eq!(from_mxl.pages[0].rgba, from_xml.pages[0].rgba);
    let midi = engrave("minuet.mid", b"MThd", layout(400)).unwrap_err();
    assert!(matches!(midi, NotationError::NoNotation { .. }), "{midi}");
    let broken = engrave("minuet.mxl", b"PK not a zip", layout(400)).unwrap_err();
    assert!(broken.to_string().contains("minuet.mxl"), "{broken}");
}
