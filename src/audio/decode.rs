//! Decoding audio files (WAV, FLAC, MP3, OGG/Vorbis) with `symphonia`, downmixed to mono.

use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
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
    #[error("{path}: cannot write: {message}")]
    Write { path: PathBuf, message: String },
}

/// Mono audio at its original sample rate.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl DecodedAudio {
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

pub fn decode_file(path: &Path) -> Result<DecodedAudio, AudioError> {
    let file = std::fs::File::open(path).map_err(|cause| AudioError::Io {
        path: path.into(),
        cause,
    })?;
    let unsupported = |m: String| AudioError::Unsupported {
        path: path.into(),
        message: m,
    };
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
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
    if !(8_000..=192_000).contains(&rate) {
        return Err(AudioError::SampleRate {
            path: path.into(),
            rate,
        });
    }
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| unsupported(format!("unsupported codec: {e}")))?;
    let mut samples = Vec::new();
    let mut buf: Option<SampleBuffer<f32>> = None;
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
        samples.extend(
            b.samples()
                .chunks_exact(channels)
                .map(|f| f.iter().sum::<f32>() / channels as f32),
        );
    }
    Ok(DecodedAudio {
        samples,
        sample_rate: rate,
    })
}
