//! Standard MIDI files (type 0 and 1) through `midly`.

use midly::{MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};

use super::{measures_from_time_signatures, Note, ParseError, Score, TempoMap};

/// A channel message at an absolute time, for the synthesiser.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelEvent {
    pub time_s: f64,
    pub channel: u8,
    /// Status high nibble: 0x80 note off, 0x90 note on, 0xB0 controller, 0xE0 pitch bend, …
    pub command: u8,
    pub data1: u8,
    pub data2: u8,
}

/// A MIDI file's events with absolute ticks, plus what is needed to turn ticks into time.
struct Timeline {
    ticks_per_beat: f64,
    tempo: TempoMap,
    time_signatures: Vec<(f64, (u8, u8))>,
    /// (tick, track, event)
    events: Vec<(u64, usize, MidiEventRef)>,
}

#[derive(Debug, Clone, Copy)]
struct MidiEventRef {
    channel: u8,
    message: MidiMessage,
}

/// Checks the chunk layout first, so that a truncated or damaged file is reported with a byte offset
/// (midly's own errors do not carry one).
fn check_chunks(bytes: &[u8]) -> Result<(), ParseError> {
    if bytes.len() < 14 || &bytes[0..4] != b"MThd" {
        return Err(ParseError::new(
            "byte 0",
            "not a Standard MIDI File (no 'MThd' header)",
        ));
    }
    let declared_tracks = u16::from_be_bytes([bytes[10], bytes[11]]) as usize;
    let mut pos = 8 + u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let mut tracks = 0;
    while pos < bytes.len() && tracks < declared_tracks {
        if bytes.len() < pos + 8 {
            return Err(ParseError::new(
                format!("byte {pos}"),
                "chunk header cut short: the file is truncated",
            ));
        }
        let len = u32::from_be_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        if &bytes[pos..pos + 4] == b"MTrk" {
            tracks += 1;
            if bytes.len() < pos + 8 + len {
                return Err(ParseError::new(
                    format!("byte {pos}"),
                    format!("track {tracks} declares {len} bytes but the file ends after {}: the file is truncated", bytes.len() - pos - 8),
                ));
            }
        }
        pos = pos.saturating_add(8 + len);
    }
    if tracks < declared_tracks {
        return Err(ParseError::new(
            format!("byte {}", bytes.len()),
            format!("header declares {declared_tracks} tracks but the file holds {tracks}"),
        ));
    }
    Ok(())
}

fn read_timeline(bytes: &[u8]) -> Result<Timeline, ParseError> {
    check_chunks(bytes)?;
    let smf = Smf::parse(bytes).map_err(|e| ParseError::new("file structure", e.to_string()))?;
    let ticks_per_beat = match smf.header.timing {
        Timing::Metrical(t) if t.as_int() > 0 => f64::from(t.as_int()),
        Timing::Metrical(_) => {
            return Err(ParseError::new("header", "zero ticks per quarter note"))
        }
        Timing::Timecode(..) => return Err(ParseError::new(
            "header",
            "SMPTE time division is not supported; re-export the file with metrical (PPQ) timing",
        )),
    };
    let mut tempo_changes = Vec::new();
    let mut time_signatures = Vec::new();
    let mut events = Vec::new();
    for (track_index, track) in smf.tracks.iter().enumerate() {
        let mut tick: u64 = 0;
        for ev in track {
            tick += u64::from(ev.delta.as_int());
            let beat = tick as f64 / ticks_per_beat;
            match ev.kind {
                TrackEventKind::Midi { channel, message } => events.push((
                    tick,
                    track_index,
                    MidiEventRef {
                        channel: channel.as_int(),
                        message,
                    },
                )),
                TrackEventKind::Meta(MetaMessage::Tempo(us)) if us.as_int() > 0 => {
                    tempo_changes.push((beat, 60e6 / f64::from(us.as_int())))
                }
                TrackEventKind::Meta(MetaMessage::TimeSignature(num, den_pow, ..))
                    if num > 0 && den_pow < 8 =>
                {
                    time_signatures.push((beat, (num, 1u8 << den_pow)))
                }
                _ => {}
            }
        }
    }
    // Stable sort keeps each track's own order among simultaneous events.
    events.sort_by_key(|e| e.0);
    time_signatures.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(Timeline {
        ticks_per_beat,
        tempo: TempoMap::from_changes(&tempo_changes),
        time_signatures,
        events,
    })
}

/// All channel events of the file in time order, for rendering a performance as recorded.
pub fn read_events(bytes: &[u8]) -> Result<Vec<ChannelEvent>, ParseError> {
    let tl = read_timeline(bytes)?;
    Ok(tl
        .events
        .iter()
        .filter_map(|&(tick, _, ev)| {
            let time_s = tl.tempo.seconds_at(tick as f64 / tl.ticks_per_beat);
            let (command, data1, data2) = match ev.message {
                MidiMessage::NoteOn { key, vel } => (0x90, key.as_int(), vel.as_int()),
                MidiMessage::NoteOff { key, vel } => (0x80, key.as_int(), vel.as_int()),
                MidiMessage::Controller { controller, value } => {
                    (0xB0, controller.as_int(), value.as_int())
                }
                MidiMessage::PitchBend { bend } => {
                    let v = bend.0.as_int();
                    (0xE0, (v & 0x7f) as u8, (v >> 7) as u8)
                }
                MidiMessage::ProgramChange { program } => (0xC0, program.as_int(), 0),
                _ => return None,
            };
            Some(ChannelEvent {
                time_s,
                channel: ev.channel,
                command,
                data1,
                data2,
            })
        })
        .collect())
}

/// Reads the notes, tempo map and bar lines of a MIDI file.
pub fn parse(bytes: &[u8]) -> Result<Score, ParseError> {
    let tl = read_timeline(bytes)?;
    // Open notes per (track, channel, key), first in first out, as most sequencers pair them.
    let mut open: std::collections::HashMap<(usize, u8, u8), Vec<(u64, u8)>> = Default::default();
    let mut spans = Vec::new();
    let close = |spans: &mut Vec<_>, key: u8, track: usize, on: (u64, u8), off_tick: u64| {
        spans.push((on.0, off_tick, key, on.1, track))
    };
    for &(tick, track, ev) in &tl.events {
        match ev.message {
            MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => open
                .entry((track, ev.channel, key.as_int()))
                .or_default()
                .push((tick, vel.as_int())),
            MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                if let Some(stack) = open.get_mut(&(track, ev.channel, key.as_int())) {
                    if !stack.is_empty() {
                        let on = stack.remove(0);
                        close(&mut spans, key.as_int(), track, on, tick);
                    }
                }
            }
            _ => {}
        }
    }
    let last_tick = tl.events.last().map_or(0, |e| e.0);
    for ((track, _, key), stack) in open {
        for on in stack {
            close(&mut spans, key, track, on, last_tick.max(on.0));
        }
    }
    spans.sort_by_key(|s| (s.0, s.2));
    let end_beat = spans
        .iter()
        .map(|s| s.1 as f64 / tl.ticks_per_beat)
        .fold(0.0, f64::max);
    if end_beat > super::MAX_BEATS {
        return Err(ParseError::new(
            "timing",
            format!(
                "notes run to beat {end_beat:.0}; Segno reads scores up to {} beats",
                super::MAX_BEATS
            ),
        ));
    }
    let measures = measures_from_time_signatures(&tl.time_signatures, end_beat);
    let notes = spans
        .into_iter()
        .map(|(on, off, pitch, velocity, track)| {
            let onset_beats = on as f64 / tl.ticks_per_beat;
            let offset_beats = off as f64 / tl.ticks_per_beat;
            Note {
                pitch,
                velocity,
                onset_beats,
                duration_beats: offset_beats - onset_beats,
                onset_s: tl.tempo.seconds_at(onset_beats),
                offset_s: tl.tempo.seconds_at(offset_beats),
                staff: u8::try_from(track + 1).ok(),
                measure: measures
                    .partition_point(|m| m.start_beat <= onset_beats + 1e-9)
                    .saturating_sub(1),
                grace: false,
            }
        })
        .collect();
    Ok(Score {
        notes,
        tempo: tl.tempo,
        measures,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A type-1 file: tempo track (60 qpm then 120 qpm at beat 2, 3/4 time) and one note track.
    pub(crate) fn two_track_file() -> Vec<u8> {
        let mut f = b"MThd\0\0\0\x06\0\x01\0\x02\x01\xe0".to_vec(); // 480 tpq
        let tempo_track: &[u8] = &[
            0x00, 0xff, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08, // 3/4
            0x00, 0xff, 0x51, 0x03, 0x0f, 0x42, 0x40, // 1 000 000 us = 60 qpm
            0x87, 0x40, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20, // at tick 960: 120 qpm
            0x00, 0xff, 0x2f, 0x00,
        ];
        let notes: &[u8] = &[
            0x00, 0x90, 60, 80, // C4 on at 0
            0x83, 0x60, 0x80, 60, 0, // off at 480
            0x00, 0x90, 64, 70, 0x00, 0x90, 67, 70, // E4 + G4 at 480
            0x87, 0x40, 0x90, 64, 0, // E4 off (vel-0 note on) at 1440
            0x00, 0x80, 67, 0, 0x00, 0xff, 0x2f, 0x00,
        ];
        for t in [tempo_track, notes] {
            f.extend_from_slice(b"MTrk");
            f.extend_from_slice(&(t.len() as u32).to_be_bytes());
            f.extend_from_slice(t);
        }
        f
    }

    #[test]
    fn reads_notes_tempo_and_measures() {
        let s = parse(&two_track_file()).unwrap();
        assert_eq!(s.notes.len(), 3);
        let e4 = s.notes.iter().find(|n| n.pitch == 64).unwrap();
        assert_eq!(e4.onset_beats, 1.0);
        assert_eq!(e4.onset_s, 1.0);
        assert_eq!(e4.duration_beats, 2.0);
        // beat 1..2 at 60 qpm (1 s), 2..3 at 120 qpm (0.5 s)
        assert!((e4.offset_s - 2.5).abs() < 1e-9);
        assert_eq!(e4.velocity, 70);
        assert_eq!(e4.staff, Some(2));
        assert_eq!(s.measures[0].time_signature, (3, 4));
        assert_eq!(s.measures.len(), 1);
    }

    #[test]
    fn truncated_file_names_the_byte_offset() {
        let f = two_track_file();
        let err = parse(&f[..f.len() - 10]).unwrap_err();
        assert!(err.place.starts_with("byte "), "{err:?}");
        assert!(err.message.contains("truncated"), "{err:?}");
    }

    #[test]
    fn events_keep_controllers_for_rendering() {
        let ev = read_events(&two_track_file()).unwrap();
        assert_eq!(
            ev.iter()
                .filter(|e| e.command == 0x90 && e.data2 > 0)
                .count(),
            3
        );
        assert!(ev.windows(2).all(|w| w[0].time_s <= w[1].time_s));
    }
}
