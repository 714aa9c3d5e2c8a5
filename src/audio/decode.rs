//! Decoding audio files (WAV, FLAC, MP3, OGG/Vorbis) with `symphonia`, downmixed to mono.

use std::io::{Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: cannot open the audio file: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error("{path}: decoding failed at {at_s:.2} s: {message}")]
    Decode {
        path: PathBuf,
        at_s: f64,
        message: String,
    },
    #[error("{path}: sample rate {rate} Hz is outside the supported 8–192 kHz")]
    SampleRate { path: PathBuf, rate: u32 },
    #[error("{path}: the recording is longer than {hours:.0} hours, the most Segno reads (a recording is decoded whole, and a score may be at most 3 hours); cut out the part to follow or align")]
    TooLong { path: PathBuf, hours: f64 },
    #[error("{path}: the recording has no audio samples")]
    Empty { path: PathBuf },
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error("{path}: cannot write: {message}")]
    Write { path: PathBuf, message: String },
}

/// Longest recording decoded, in seconds: a recording is held whole in memory (4 hours at
/// 48 kHz is 2.8 GB).
pub const MAX_AUDIO_S: f64 = 4.0 * 3600.0;

/// Mono audio at its original sample rate.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// Frames that were NaN or infinite in the file, decoded as silence.
    pub non_finite: u64,
}

impl DecodedAudio {
    /// The samples at `rate`, without a second copy of a long recording when it is already there.
    pub fn into_rate(self, rate: u32) -> Vec<f32> {
        super::resample::resample_owned(self.samples, self.sample_rate, rate)
    }

    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }

    /// What a user should hear about the recording before it is followed or aligned: that it
    /// is empty (an error), silent, or had NaN or infinite samples.
    pub fn check(&self, path: &Path) -> Result<Vec<String>, AudioError> {
        if self.samples.is_empty() {
            return Err(AudioError::Empty { path: path.into() });
        }
        let mut warnings = Vec::new();
        if self.non_finite > 0 {
            warnings.push(format!(
                "{}: {} samples were NaN or infinite; they are taken as silence",
                path.display(),
                self.non_finite
            ));
        }
        if self.samples.iter().all(|s| s.abs() < 1e-6) {
            warnings.push(format!(
                "{}: the recording is silent ({:.1} s); there is nothing to follow in it",
                path.display(),
                self.duration_s()
            ));
        }
        Ok(warnings)
    }
}

pub fn decode_file(path: &Path) -> Result<DecodedAudio, AudioError> {
    let file = std::fs::File::open(path).map_err(|cause| AudioError::Io {
        path: path.into(),
        cause,
    })?;
    decode_source(file, path, MAX_AUDIO_S)
}

/// Decodes an audio file held in memory; `name` gives its format by extension and names it in
/// errors.
pub fn decode_bytes(bytes: Vec<u8>, name: &Path) -> Result<DecodedAudio, AudioError> {
    decode_source(std::io::Cursor::new(bytes), name, MAX_AUDIO_S)
}

/// Decodes at most `max_s` seconds ([`MAX_AUDIO_S`] but in tests).
fn decode_source<S: MediaSource + Read + Seek + 'static>(
    mut source: S,
    path: &Path,
    max_s: f64,
) -> Result<DecodedAudio, AudioError> {
    let rate = wav_sample_rate(&mut source).map_err(|cause| AudioError::Io {
        path: path.into(),
        cause,
    })?;
    if let Some(rate) = rate {
        check_rate(path, rate)?;
    }
    // symphonia panics on some damaged headers; the check above catches the known one, and
    // this the rest, so that a file the user picked never takes the program down.
    let source: Box<dyn MediaSource> = Box::new(source);
    catch_unwind(AssertUnwindSafe(|| decode_checked(path, source, max_s))).unwrap_or_else(|_| {
        Err(AudioError::Unsupported {
            path: path.into(),
            message: "the file is damaged (its header contradicts itself)".into(),
        })
    })
}

fn check_rate(path: &Path, rate: u32) -> Result<(), AudioError> {
    if (8_000..=192_000).contains(&rate) {
        Ok(())
    } else {
        Err(AudioError::SampleRate {
            path: path.into(),
            rate,
        })
    }
}

/// The sample rate a WAV file's `fmt ` chunk states, read before symphonia sees it (symphonia
/// panics on 0 Hz); `None` for other formats. Leaves the file at its start.
fn wav_sample_rate(file: &mut (impl Read + Seek)) -> std::io::Result<Option<u32>> {
    let mut head = Vec::with_capacity(4096);
    file.by_ref().take(4096).read_to_end(&mut head)?;
    file.rewind()?;
    if head.len() < 12 || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let mut at = 12;
    while at + 8 <= head.len() {
        let size = u32::from_le_bytes(head[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        if &head[at..at + 4] == b"fmt " {
            return Ok(head
                .get(at + 12..at + 16)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))));
        }
        at = at
            .saturating_add(8)
            .saturating_add(size)
            .saturating_add(size & 1);
    }
    Ok(None)
}

fn decode_checked(
    path: &Path,
    source: Box<dyn MediaSource>,
    max_s: f64,
) -> Result<DecodedAudio, AudioError> {
    let unsupported = |m: String| AudioError::Unsupported {
        path: path.into(),
        message: m,
    };
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| {
            unsupported(format!(
                "not a readable audio file ({e}); Segno reads WAV, FLAC, MP3 and OGG/Vorbis"
            ))
        })?;
    let mut format = probed.format;
    let track = format
        .default_track()
        .ok_or_else(|| unsupported("the file has no audio track".into()))?;
    let track_id = track.id;
    let rate = track
        .codec_params
        .sample_rate
        .ok_or_else(|| unsupported("the file does not state its sample rate".into()))?;
    check_rate(path, rate)?;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| unsupported(format!("unsupported codec: {e}")))?;
    let mut samples = Vec::new();
    let max_samples = (max_s * f64::from(rate)) as usize;
    let mut buf: Option<SampleBuffer<f32>> = None;
    let mut non_finite = 0;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => {
                return Err(AudioError::Decode {
                    path: path.into(),
                    at_s: samples.len() as f64 / f64::from(rate),
                    message: e.to_string(),
                })
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged packet is skipped, as players do; the rest of the file is still usable.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => {
                return Err(AudioError::Decode {
                    path: path.into(),
                    at_s: samples.len() as f64 / f64::from(rate),
                    message: e.to_string(),
                })
            }
        };
        let spec = *decoded.spec();
        let channels = spec.channels.count().max(1);
        let b = buf.get_or_insert_with(|| SampleBuffer::new(decoded.capacity() as u64, spec));
        if b.capacity() < decoded.capacity() * channels {
            *b = SampleBuffer::new(decoded.capacity() as u64, spec);
        }
        b.copy_interleaved_ref(decoded);
        samples.extend(b.samples().chunks_exact(channels).map(|f| {
            let s = f.iter().sum::<f32>() / channels as f32;
            if s.is_finite() {
                s
            } else {
                non_finite += 1;
                0.0
            }
        }));
        if samples.len() > max_samples {
            return Err(AudioError::TooLong {
                path: path.into(),
                hours: max_s / 3600.0,
            });
        }
    }
    Ok(DecodedAudio {
        samples,
        sample_rate: rate,
        non_finite,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_past_the_bound_is_refused_before_it_is_held_whole() {
        let path = std::env::temp_dir().join(format!("segno-long-{}.wav", std::process::id()));
        super::super::write_wav(&path, &vec![0.1; 16_000 * 3], 16_000).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let within = decode_source(std::io::Cursor::new(bytes.clone()), &path, 4.0).unwrap();
        assert_eq!(within.samples.len(), 16_000 * 3);
        let e = decode_source(std::io::Cursor::new(bytes), &path, 2.0).unwrap_err();
        assert!(matches!(e, AudioError::TooLong { .. }), "{e}");
        assert!(e.to_string().contains("cut out the part"), "{e}");
    }
}
