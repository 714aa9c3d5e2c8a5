//! Reference rendering: a score or a MIDI performance to audio with `rustysynth` and a piano
//! SoundFont.

mod sf2_check;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};

use crate::resources::{Resources, SoundFontMissing, SOUNDFONT_ENV};
use crate::score::midi::ChannelEvent;
use crate::score::{Score, MAX_DURATION_S};

/// Seconds of release tail rendered after the last event.
const TAIL_S: f64 = 1.5;
/// Shortest note the synthesiser is asked to play: zero-length ornament notes in score MIDI
/// files would otherwise be silent.
const MIN_NOTE_S: f64 = 0.03;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no piano SoundFont found. Install one (`sudo apt-get install fluid-soundfont-gm`, or run `cargo xtask setup`), \
         or name a .sf2 file with --soundfont or the {SOUNDFONT_ENV} environment variable. Looked in: {searched}"
    )]
    NotFound { searched: String },
    #[error("{SOUNDFONT_ENV}={path}: no such file; point the variable at an .sf2 file, or unset it to use the system's SoundFont")]
    EnvNotFound { path: PathBuf },
    #[error("{path}: cannot read the SoundFont: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: not a usable SoundFont ({message}); Segno reads .sf2 files (not .sf3)")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot start the synthesiser: {0}")]
    Synth(String),
    #[error("the synthesiser failed while playing this SoundFont (a damaged file?)")]
    SynthPanicked,
    #[error("sample rate {0} Hz: the synthesiser renders at {min}–{max} Hz", min = SAMPLE_RATES.start(), max = SAMPLE_RATES.end())]
    SampleRate(u32),
    #[error("{hours:.1} hours to render; Segno renders at most {limit:.0}", limit = MAX_DURATION_S / 3600.0)]
    TooLong { hours: f64 },
}

/// Largest SoundFont read: rustysynth holds the whole file's samples in memory (FluidR3 is
/// 141 MB; the largest piano SoundFonts are about 1 GB).
pub const MAX_SOUNDFONT_BYTES: u64 = 2 << 30;

/// The sample rates rustysynth accepts.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 16_000..=192_000;

/// Finds a SoundFont: the explicit path, then `$SEGNO_SOUNDFONT`, then the system paths
/// ([`crate::resources`]).
pub fn find_soundfont(explicit: Option<&Path>) -> Result<PathBuf, RenderError> {
    Resources::default()
        .soundfont(explicit)
        .map_err(|missing| match missing {
            SoundFontMissing::FromEnv(path) => RenderError::EnvNotFound { path },
            SoundFontMissing::System(searched) => RenderError::NotFound {
                searched: searched
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        })
}

pub fn load_soundfont(path: &Path) -> Result<Arc<SoundFont>, RenderError> {
    let data =
        crate::input::read_within(path, MAX_SOUNDFONT_BYTES, "SoundFonts").map_err(|cause| {
            RenderError::Io {
                path: path.into(),
                cause,
            }
        })?;
    parse_soundfont(&data).map_err(|message| RenderError::Invalid {
        path: path.into(),
        message,
    })
}

/// A SoundFont from the bytes of an .sf2 file, checked before rustysynth reads it; a panic in
/// rustysynth that the check did not foresee is still caught and reported as a damaged file.
pub fn parse_soundfont(data: &[u8]) -> Result<Arc<SoundFont>, String> {
    sf2_check::check(data).map_err(|e| e.to_string())?;
    match catch_unwind(|| SoundFont::new(&mut &data[..])) {
        Ok(Ok(font)) => Ok(Arc::new(font)),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the file is damaged (its tables contradict each other)".into()),
    }
}

/// How to play: which instrument, and an optional detuning (as a real piano is rarely at 440 Hz).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    pub sample_rate: u32,
    /// General MIDI program (0 = acoustic grand piano), used on every channel.
    pub program: u8,
    pub detune_cents: f64,
}

impl RenderOptions {
    pub fn piano(sample_rate: u32) -> Self {
        Self {
            sample_rate,
            program: 0,
            detune_cents: 0.0,
        }
    }
}

/// Note events of a score, in time order (note-offs before note-ons at the same time).
pub fn score_events(score: &Score) -> Vec<ChannelEvent> {
    let mut ev = Vec::with_capacity(score.notes.len() * 2);
    for n in &score.notes {
        let channel = n.staff.map_or(0, |s| (s.saturating_sub(1)) % 8);
        ev.push(ChannelEvent {
            time_s: n.onset_s,
            channel,
            command: 0x90,
            data1: n.pitch,
            data2: n.velocity.max(1),
        });
        let off = n.offset_s.max(n.onset_s + MIN_NOTE_S);
        ev.push(ChannelEvent {
            time_s: off,
            channel,
            command: 0x80,
            data1: n.pitch,
            data2: 0,
        });
    }
    ev.sort_by(|a, b| {
        a.time_s
            .total_cmp(&b.time_s)
            .then((a.command == 0x90).cmp(&(b.command == 0x90)))
    });
    ev
}

/// Renders channel events to mono audio at `opts.sample_rate`. Program changes in the events are
/// ignored and every channel plays `opts.program`, so drum channels and odd instruments in a MIDI
/// file still sound like a piano.
pub fn render_events(
    font: &Arc<SoundFont>,
    events: &[ChannelEvent],
    opts: RenderOptions,
) -> Result<Vec<f32>, RenderError> {
    if !SAMPLE_RATES.contains(&opts.sample_rate) {
        return Err(RenderError::SampleRate(opts.sample_rate));
    }
    let end_s = events.last().map_or(0.0, |e| e.time_s) + TAIL_S;
    if end_s.is_nan() || end_s > MAX_DURATION_S + TAIL_S {
        return Err(RenderError::TooLong {
            hours: end_s / 3600.0,
        });
    }
    // The file was checked when loaded; a panic inside the synthesiser is the last line of
    // defence, and nothing of the synthesiser outlives it.
    catch_unwind(AssertUnwindSafe(|| synthesise(font, events, opts, end_s)))
        .map_err(|_| RenderError::SynthPanicked)?
}

fn synthesise(
    font: &Arc<SoundFont>,
    events: &[ChannelEvent],
    opts: RenderOptions,
    end_s: f64,
) -> Result<Vec<f32>, RenderError> {
    let sr = f64::from(opts.sample_rate);
    let mut settings = SynthesizerSettings::new(opts.sample_rate as i32);
    settings.maximum_polyphony = 128;
    settings.enable_reverb_and_chorus = false;
    let mut synth =
        Synthesizer::new(font, &settings).map_err(|e| RenderError::Synth(e.to_string()))?;
    let bend = (8192.0 + (opts.detune_cents / 200.0) * 8192.0)
        .round()
        .clamp(0.0, 16383.0) as i32;
    for ch in 0..16 {
        synth.process_midi_message(ch, 0xC0, i32::from(opts.program), 0);
        synth.process_midi_message(ch, 0xE0, bend & 0x7f, bend >> 7);
    }
    let total = (end_s * sr).ceil() as usize;
    let mut out = Vec::with_capacity(total);
    let (mut left, mut right) = (vec![0f32; 256], vec![0f32; 256]);
    let mut render_until = |out: &mut Vec<f32>, synth: &mut Synthesizer, target: usize| {
        while out.len() < target {
            let n = (target - out.len()).min(left.len());
            synth.render(&mut left[..n], &mut right[..n]);
            out.extend(
                left[..n]
                    .iter()
                    .zip(&right[..n])
                    .map(|(l, r)| 0.5 * (l + r)),
            );
        }
    };
    for e in events {
        render_until(
            &mut out,
            &mut synth,
            ((e.time_s * sr).round() as usize).min(total),
        );
        let channel = if e.channel == 9 {
            0
        } else {
            i32::from(e.channel)
        };
        match e.command {
            0xC0 | 0xE0 => {}
            c => synth.process_midi_message(
                channel,
                i32::from(c),
                i32::from(e.data1),
                i32::from(e.data2),
            ),
        }
    }
    render_until(&mut out, &mut synth, total);
    Ok(out)
}

pub fn render_score(
    font: &Arc<SoundFont>,
    score: &Score,
    opts: RenderOptions,
) -> Result<Vec<f32>, RenderError> {
    render_events(font, &score_events(score), opts)
}
