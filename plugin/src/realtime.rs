//! Everything that runs on the audio thread, and nothing else.
//!
//! Rules, enforced by nice-plug's `assert_process_allocs` in debug builds (an allocation aborts the
//! host) and by `tests/realtime.rs`: no allocation, no lock, no I/O, no waiting on the worker.
//! Per block this downmixes the input into the worker's ring buffer (dropping and counting what
//! does not fit), writes the settings the worker reads into atomics, and sends the position events
//! that have become due as MIDI control changes at their sample in the block. The audio itself is
//! never touched: input and output share the buffer, so it passes through bit for bit.
//!
//! The one exception to "no waiting": when the host renders offline (a bounce or export, faster
//! than real time, with no real-time deadline) each block waits for the worker, so that no audio is
//! dropped and every event goes out at its sample, as in the CLI's offline run of the same audio.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use nice_plug::prelude::{Buffer, NoteEvent, Plugin, ProcessContext};
use segno::live::protocol::MidiProtocol;
use segno::live::{AudioEnd, Controls};

/// The settings the audio thread reads from the parameters each block.
#[derive(Debug, Clone, Copy)]
pub struct BlockSettings {
    pub following: bool,
    pub relocation: bool,
    pub gain_db: f32,
    pub protocol: MidiProtocol,
}

pub struct Realtime {
    audio: Option<AudioEnd>,
    controls: Arc<Controls>,
    /// The standalone app's `--input-file`: analysed in place of the input, at the host's rate.
    simulated: Option<(Vec<f32>, usize)>,
    /// The host renders offline and the worker has answered so far: blocks wait for it.
    wait_for_worker: bool,
}

/// How long an offline block waits for the worker (a long score's preparation included) before
/// the render goes on without it.
const OFFLINE_WAIT: Duration = Duration::from_secs(60);

impl Realtime {
    pub fn new(controls: Arc<Controls>) -> Self {
        Self {
            audio: None,
            controls,
            simulated: None,
            wait_for_worker: false,
        }
    }

    /// New queues to the worker, optionally a recording to analyse instead of the input, and
    /// whether the host renders offline (called from `activate`, never from the audio thread).
    pub fn attach(&mut self, audio: AudioEnd, simulated: Option<Vec<f32>>, offline: bool) {
        self.audio = Some(audio);
        self.simulated = simulated.map(|s| (s, 0));
        self.wait_for_worker = offline;
    }

    /// Offline only: waits for the worker; a worker that does not answer in time is not waited
    /// for again until the next activation, so a render never hangs.
    fn wait_if_offline(&mut self) {
        if let Some(audio) = self.audio.as_ref().filter(|_| self.wait_for_worker) {
            self.wait_for_worker = audio.wait_for_worker(OFFLINE_WAIT);
        }
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
            .relocation
            .store(settings.relocation, Ordering::Relaxed);
        self.controls
            .gain_db
            .store(settings.gain_db, Ordering::Relaxed);
        // Offline, the score is prepared and the previous block analysed before this one is
        // pushed, and this one is analysed before its events are sent.
        self.wait_if_offline();
        self.push(buffer);
        self.wait_if_offline();
        self.send_events(context, settings.protocol.sanitized());
    }

    fn push(&mut self, buffer: &Buffer) {
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
    }

    /// Sends the events due in the block just pushed, at their sample in it (a simulated
    /// recording runs out; the host does not).
    fn send_events<P: Plugin>(
        &mut self,
        context: &mut impl ProcessContext<P>,
        protocol: MidiProtocol,
    ) {
        let Some(audio) = self.audio.as_mut() else {
            return;
        };
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
