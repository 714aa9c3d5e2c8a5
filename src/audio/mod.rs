//! Audio in and out: file decoding, downmixing and resampling to Segno's internal rate.

pub mod decode;
pub mod resample;
pub mod room;

use std::path::Path;

pub use decode::{decode_file, AudioError, DecodedAudio};
pub use resample::StreamResampler;

/// Writes mono float samples as a 16-bit WAV file.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), AudioError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let wrap = |e: hound::Error| AudioError::Write {
        path: path.into(),
        message: e.to_string(),
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(wrap)?;
    for &s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .map_err(wrap)?;
    }
    w.finalize().map_err(wrap)
}

/// Scales `samples` so that the peak is at `peak` (no change for silence).
pub fn normalize_peak(samples: &mut [f32], peak: f32) {
    let max = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    if max > 0.0 {
        let g = peak / max;
        samples.iter_mut().for_each(|s| *s *= g);
    }
}
