//! Audio in and out: file decoding, downmixing and resampling to Segno's internal rate.

pub mod decode;
pub mod resample;
pub mod room;

use std::path::Path;

use crate::output::{OutputFile, Unfinished};

pub use decode::{decode_file, AudioError, DecodedAudio};
pub use resample::StreamResampler;

/// Writes mono float samples as a 16-bit WAV file (through a partial file, see
/// [`crate::output`]).
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), AudioError> {
    write_wav_into(
        OutputFile::create(path, &[], Unfinished::Remove)?,
        samples,
        sample_rate,
    )
}

/// Writes mono float samples as a 16-bit WAV file into `out`, opened before the work began.
pub fn write_wav_into(
    mut out: OutputFile,
    samples: &[f32],
    sample_rate: u32,
) -> Result<(), AudioError> {
    let path = out.target().to_owned();
    let wrap = |message: String| AudioError::Write {
        path: path.clone(),
        message,
    };
    check_wav_size(samples.len(), sample_rate).map_err(wrap)?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let hound_error = |e: hound::Error| wrap(e.to_string());
    let mut w = hound::WavWriter::new(out.writer(), spec).map_err(hound_error)?;
    for &s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .map_err(hound_error)?;
    }
    w.finalize().map_err(hound_error)?;
    Ok(out.commit()?)
}

/// A RIFF header counts bytes in 32 bits; past that it wraps and the file is corrupt.
fn check_wav_size(samples: usize, sample_rate: u32) -> Result<(), String> {
    if samples as u64 * 2 <= u64::from(u32::MAX) - 44 {
        return Ok(());
    }
    Err(format!(
        "{:.1} h of audio at {sample_rate} Hz is more than a WAV file can hold (4 GiB); \
         render at a lower sample rate",
        samples as f64 / f64::from(sample_rate) / 3600.0
    ))
}

/// The largest absolute sample.
pub fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0f32, |m, s| m.max(s.abs()))
}

/// Scales `samples` so that the peak is at `peak` (no change for silence).
pub fn normalize_peak(samples: &mut [f32], peak: f32) {
    let max = self::peak(samples);
    if max > 0.0 {
        let g = peak / max;
        samples.iter_mut().for_each(|s| *s *= g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wav_past_4_gib_is_refused_not_wrapped() {
        // Segno's longest score (3 h) at 192 kHz is 4.15 GB of 16-bit samples: it just fits.
        check_wav_size(3 * 3600 * 192_000, 192_000).unwrap();
        let e = check_wav_size(4 * 3600 * 192_000, 192_000).unwrap_err();
        assert!(e.contains("4.0 h of audio at 192000 Hz"), "{e}");
    }
}
