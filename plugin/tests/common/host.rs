//! An in-process host for the plugin struct: its process and activate contexts, activation,
//! and one block through `process()` under the allocation guard (armed in debug builds).

use nice_plug::context::process::SendEventError;
use nice_plug::prelude::*;
use segno::live::protocol::ControlChange;
use segno_plugin::Segno;

use super::example;

const EVENT_CAPACITY: usize = 4096;

pub struct Host {
    transport: Transport,
    /// Preallocated: sending an event must not make the test host allocate either.
    pub events: Vec<(u32, ControlChange)>,
}

impl Host {
    pub fn new(rate: u32) -> Self {
        Self {
            transport: Transport::new(rate as f32),
            events: Vec::with_capacity(EVENT_CAPACITY),
        }
    }
}

impl ProcessContext<Segno> for Host {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute_background(&self, _: ()) {}
    fn execute_gui(&self, _: ()) {}
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn next_event(&mut self) -> Option<PluginNoteEvent<Segno>> {
        None
    }
    fn try_send_event(
        &mut self,
        event: PluginNoteEvent<Segno>,
    ) -> Result<(), (PluginNoteEvent<Segno>, SendEventError)> {
        match event {
            NoteEvent::MidiCC {
                timing,
                channel,
                cc,
                value,
            } if self.events.len() < EVENT_CAPACITY => {
                let value = (value * 127.0).round() as u8;
                self.events.push((
                    timing,
                    ControlChange {
                        channel,
                        controller: cc,
                        value,
                    },
                ));
                Ok(())
            }
            other => Err((other, SendEventError::HostBufferFull)),
        }
    }
    fn set_latency_samples(&self, _: u32) {}
    fn request_restart(&self) {}
    fn set_current_voice_capacity(&self, _: u32) {}
}

impl ActivateContext<Segno> for Host {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _: ()) {}
    fn set_latency_samples(&self, _: u32) {}
    fn set_current_voice_capacity(&self, _: u32) {}
}

pub fn activate(plugin: &mut Segno, rate: u32, max_block: usize) {
    activate_in(plugin, rate, max_block, ProcessMode::Realtime);
}

pub fn activate_in(plugin: &mut Segno, rate: u32, max_block: usize, process_mode: ProcessMode) {
    let config = BufferConfig {
        sample_rate: rate as f32,
        min_buffer_size: None,
        max_buffer_size: max_block as u32,
        process_mode,
    };
    let layout = Segno::AUDIO_IO_LAYOUTS[0];
    assert!(plugin.activate(&layout, &config, &mut Host::new(rate)));
}

/// Runs one block through `process()` under the allocation guard; returns the output.
pub fn process_block(plugin: &mut Segno, host: &mut Host, input: [&[f32]; 2]) -> [Vec<f32>; 2] {
    let mut channels = [input[0].to_vec(), input[1].to_vec()];
    let n = input[0].len();
    let mut buffer = Buffer::default();
    let [l, r] = &mut channels;
    unsafe {
        buffer.set_slices(n, |slices| {
            slices.clear();
            slices.push(&mut l[..]);
            slices.push(&mut r[..]);
        });
    }
    let mut aux = AuxiliaryBuffers {
        inputs: &mut [],
        outputs: &mut [],
    };
    nice_assert_no_alloc::assert_no_alloc(|| plugin.process(&mut buffer, &mut aux, host));
    channels
}

/// Gives the plugin the bundled minuet, as the musician's Open score… does.
pub fn load_example_score(plugin: &Segno) {
    let score = std::fs::read(example("minuet.musicxml")).unwrap();
    plugin
        .session()
        .load_score("minuet.musicxml".into(), std::sync::Arc::from(score));
}
