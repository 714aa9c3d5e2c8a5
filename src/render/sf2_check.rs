//! A structural check of a SoundFont 2 file before `rustysynth` reads it.
//!
//! rustysynth trusts the indices a file gives (a preset's first zone, a zone's first generator),
//! so a damaged file makes it index out of bounds and panic; a chunk whose size is larger than
//! the file makes it allocate that size. This check walks the RIFF tree and the preset and
//! instrument tables and says what is wrong, in the file's own terms, before any of that happens.

/// What is wrong with a SoundFont file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Sf2Problem {
    #[error("the file ends at byte {len}, but its RIFF header says it is {stated} bytes long (truncated?)")]
    Truncated { len: usize, stated: usize },
    #[error("not a SoundFont 2 file (it does not start with RIFF…sfbk)")]
    NotSf2,
    #[error("the `{chunk}` chunk at byte {at} claims {size} bytes, past the end of its list at byte {end}")]
    ChunkOverrun {
        chunk: String,
        at: usize,
        size: usize,
        end: usize,
    },
    #[error("the `{0}` chunk is missing")]
    Missing(&'static str),
    #[error("the `{chunk}` table is {size} bytes, not a whole number of {record}-byte records with a terminator")]
    BadTable {
        chunk: &'static str,
        size: usize,
        record: usize,
    },
    #[error("{what} {index} points to {target} {points_to}, but there are only {count}")]
    BadIndex {
        what: &'static str,
        index: usize,
        target: &'static str,
        points_to: usize,
        count: usize,
    },
    #[error("sample {index} has sample rate {rate} Hz")]
    BadSampleRate { index: usize, rate: u32 },
}

/// A chunk: its id and its body.
type Chunk<'a> = (&'a [u8; 4], &'a [u8]);

/// A table of the `pdta` list: its records and their size.
struct Table<'a> {
    name: &'static str,
    bytes: &'a [u8],
    record: usize,
}

impl<'a> Table<'a> {
    fn find(pdta: &[Chunk<'a>], name: &'static str, record: usize) -> Result<Self, Sf2Problem> {
        let bytes = pdta
            .iter()
            .find(|(id, _)| id.as_slice() == name.as_bytes())
            .map(|(_, b)| *b)
            .ok_or(Sf2Problem::Missing(name))?;
        if bytes.len() % record != 0 || bytes.len() < 2 * record {
            return Err(Sf2Problem::BadTable {
                chunk: name,
                size: bytes.len(),
                record,
            });
        }
        Ok(Self {
            name,
            bytes,
            record,
        })
    }

    /// Records, the terminator included.
    fn len(&self) -> usize {
        self.bytes.len() / self.record
    }

    fn u16_at(&self, i: usize, offset: usize) -> usize {
        let at = i * self.record + offset;
        usize::from(u16::from_le_bytes([self.bytes[at], self.bytes[at + 1]]))
    }

    fn u32_at(&self, i: usize, offset: usize) -> u32 {
        let at = i * self.record + offset;
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes"))
    }
}

/// Checks `data`, a whole .sf2 file, as far as rustysynth relies on it.
pub fn check(data: &[u8]) -> Result<(), Sf2Problem> {
    if data.len() < 12 || &data[0..4] != b"RIFF" || &data[8..12] != b"sfbk" {
        return Err(Sf2Problem::NotSf2);
    }
    let stated = le32(&data[4..8]) as usize + 8;
    if stated > data.len() {
        return Err(Sf2Problem::Truncated {
            len: data.len(),
            stated,
        });
    }
    let lists = chunks(data, 12, stated)?;
    let list = |kind: &[u8; 4]| {
        lists
            .iter()
            .find(|(id, body)| id == &b"LIST" && body.len() >= 4 && &body[..4] == kind)
            .map(|(_, body)| *body)
    };
    // rustysynth reads each sub-chunk of these lists at the size it states.
    let info = list(b"INFO").ok_or(Sf2Problem::Missing("INFO"))?;
    let base = |body: &[u8]| body.as_ptr() as usize - data.as_ptr() as usize;
    chunks(data, base(info) + 4, base(info) + info.len())?;
    let sdta = list(b"sdta").ok_or(Sf2Problem::Missing("sdta"))?;
    let pdta = list(b"pdta").ok_or(Sf2Problem::Missing("pdta"))?;
    let samples = chunks(data, base(sdta) + 4, base(sdta) + sdta.len())?;
    samples
        .iter()
        .find(|(id, _)| id == &b"smpl")
        .ok_or(Sf2Problem::Missing("smpl"))?;
    let pdta = chunks(data, base(pdta) + 4, base(pdta) + pdta.len())?;
    check_pdta(&pdta)
}

/// The preset side (phdr → pbag → pgen) and the instrument side (inst → ibag → igen), each a
/// list of records whose index into the next table must stay inside it; the sample headers.
fn check_pdta(pdta: &[Chunk]) -> Result<(), Sf2Problem> {
    let phdr = Table::find(pdta, "phdr", 38)?;
    let pbag = Table::find(pdta, "pbag", 4)?;
    let pgen = Table::find(pdta, "pgen", 4)?;
    let inst = Table::find(pdta, "inst", 22)?;
    let ibag = Table::find(pdta, "ibag", 4)?;
    let igen = Table::find(pdta, "igen", 4)?;
    let shdr = Table::find(pdta, "shdr", 46)?;
    check_spans(&phdr, 24, &pbag, "preset")?;
    check_spans(&pbag, 0, &pgen, "preset zone")?;
    check_spans(&inst, 20, &ibag, "instrument")?;
    check_spans(&ibag, 0, &igen, "instrument zone")?;
    for i in 0..shdr.len() - 1 {
        let rate = shdr.u32_at(i, 36);
        if rate == 0 || rate > 1_000_000 {
            return Err(Sf2Problem::BadSampleRate { index: i, rate });
        }
    }
    Ok(())
}

/// Record `i` of `from` owns the records of `to` from its index up to the next record's index;
/// those spans must lie inside `to`, the terminator excluded.
fn check_spans(
    from: &Table,
    offset: usize,
    to: &Table,
    what: &'static str,
) -> Result<(), Sf2Problem> {
    let count = to.len() - 1;
    for i in 0..from.len() - 1 {
        let (start, end) = (from.u16_at(i, offset), from.u16_at(i + 1, offset));
        let bad = if end > count {
            Some(end)
        } else if start > end {
            Some(start)
        } else {
            None
        };
        if let Some(points_to) = bad {
            return Err(Sf2Problem::BadIndex {
                what,
                index: i,
                target: to.name,
                points_to,
                count,
            });
        }
    }
    Ok(())
}

/// The chunks (id, body) between byte `from` and byte `end` of `data`.
fn chunks(data: &[u8], from: usize, end: usize) -> Result<Vec<Chunk<'_>>, Sf2Problem> {
    let mut out = Vec::new();
    let mut at = from;
    while at + 8 <= end {
        let id: &[u8; 4] = data[at..at + 4].try_into().expect("4 bytes");
        let size = le32(&data[at + 4..at + 8]) as usize;
        let body = at + 8;
        if size > end - body {
            return Err(Sf2Problem::ChunkOverrun {
                chunk: String::from_utf8_lossy(id).into_owned(),
                at,
                size,
                end,
            });
        }
        out.push((id, &data[body..body + size]));
        // RIFF pads odd-sized chunks to an even length.
        at = body + size + (size & 1);
    }
    Ok(out)
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{parse_soundfont, render_events, RenderOptions};
    use crate::score::midi::ChannelEvent;

    const TINY: &[u8] = include_bytes!("../../tests/data/tiny.sf2");

    fn note(time_s: f64, on: bool) -> ChannelEvent {
        ChannelEvent {
            time_s,
            channel: 0,
            command: if on { 0x90 } else { 0x80 },
            data1: 60,
            data2: 100,
        }
    }

    #[test]
    fn a_sound_file_passes_and_plays() {
        check(TINY).unwrap();
        let font = parse_soundfont(TINY).unwrap();
        let audio = render_events(
            &font,
            &[note(0.0, true), note(0.2, false)],
            RenderOptions::piano(16_000),
        )
        .unwrap();
        assert!(audio.iter().any(|s| s.abs() > 0.01));
    }

    #[test]
    fn a_truncated_file_says_so() {
        let e = check(&TINY[..3000]).unwrap_err();
        assert_eq!(
            e,
            Sf2Problem::Truncated {
                len: 3000,
                stated: TINY.len()
            }
        );
    }

    #[test]
    fn a_preset_pointing_past_its_zones_is_named() {
        let mut bad = TINY.to_vec();
        let phdr = find(&bad, b"phdr") + 8;
        // The terminator's bag index, which ends the first preset's zones.
        bad[phdr + 38 + 24] = 200;
        let e = check(&bad).unwrap_err().to_string();
        assert_eq!(e, "preset 0 points to pbag 200, but there are only 1");
    }

    /// Every byte of the preset data set to a few values: the check must stop each file that
    /// rustysynth cannot read safely, and a file that passes must read and play without panic
    /// (no catch_unwind here, so a panic fails the test).
    #[test]
    fn damaged_tables_never_reach_rustysynth() {
        let pdta = find(TINY, b"pdta");
        let mut passed = 0;
        for at in pdta..TINY.len() {
            for value in [0u8, 1, 2, 0x7f, 0x80, 0xff] {
                let mut data = TINY.to_vec();
                data[at] = value;
                if check(&data).is_err() {
                    continue;
                }
                let Ok(font) = rustysynth::SoundFont::new(&mut &data[..]) else {
                    continue;
                };
                passed += 1;
                let events = [note(0.0, true), note(0.05, false)];
                render_events(
                    &std::sync::Arc::new(font),
                    &events,
                    RenderOptions::piano(16_000),
                )
                .unwrap();
            }
        }
        assert!(passed > 100, "{passed} variants read");
    }

    fn find(data: &[u8], tag: &[u8; 4]) -> usize {
        data.windows(4).position(|w| w == tag).expect("tag present")
    }
}
