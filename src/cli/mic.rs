//! Microphone input through `cpal`. The audio callback only downmixes into a lock-free ring
//! buffer (no allocation, no lock); the follower reads from it on the main thread.

use std::time::Duration;

use anyhow::Context;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use ringbuf::traits::{Consumer, Producer, Split};
use ringbuf::HeapRb;

pub fn input_devices() -> anyhow::Result<Vec<String>> {
    let host = cpal::default_host();
    Ok(host
        .input_devices()
        .context("cannot list input devices")?
        .filter_map(|d| device_name(&d))
        .collect())
}

fn device_name(device: &cpal::Device) -> Option<String> {
    device.description().ok().map(|d| d.name().to_owned())
}

pub struct MicInput {
    _stream: cpal::Stream,
    consumer: ringbuf::HeapCons<f32>,
    rate: u32,
    name: String,
}

impl MicInput {
    pub fn open(name: Option<&str>) -> anyhow::Result<Self> {
        let host = cpal::default_host();
        let device = match name {
            Some(n) => host
                .input_devices()?
                .find(|d| device_name(d).is_some_and(|d| d == n))
                .with_context(|| {
                    format!("no input device named '{n}'; see `segno follow --list-devices`")
                })?,
            None => host.default_input_device().context(
                "no default input device; connect a microphone or name one with --device",
            )?,
        };
        let name = device_name(&device).unwrap_or_default();
        let config = device.default_input_config().with_context(|| {
            format!("cannot open the input '{name}': check that a microphone is connected and not in use, or pick another with --device (see --list-devices)")
        })?;
        let channels = usize::from(config.channels());
        let rate = config.sample_rate();
        let (mut producer, consumer) = HeapRb::<f32>::new(rate as usize * 4).split();
        let on_error = |e| eprintln!("input stream error: {e}");
        let stream = match config.sample_format() {
            cpal::SampleFormat::F32 => device.build_input_stream(
                config.into(),
                move |data: &[f32], _| push_mono(&mut producer, data, channels, |s| s),
                on_error,
                None,
            )?,
            cpal::SampleFormat::I16 => device.build_input_stream(
                config.into(),
                move |data: &[i16], _| {
                    push_mono(&mut producer, data, channels, |s| f32::from(s) / 32768.0)
                },
                on_error,
                None,
            )?,
            other => anyhow::bail!(
                "the input device delivers {other:?} samples; Segno reads f32 or i16 input"
            ),
        };
        stream.play()?;
        Ok(Self {
            _stream: stream,
            consumer,
            rate,
            name,
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Blocks until at least one sample is available; returns how many were read.
    pub fn read(&mut self, buf: &mut [f32]) -> usize {
        loop {
            let n = self.consumer.pop_slice(buf);
            if n > 0 {
                return n;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Downmixes interleaved frames into the ring buffer. A full buffer drops samples rather than
/// blocking the audio thread.
fn push_mono<T: Copy>(
    producer: &mut ringbuf::HeapProd<f32>,
    data: &[T],
    channels: usize,
    to_f32: impl Fn(T) -> f32,
) {
    for frame in data.chunks_exact(channels) {
        let _ = producer.try_push(frame.iter().map(|&s| to_f32(s)).sum::<f32>() / channels as f32);
    }
}
