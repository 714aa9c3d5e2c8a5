//! MusicXML (`score-partwise`, plain or compressed `.mxl`) through `roxmltree`.
//!
//! We read the written measures of every part, merge them measure by measure, expand repeats and
//! jumps with [`super::unfold`], then lay the notes out on the played timeline and merge ties there,
//! so a tie across a repeat sign joins the notes that are actually played in sequence.

use std::collections::HashMap;
use std::io::Read;

use roxmltree::{Document, Node, ParsingOptions};

use super::unfold::{played_order, Marks};
use super::{Measure, Note, ParseError, Score, TempoMap};

/// A grace note sounds this many quarter notes before its main note (a 64th).
const GRACE_BEATS: f64 = 1.0 / 16.0;
const DEFAULT_VELOCITY: u8 = 80;

#[derive(Debug, Clone)]
struct WrittenNote {
    pitch: u8,
    velocity: u8,
    offset_beats: f64,
    duration_beats: f64,
    part: usize,
    staff: u8,
    tie_start: bool,
    tie_stop: bool,
    grace: bool,
}

#[derive(Debug, Clone, Default)]
struct WrittenMeasure {
    number: String,
    length_beats: f64,
    time_signature: Option<(u8, u8)>,
    notes: Vec<WrittenNote>,
    tempos: Vec<(f64, f64)>,
    marks: Marks,
}

/// Largest decompressed MusicXML accepted from an .mxl archive: a zip bomb must not take the
/// machine's memory (a long piano score is a few MiB).
pub const MAX_MXL_ENTRY_BYTES: u64 = 64 << 20;

/// Reads a compressed MusicXML file: the root file named in `META-INF/container.xml`.
pub fn parse_mxl(bytes: &[u8]) -> Result<Score, ParseError> {
    parse(&mxl_root_file(bytes)?)
}

/// The MusicXML inside an .mxl archive (its root file), within [`MAX_MXL_ENTRY_BYTES`]: what
/// [`parse_mxl`] reads, for anything else that reads the same score (the engraver).
pub fn mxl_root_file(bytes: &[u8]) -> Result<Vec<u8>, ParseError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ParseError::new("zip container", format!("not a valid .mxl archive: {e}")))?;
    let mut read = |name: &str| -> Result<Vec<u8>, ParseError> {
        let mut f = zip
            .by_name(name)
            .map_err(|e| ParseError::new(format!("archive entry '{name}'"), e.to_string()))?;
        let place = || format!("archive entry '{name}'");
        let too_large = |size: u64| {
            ParseError::new(
                place(),
                format!(
                    "expands to {} MiB or more; a score may take at most {} MiB",
                    size >> 20,
                    MAX_MXL_ENTRY_BYTES >> 20
                ),
            )
        };
        // The size in the directory can lie; reading stops at the limit either way.
        if f.size() > MAX_MXL_ENTRY_BYTES {
            return Err(too_large(f.size()));
        }
        let mut out = Vec::new();
        (&mut f)
            .take(MAX_MXL_ENTRY_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| ParseError::new(place(), format!("cannot decompress: {e}")))?;
        if out.len() as u64 > MAX_MXL_ENTRY_BYTES {
            return Err(too_large(out.len() as u64));
        }
        if out.starts_with(b"PK\x03\x04") {
            return Err(ParseError::new(
                place(),
                "is itself a zip archive (an .mxl inside an .mxl?); unzip the outer file and open the inner one",
            ));
        }
        Ok(out)
    };
    let root = match read("META-INF/container.xml") {
        Ok(container) => rootfile_path(&container)?,
        Err(_) => first_score_entry(bytes)?,
    };
    read(&root)
}

fn rootfile_path(container: &[u8]) -> Result<String, ParseError> {
    let text = std::str::from_utf8(container)
        .map_err(|_| ParseError::new("META-INF/container.xml", "not UTF-8"))?;
    let doc = Document::parse(text)
        .map_err(|e| ParseError::new("META-INF/container.xml", e.to_string()))?;
    doc.descendants()
        .find(|n| n.has_tag_name("rootfile"))
        .and_then(|n| n.attribute("full-path"))
        .map(str::to_owned)
        .ok_or_else(|| ParseError::new("META-INF/container.xml", "no <rootfile full-path=…> entry"))
}

fn first_score_entry(bytes: &[u8]) -> Result<String, ParseError> {
    let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ParseError::new("zip container", e.to_string()))?;
    let name = zip
        .file_names()
        .find(|n| !n.starts_with("META-INF") && (n.ends_with(".xml") || n.ends_with(".musicxml")))
        .map(str::to_owned);
    name.ok_or_else(|| ParseError::new("zip container", "no MusicXML file inside the archive"))
}

pub fn parse(bytes: &[u8]) -> Result<Score, ParseError> {
    let text = decode_text(bytes)?;
    let opts = ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(&text, opts).map_err(|e| {
        let pos = e.pos();
        ParseError::new(
            format!("line {}, column {}", pos.row, pos.col),
            format!("malformed XML: {e}"),
        )
    })?;
    let root = doc.root_element();
    match root.tag_name().name() {
        "score-partwise" => {}
        "score-timewise" => return Err(ParseError::new("root element", "score-timewise MusicXML is not supported; export as partwise (the default of every notation program)")),
        other => return Err(ParseError::new("root element", format!("<{other}> is not a MusicXML score"))),
    }
    let parts: Vec<Node> = root.children().filter(|n| n.has_tag_name("part")).collect();
    if parts.is_empty() {
        return Err(ParseError::new("score", "no <part> element"));
    }
    let mut measures: Vec<WrittenMeasure> = Vec::new();
    for (part_index, part) in parts.iter().enumerate() {
        read_part(&doc, *part, part_index, &mut measures)?;
    }
    lay_out(measures)
}

/// MusicXML is UTF-8 or, from some Windows exporters, UTF-16 with a byte-order mark.
pub fn decode_text(bytes: &[u8]) -> Result<String, ParseError> {
    let utf16 = |be: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| ParseError::new("file encoding", "invalid UTF-16"))
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(false),
        [0xFE, 0xFF, ..] => utf16(true),
        [0xEF, 0xBB, 0xBF, rest @ ..] => std::str::from_utf8(rest)
            .map(str::to_owned)
            .map_err(|e| ParseError::new(format!("byte {}", e.valid_up_to() + 3), "invalid UTF-8")),
        _ => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|e| ParseError::new(format!("byte {}", e.valid_up_to()), "invalid UTF-8")),
    }
}

/// Running state while walking one part.
struct PartState {
    divisions: f64,
    velocity: u8,
    time_signature: (u8, u8),
}

fn child<'a>(n: Node<'a, 'a>, name: &str) -> Option<Node<'a, 'a>> {
    n.children().find(|c| c.has_tag_name(name))
}

fn child_text<'a>(n: Node<'a, 'a>, name: &str) -> Option<&'a str> {
    child(n, name).and_then(|c| c.text()).map(str::trim)
}

fn place(doc: &Document, n: Node, measure: &str) -> String {
    let pos = doc.text_pos_at(n.range().start);
    format!("measure {measure} (line {})", pos.row)
}

fn read_part(
    doc: &Document,
    part: Node,
    part_index: usize,
    measures: &mut Vec<WrittenMeasure>,
) -> Result<(), ParseError> {
    let mut st = PartState {
        divisions: 1.0,
        velocity: DEFAULT_VELOCITY,
        time_signature: (4, 4),
    };
    for (mi, m) in part
        .children()
        .filter(|n| n.has_tag_name("measure"))
        .enumerate()
    {
        let number = m.attribute("number").unwrap_or("").to_owned();
        if measures.len() <= mi {
            measures.push(WrittenMeasure {
                number: if number.is_empty() {
                    (mi + 1).to_string()
                } else {
                    number.clone()
                },
                ..Default::default()
            });
        }
        let wm = &mut measures[mi];
        let mut cursor = 0.0f64;
        let mut extent = 0.0f64;
        let mut last_onset = 0.0;
        let mut pending_graces: Vec<WrittenNote> = Vec::new();
        let number = wm.number.clone();
        for el in m.children().filter(Node::is_element) {
            let dur = || -> Result<f64, ParseError> {
                let text = child_text(el, "duration").unwrap_or("0");
                let d: f64 = text.parse().map_err(|_| {
                    ParseError::new(
                        place(doc, el, &number),
                        format!("<duration> '{text}' is not a number"),
                    )
                })?;
                Ok(d / st.divisions)
            };
            match el.tag_name().name() {
                "attributes" => read_attributes(doc, el, &number, &mut st, part_index == 0, wm)?,
                "backup" => cursor = (cursor - dur()?).max(0.0),
                "forward" => {
                    cursor += dur()?;
                    extent = extent.max(cursor);
                }
                "direction" => read_direction(el, cursor, &mut st, part_index == 0, wm),
                "sound" if part_index == 0 => read_sound(el, cursor, &mut st, wm),
                "barline" if part_index == 0 => read_barline(el, &mut wm.marks),
                "note" => {
                    let is_chord = child(el, "chord").is_some();
                    let grace = child(el, "grace").is_some();
                    let d = if grace { 0.0 } else { dur()? };
                    let onset = if is_chord { last_onset } else { cursor };
                    if !is_chord && !grace {
                        last_onset = cursor;
                        cursor += d;
                    }
                    extent = extent.max(cursor);
                    if child(el, "rest").is_some() || child(el, "cue").is_some() {
                        continue;
                    }
                    let Some(pitch) = read_pitch(doc, el, &number)? else {
                        continue;
                    };
                    let ties: Vec<&str> = el
                        .children()
                        .filter(|c| c.has_tag_name("tie"))
                        .filter_map(|c| c.attribute("type"))
                        .collect();
                    let note = WrittenNote {
                        pitch,
                        velocity: el
                            .attribute("dynamics")
                            .and_then(|v| v.parse::<f64>().ok())
                            .map_or(st.velocity, dynamics_to_velocity),
                        offset_beats: onset,
                        duration_beats: if grace { GRACE_BEATS } else { d },
                        part: part_index,
                        staff: child_text(el, "staff")
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(1),
                        tie_start: ties.contains(&"start"),
                        tie_stop: ties.contains(&"stop"),
                        grace,
                    };
                    if grace {
                        pending_graces.push(note);
                    } else {
                        let n = pending_graces.len();
                        for (k, mut g) in pending_graces.drain(..).enumerate() {
                            g.offset_beats = onset - (n - k) as f64 * GRACE_BEATS;
                            wm.notes.push(g);
                        }
                        wm.notes.push(note);
                    }
                }
                _ => {}
            }
        }
        wm.notes.extend(pending_graces);
        let sig = wm.time_signature.unwrap_or(st.time_signature);
        let nominal = f64::from(sig.0) * 4.0 / f64::from(sig.1.max(1));
        // A bar is as long as its content, as MusicXML has it: a pickup or the short bar before
        // a repeat is short whether or not it is marked `implicit` (many files, ASAP's among
        // them, do not mark it). Only an empty bar takes its signature's length.
        let length = if extent > 0.0 { extent } else { nominal };
        wm.length_beats = wm.length_beats.max(length);
        if wm.time_signature.is_none() {
            wm.time_signature = Some(st.time_signature);
        }
    }
    Ok(())
}

fn read_attributes(
    doc: &Document,
    el: Node,
    number: &str,
    st: &mut PartState,
    first_part: bool,
    wm: &mut WrittenMeasure,
) -> Result<(), ParseError> {
    if let Some(d) = child_text(el, "divisions") {
        st.divisions = d.parse::<f64>().ok().filter(|d| *d > 0.0).ok_or_else(|| {
            ParseError::new(
                place(doc, el, number),
                format!("<divisions> '{d}' must be a positive number"),
            )
        })?;
    }
    if let Some(time) = child(el, "time") {
        let beats: u32 = child_text(time, "beats")
            .unwrap_or("4")
            .split('+')
            .filter_map(|b| b.trim().parse::<u32>().ok())
            .sum();
        let unit: u8 = child_text(time, "beat-type")
            .and_then(|b| b.parse().ok())
            .unwrap_or(4);
        st.time_signature = (u8::try_from(beats.clamp(1, 255)).unwrap_or(4), unit.max(1));
        if first_part {
            wm.time_signature = Some(st.time_signature);
        }
    }
    Ok(())
}

fn read_pitch(doc: &Document, el: Node, number: &str) -> Result<Option<u8>, ParseError> {
    let Some(p) = child(el, "pitch") else {
        return Ok(None);
    }; // unpitched percussion
    let step = child_text(p, "step").unwrap_or("");
    let base = match step {
        "C" => 0,
        "D" => 2,
        "E" => 4,
        "F" => 5,
        "G" => 7,
        "A" => 9,
        "B" => 11,
        _ => {
            return Err(ParseError::new(
                place(doc, el, number),
                format!("<step> '{step}' is not a note name A–G"),
            ))
        }
    };
    let alter: f64 = child_text(p, "alter")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0.0);
    let octave: i32 = child_text(p, "octave")
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| ParseError::new(place(doc, el, number), "note without a valid <octave>"))?;
    let midi = (octave + 1) * 12 + base + alter.round() as i32;
    u8::try_from(midi)
        .ok()
        .filter(|m| *m < 128)
        .map(Some)
        .ok_or_else(|| {
            ParseError::new(
                place(doc, el, number),
                format!("pitch {step}{octave} is outside the MIDI range"),
            )
        })
}

fn dynamics_to_velocity(percent_of_forte: f64) -> u8 {
    // MusicXML: 100 = forte = MIDI velocity 90.
    (percent_of_forte * 0.9).round().clamp(1.0, 127.0) as u8
}

fn read_direction(
    el: Node,
    cursor: f64,
    st: &mut PartState,
    first_part: bool,
    wm: &mut WrittenMeasure,
) {
    for d in el.descendants() {
        match d.tag_name().name() {
            "dynamics" => {
                if let Some(mark) = d.children().find(Node::is_element) {
                    st.velocity = match mark.tag_name().name() {
                        "ppp" => 30,
                        "pp" => 42,
                        "p" => 55,
                        "mp" => 67,
                        "mf" => 80,
                        "f" | "sf" | "sfz" | "fz" => 95,
                        "ff" => 108,
                        "fff" => 120,
                        _ => st.velocity,
                    };
                }
            }
            "segno" if first_part => wm.marks.segno = true,
            "coda" if first_part => wm.marks.coda = true,
            "words" if first_part => read_jump_words(d.text().unwrap_or(""), &mut wm.marks),
            "sound" => read_sound(d, cursor, st, wm),
            _ => {}
        }
    }
}

/// Jumps written only as text, as many files exported from notation programs have them.
fn read_jump_words(text: &str, marks: &mut Marks) {
    let t = text.trim().to_ascii_lowercase();
    if t.starts_with("d.c.") || t.starts_with("da capo") {
        marks.dacapo = true;
    } else if t.starts_with("d.s.") || t.starts_with("dal segno") {
        marks.dalsegno = true;
    } else if t == "fine" {
        marks.fine = true;
    } else if t.starts_with("to coda") {
        marks.tocoda = true;
    }
}

fn read_sound(el: Node, cursor: f64, st: &mut PartState, wm: &mut WrittenMeasure) {
    if let Some(t) = el
        .attribute("tempo")
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| *t > 0.0)
    {
        wm.tempos.push((cursor, t));
    }
    if let Some(d) = el.attribute("dynamics").and_then(|t| t.parse::<f64>().ok()) {
        st.velocity = dynamics_to_velocity(d);
    }
    let m = &mut wm.marks;
    m.dacapo |= el.attribute("dacapo") == Some("yes");
    m.dalsegno |= el.attribute("dalsegno").is_some();
    m.segno |= el.attribute("segno").is_some();
    m.coda |= el.attribute("coda").is_some();
    m.tocoda |= el.attribute("tocoda").is_some();
    m.fine |= el.attribute("fine").is_some();
}

fn read_barline(el: Node, marks: &mut Marks) {
    if let Some(r) = child(el, "repeat") {
        match r.attribute("direction") {
            Some("forward") => marks.repeat_forward = true,
            Some("backward") => {
                marks.repeat_backward = Some(
                    r.attribute("times")
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(2),
                )
            }
            _ => {}
        }
    }
    if let Some(e) = child(el, "ending") {
        match e.attribute("type") {
            Some("start") => {
                let numbers = e
                    .attribute("number")
                    .unwrap_or("1")
                    .split([',', ' '])
                    .filter_map(|n| n.trim().parse().ok())
                    .collect();
                marks.ending_start = Some(numbers);
            }
            Some("stop" | "discontinue") => marks.ending_stop = true,
            _ => {}
        }
    }
    marks.segno |= child(el, "segno").is_some();
    marks.coda |= child(el, "coda").is_some();
}

/// Expands the written measures into the played timeline.
fn lay_out(written: Vec<WrittenMeasure>) -> Result<Score, ParseError> {
    let marks: Vec<Marks> = written.iter().map(|m| m.marks.clone()).collect();
    let order = played_order(&marks, |i| written[i].number.clone())?;
    let mut measures = Vec::with_capacity(order.len());
    let mut raw = Vec::new();
    let mut tempos = Vec::new();
    let mut beat = 0.0;
    for &wi in &order {
        let wm = &written[wi];
        // Negated so that a NaN length is refused too.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(beat + wm.length_beats <= super::MAX_BEATS) {
            return Err(ParseError::new(
                format!("measure {}", wm.number),
                format!(
                    "the piece runs past {} beats (a damaged <duration> or <divisions>?)",
                    super::MAX_BEATS
                ),
            ));
        }
        let index = measures.len();
        measures.push(Measure {
            number: wm.number.clone(),
            written_index: wi,
            start_beat: beat,
            length_beats: wm.length_beats,
            time_signature: wm.time_signature.unwrap_or((4, 4)),
        });
        raw.extend(wm.notes.iter().map(|n| {
            (
                index,
                WrittenNote {
                    offset_beats: (beat + n.offset_beats).max(0.0),
                    ..n.clone()
                },
            )
        }));
        tempos.extend(wm.tempos.iter().map(|&(o, q)| (beat + o, q)));
        beat += wm.length_beats;
    }
    raw.sort_by(|a, b| {
        a.1.offset_beats
            .total_cmp(&b.1.offset_beats)
            .then(a.1.pitch.cmp(&b.1.pitch))
    });
    let tempo = TempoMap::from_changes(&tempos);
    let mut notes: Vec<Note> = Vec::with_capacity(raw.len());
    // Open tie per (part, staff, pitch): index into `notes`.
    let mut open_ties: HashMap<(usize, u8, u8), usize> = HashMap::new();
    for (measure, n) in raw {
        let key = (n.part, n.staff, n.pitch);
        if n.tie_stop {
            if let Some(&k) = open_ties.get(&key) {
                let prev = &mut notes[k];
                if (prev.onset_beats + prev.duration_beats - n.offset_beats).abs() < 1e-3 {
                    prev.duration_beats += n.duration_beats;
                    if !n.tie_start {
                        open_ties.remove(&key);
                    }
                    continue;
                }
            }
        }
        if n.tie_start {
            open_ties.insert(key, notes.len());
        }
        notes.push(Note {
            pitch: n.pitch,
            velocity: n.velocity,
            onset_beats: n.offset_beats,
            duration_beats: n.duration_beats,
            onset_s: 0.0,
            offset_s: 0.0,
            staff: Some(n.staff),
            measure,
            grace: n.grace,
        });
    }
    for n in &mut notes {
        n.onset_s = tempo.seconds_at(n.onset_beats);
        n.offset_s = tempo.seconds_at(n.onset_beats + n.duration_beats);
    }
    Ok(Score {
        notes,
        tempo,
        measures,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Two written measures of 3/4 at 60 qpm, two staves, a chord, a tie across the bar, a grace
    /// note, and a repeat of both bars.
    pub(crate) const SMALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">
<score-partwise version="4.0">
  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>2</divisions><time><beats>3</beats><beat-type>4</beat-type></time><staves>2</staves></attributes>
      <direction><sound tempo="60"/></direction>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration><staff>1</staff></note>
      <note><grace/><pitch><step>E</step><octave>5</octave></pitch><staff>1</staff></note>
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>2</duration><staff>1</staff></note>
      <note><pitch><step>F</step><alter>1</alter><octave>5</octave></pitch><duration>2</duration><tie type="start"/><staff>1</staff></note>
      <backup><duration>6</duration></backup>
      <note><pitch><step>C</step><octave>3</octave></pitch><duration>6</duration><staff>2</staff></note>
      <note><chord/><pitch><step>G</step><octave>3</octave></pitch><duration>6</duration><staff>2</staff></note>
    </measure>
    <measure number="2">
      <note><pitch><step>F</step><alter>1</alter><octave>5</octave></pitch><duration>2</duration><tie type="stop"/><staff>1</staff></note>
      <note><rest/><duration>4</duration><staff>1</staff></note>
      <barline location="right"><repeat direction="backward"/></barline>
    </measure>
  </part>
</score-partwise>"#;

    /// A pickup of one eighth, not marked `implicit` (as in ASAP's files), then a full 2/4 bar:
    /// the full bar starts half a beat in, not a whole bar in, and a repeat may be left there.
    #[test]
    fn a_short_bar_is_as_long_as_its_content_marked_or_not() {
        let xml = r#"<score-partwise version="4.0">
  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
  <part id="P1">
    <measure number="0">
      <attributes><divisions>2</divisions><time><beats>2</beats><beat-type>4</beat-type></time></attributes>
      <note><pitch><step>G</step><octave>4</octave></pitch><duration>1</duration></note>
    </measure>
    <measure number="1">
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration></note>
      <barline location="right"><repeat direction="backward"/></barline>
    </measure>
    <measure number="2">
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>2</duration></note>
      <forward><duration>2</duration></forward>
    </measure>
  </part>
</score-partwise>"#;
        let s = parse(xml.as_bytes()).unwrap();
        let starts: Vec<f64> = s.measures.iter().map(|m| m.start_beat).collect();
        assert_eq!(starts, [0.0, 0.5, 2.5, 3.0, 5.0]);
        assert_eq!(s.measures[4].length_beats, 2.0, "a <forward> fills its bar");
        let b = s.branches();
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!(
            (b[0].from_s, b[0].to_s),
            (s.tempo.seconds_at(2.5), s.tempo.seconds_at(5.0))
        );
    }

    /// |: 1 2 [1. 3 :| [2. 4 played 1 2 3 1 2 4 (2/4, one quarter a second): a pianist who does
    /// not repeat goes from 2 straight to the second ending (2 s → 10 s), and one who plays the
    /// first ending and goes on leaves it for the second (6 s → 10 s).
    #[test]
    fn a_first_ending_may_be_left_out_for_the_second() {
        let bar = |n: u32, extra: &str| {
            format!(
                r#"<measure number="{n}">{extra}<note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration></note></measure>"#
            )
        };
        let xml = format!(
            r#"<score-partwise version="4.0">
  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
  <part id="P1">{}{}{}{}</part>
</score-partwise>"#,
            bar(
                1,
                r#"<attributes><divisions>1</divisions><time><beats>2</beats><beat-type>4</beat-type></time></attributes><sound tempo="60"/><barline location="left"><repeat direction="forward"/></barline>"#
            ),
            bar(2, ""),
            bar(
                3,
                r#"<barline location="left"><ending number="1" type="start"/></barline><barline location="right"><ending number="1" type="stop"/><repeat direction="backward"/></barline>"#
            ),
            bar(
                4,
                r#"<barline location="left"><ending number="2" type="start"/></barline><barline location="right"><ending number="2" type="stop"/></barline>"#
            ),
        );
        let s = parse(xml.as_bytes()).unwrap();
        let numbers: Vec<&str> = s.measures.iter().map(|m| m.number.as_str()).collect();
        assert_eq!(numbers, ["1", "2", "3", "1", "2", "4"]);
        let b: Vec<(f64, f64)> = s.branches().iter().map(|b| (b.from_s, b.to_s)).collect();
        assert_eq!(b, [(4.0, 10.0), (6.0, 10.0)]);
    }

    #[test]
    fn reads_notes_chords_ties_graces_and_repeats() {
        let s = parse(SMALL.as_bytes()).unwrap();
        assert_eq!(
            s.measures
                .iter()
                .map(|m| m.number.as_str())
                .collect::<Vec<_>>(),
            ["1", "2", "1", "2"]
        );
        assert_eq!(s.measures[2].start_beat, 6.0);
        // per pass: C5, grace E5, D5, F#5 (tied over the bar), C3, G3
        assert_eq!(s.notes.len(), 12);
        let fsharp: Vec<&Note> = s.notes.iter().filter(|n| n.pitch == 78).collect();
        assert_eq!(fsharp.len(), 2);
        assert_eq!(fsharp[0].duration_beats, 2.0);
        assert_eq!(fsharp[1].onset_beats, 8.0);
        let grace = s.notes.iter().find(|n| n.grace).unwrap();
        assert!((grace.onset_beats - (1.0 - GRACE_BEATS)).abs() < 1e-9);
        let chord: Vec<&Note> = s
            .notes
            .iter()
            .filter(|n| n.onset_beats == 0.0 && n.staff == Some(2))
            .collect();
        assert_eq!(chord.len(), 2);
        assert_eq!(s.notes[0].onset_s, 0.0);
        // second-pass notes keep their written measure
        let second_c5 = s.notes.iter().filter(|n| n.pitch == 72).nth(1).unwrap();
        assert_eq!(s.measures[second_c5.measure].number, "1");
        assert_eq!(second_c5.onset_s, 6.0);
    }

    #[test]
    fn malformed_xml_names_line() {
        let broken = SMALL.replace("<duration>6</duration></backup>", "<duration>6</backup>");
        let e = parse(broken.as_bytes()).unwrap_err();
        assert!(e.place.starts_with("line 13,"), "{e:?}");
    }

    #[test]
    fn bad_duration_names_measure() {
        let bad = SMALL.replace("<duration>4</duration>", "<duration>four</duration>");
        let e = parse(bad.as_bytes()).unwrap_err();
        assert!(e.place.starts_with("measure 2"), "{e:?}");
    }

    #[test]
    fn compressed_musicxml() {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let o = zip::write::SimpleFileOptions::default();
            w.start_file("META-INF/container.xml", o).unwrap();
            std::io::Write::write_all(&mut w, br#"<container><rootfiles><rootfile full-path="score.xml"/></rootfiles></container>"#).unwrap();
            w.start_file("score.xml", o).unwrap();
            std::io::Write::write_all(&mut w, SMALL.as_bytes()).unwrap();
            w.finish().unwrap();
        }
        let s = parse_mxl(buf.get_ref()).unwrap();
        assert_eq!(s.notes.len(), 12);
    }
}
