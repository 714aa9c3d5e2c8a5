//! Everything that runs on the audio thread, and nothing else.
//!
//! Rules, enforced by nice-plug's `assert_process_allocs` in debug builds (an allocation aborts the
//! host) and by `tests/realtime.rs`: no allocation, no lock, no I/O, no waiting on the worker.
//! Per block this downmixes the input into the worker's ring buffer (dropping and counting what
//! does not fit), writes the settings the worker reads into atomics, and sends the position events
//! that have become due as MIDI control changes at their sample in the block. The audio itself is
//! never touched: input and output share the buffer, so it passes through bit for bit.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use nice_plug::prelude::{Buffer, NoteEvent, Plugin, ProcessContext};
use segno::live::protocol::MidiProtocol;
use segno::live::{AudioEnd, Controls};

/// The settings the audio thread reads from the parameters each block.
#[derive(Debug, Clone, Copy)]
pub struct BlockSettings {
    pub following: bool,
    pub gain_db: f32,
    pub protocol: MidiProtocol,
}

pub struct Realtime {
    audio: Option<AudioEnd>,
    controls: Arc<Controls>,
    /// The standalone app's `--input-file`: analysed in place of the input, at the host's rate.
    simulated: Option<(Vec<f32>, usize)>,
}

impl Realtime {
    pub fn new(controls: Arc<Controls>) -> Self {
        Self {
            audio: None,
            controls,
            simulated: None,
        }
    }

    /// New queues to the worker, and optionally a recording to analyse instead of the input
    /// (called from `activate`, never from the audio thread).
    pub fn attach(&mut self, audio: AudioEnd, simulated: Option<Vec<f32>>) {
        self.audio = Some(audio);
        self.simulated = simulated.map(|s| (s, 0));
    }

    /// Samples handed over and not yet analysed (for tests and diagnostics; not real-time).
    pub fn backlog(&self) -> usize {
        self.audio.as_ref().map_or(0, AudioEnd::backlog)
    }

    pub fn process<P: Plugin>(
        &mut self,
        buffer: &mut Buffer,
        context: &mut impl ProcessContext<P>,
        settings: BlockSettings,
    ) {
        self.controls
            .following
            .store(settings.following, Ordering::Relaxed);
        self.controls
            .gain_db
            .store(settings.gain_db, Ordering::Relaxed);
        let Some(audio) = self.audio.as_mut() else {
            return;
        };
        match self.simulated.as_mut() {
            Some((recording, pos)) => {
                let end = (*pos + buffer.samples()).min(recording.len());
                audio.push_block(&[&recording[*pos..end]]);
                *pos = end;
            }
            None => audio.push_block(buffer.as_slice_immutable()),
        }
        let protocol = settings.protocol.sanitized();
        // Events are timed in the blocks pushed (a simulated recording runs out; the host does not).
        audio.drain_events(|offset, event| {
            let (messages, n) = protocol.encode(event);
            for m in &messages[..n] {
                // A host without room for more events loses this one; nothing to do about it here.
                let _ = context.try_send_event(NoteEvent::MidiCC {
                    timing: offset as u32,
                    channel: m.channel,
                    cc: m.controller,
                    value: f32::from(m.value) / 127.0,
                });
            }
        });
    }
}
