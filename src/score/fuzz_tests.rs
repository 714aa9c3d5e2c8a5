//! Property tests: no input, however broken, makes a parser panic. They run with the unit tests
//! (a bounded number of cases each), on stable Rust.

use proptest::prelude::*;

use super::midi::tests::two_track_file;
use super::musicxml::tests::SMALL;
use super::{midi, musicxml};

/// A valid file with a few bytes overwritten, cut short, or both: the inputs that reach deep
/// into a parser before anything goes wrong.
fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    (
        proptest::collection::vec((0..len, any::<u8>()), 0..8),
        0..=len,
    )
        .prop_map(move |(edits, cut)| {
            let mut v = base.clone();
            for (i, b) in edits {
                v[i] = b;
            }
            v.truncate(cut.max(1));
            v
        })
}

fn mxl_of(xml: &[u8]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    w.start_file("score.xml", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut w, xml).unwrap();
    w.finish().unwrap();
    buf.into_inner()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn midi_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = midi::parse(&bytes);
        let _ = midi::read_events(&bytes);
    }

    #[test]
    fn midi_never_panics_on_damaged_files(bytes in mutated(two_track_file())) {
        let _ = midi::parse(&bytes);
        let _ = midi::read_events(&bytes);
    }

    #[test]
    fn musicxml_never_panics_on_damaged_files(bytes in mutated(SMALL.as_bytes().to_vec())) {
        let _ = musicxml::parse(&bytes);
    }

    #[test]
    fn musicxml_never_panics_on_random_text(text in "\\PC{0,400}") {
        let _ = musicxml::parse(text.as_bytes());
    }

    #[test]
    fn mxl_never_panics_on_damaged_archives(bytes in mutated(mxl_of(SMALL.as_bytes()))) {
        let _ = musicxml::parse_mxl(&bytes);
    }
}

/// Values that are well-formed XML but musically absurd are errors or empty scores, not panics.
#[test]
fn absurd_values_are_handled() {
    for (from, to) in [
        ("<divisions>2</divisions>", "<divisions>0</divisions>"),
        ("<divisions>2</divisions>", "<divisions>-3</divisions>"),
        ("<octave>5</octave>", "<octave>99</octave>"),
        ("<duration>2</duration>", "<duration>1e300</duration>"),
        ("<duration>2</duration>", "<duration>NaN</duration>"),
        ("<beats>3</beats>", "<beats>0</beats>"),
        ("<beat-type>4</beat-type>", "<beat-type>0</beat-type>"),
        (
            "<repeat direction=\"backward\"/>",
            "<repeat direction=\"backward\" times=\"100000\"/>",
        ),
        ("<sound tempo=\"60\"/>", "<sound tempo=\"0\"/>"),
    ] {
        let xml = SMALL.replacen(from, to, 1);
        assert_ne!(xml, SMALL, "fixture lacks {from}");
        let _ = musicxml::parse(xml.as_bytes());
    }
}

/// A note at the end of a 2^28-tick gap must be refused, not laid out in millions of bars.
#[test]
fn huge_times_are_refused() {
    let mut f = b"MThd\0\0\0\x06\0\x00\0\x01\0\x01".to_vec();
    let track = [
        0x00, 0x90, 60, 80, 0xff, 0xff, 0xff, 0x7f, 0x80, 60, 0, 0x00, 0xff, 0x2f, 0x00,
    ];
    f.extend_from_slice(b"MTrk");
    f.extend_from_slice(&(track.len() as u32).to_be_bytes());
    f.extend_from_slice(&track);
    let e = midi::parse(&f).unwrap_err();
    assert!(e.message.contains("beats"), "{e:?}");
}
