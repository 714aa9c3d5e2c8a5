//! Song Position Pointer and MIDI clock on a system MIDI port (midir) or a JACK MIDI port, for the
//! standalone app ([`segno::live::clock`] decides what to send).

use midir::{MidiOutput, MidiOutputConnection};
use segno::live::clock::MidiClock;
use segno::live::ReportSink;
use segno::position::Report;
use segno::score::Score;

/// Song Position Pointer and clock on a system MIDI port.
pub struct MidiClockPort {
    port: Port,
    clock: MidiClock,
}

enum Port {
    Midir(MidiOutputConnection),
    Jack(jack_port::JackMidiOut),
}

impl MidiClockPort {
    /// `name` chooses the port:
    /// - `jack` creates the JACK MIDI port `segno:position`; `jack:DEST` also connects it to the
    ///   JACK port `DEST` (e.g. `jack:a2j:Sequencer`); JACK (or PipeWire's JACK) must be running;
    /// - `virtual` (Linux, macOS) creates a system port named "Segno" for others to connect to;
    /// - anything else connects to the first system output port whose name contains it.
    pub fn open(name: &str) -> Result<Self, String> {
        let port = match name.strip_prefix("jack") {
            Some(rest) if rest.is_empty() || rest.starts_with(':') => Port::Jack(
                jack_port::JackMidiOut::open(rest.strip_prefix(':').filter(|d| !d.is_empty()))?,
            ),
            _ => Port::Midir(Self::open_system(name)?),
        };
        Ok(Self {
            port,
            clock: MidiClock::default(),
        })
    }

    fn open_system(name: &str) -> Result<MidiOutputConnection, String> {
        let output = MidiOutput::new("Segno")
            .map_err(|e| format!("MIDI output is not available on this system: {e}"))?;
        let connection = if name == "virtual" {
            virtual_port(output)?
        } else {
            let ports = output.ports();
            let names: Vec<String> = ports
                .iter()
                .filter_map(|p| output.port_name(p).ok())
                .collect();
            let port = ports
                .iter()
                .find(|p| output.port_name(p).is_ok_and(|n| n.contains(name)))
                .ok_or_else(|| {
                    format!(
                        "no MIDI output port matches '{name}'; ports: {}",
                        list(&names)
                    )
                })?;
            output
                .connect(port, "Segno position")
                .map_err(|e| format!("cannot connect to MIDI port '{name}': {e}"))?
        };
        Ok(connection)
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(unix)]
fn virtual_port(output: MidiOutput) -> Result<MidiOutputConnection, String> {
    use midir::os::unix::VirtualOutput;
    output
        .create_virtual("Segno")
        .map_err(|e| format!("cannot create a virtual MIDI port: {e}"))
}

#[cfg(not(unix))]
fn virtual_port(_: MidiOutput) -> Result<MidiOutputConnection, String> {
    Err("virtual MIDI ports are not available on this system: name an existing port".into())
}

impl ReportSink for MidiClockPort {
    fn report(&mut self, report: &Report, _score: &Score, _sample_time: u64) {
        let port = &mut self.port;
        self.clock.on_report(report, |message| match port {
            Port::Midir(c) => {
                let _ = c.send(message);
            }
            Port::Jack(j) => j.send(message),
        });
    }

    fn reset(&mut self) {
        self.clock.reset();
    }
}

mod jack_port {
    //! A JACK MIDI output. Messages go from the worker to JACK's process callback through a
    //! lock-free queue, and out at the start of the next JACK cycle. A JACK MIDI buffer holds
    //! only so many events per cycle: what does not fit waits in the queue for the next cycle,
    //! so a burst of reports (the worker catching up after a stall) delays clocks, never loses
    //! them.

    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use ringbuf::traits::{Consumer, Observer, Producer, Split};
    use ringbuf::{HeapProd, HeapRb};

    /// Short messages only: clock, Song Position Pointer, start/stop.
    #[derive(Clone, Copy)]
    struct Message {
        bytes: [u8; 3],
        len: usize,
    }

    /// What the process callback tells the thread that closes the port.
    #[derive(Default)]
    struct Progress {
        /// JACK cycles run so far.
        cycles: AtomicU64,
        /// Whether the last cycle left nothing in the queue.
        drained: AtomicBool,
    }

    type Process = Box<dyn FnMut(&jack::Client, &jack::ProcessScope) -> jack::Control + Send>;

    pub struct JackMidiOut {
        queue: HeapProd<Message>,
        progress: Arc<Progress>,
        _client: jack::AsyncClient<(), jack::contrib::ClosureProcessHandler<(), Process>>,
        pub dropped: u64,
    }

    impl JackMidiOut {
        pub fn open(destination: Option<&str>) -> Result<Self, String> {
            let (client, _) = jack::Client::new("segno", jack::ClientOptions::NO_START_SERVER)
                .map_err(|e| format!("cannot reach a JACK server ({e}); start JACK (or PipeWire's JACK) or name a system MIDI port"))?;
            let mut port = client
                .register_port("position", jack::MidiOut::default())
                .map_err(|e| format!("cannot create the JACK MIDI port: {e}"))?;
            let full_name = port.name().map_err(|e| e.to_string())?;
            let (queue, mut pending) = HeapRb::<Message>::new(4096).split();
            let progress = Arc::new(Progress::default());
            let seen = progress.clone();
            let process: Process = Box::new(move |_, scope| {
                let mut writer = port.writer(scope);
                while let Some(m) = pending.try_peek() {
                    let event = jack::RawMidi {
                        time: 0,
                        bytes: &m.bytes[..m.len],
                    };
                    if writer.write(&event).is_err() {
                        break; // this cycle's buffer is full
                    }
                    pending.skip(1);
                }
                seen.drained.store(pending.is_empty(), Ordering::Release);
                seen.cycles.fetch_add(1, Ordering::Release);
                jack::Control::Continue
            });
            let active = client
                .activate_async((), jack::contrib::ClosureProcessHandler::new(process))
                .map_err(|e| format!("cannot start the JACK client: {e}"))?;
            if let Some(dest) = destination {
                active
                    .as_client()
                    .connect_ports_by_name(&full_name, dest)
                    .map_err(|e| {
                        format!("cannot connect {full_name} to the JACK port '{dest}': {e}")
                    })?;
            }
            Ok(Self {
                queue,
                progress,
                _client: active,
                dropped: 0,
            })
        }

        pub fn send(&mut self, message: &[u8]) {
            let mut bytes = [0; 3];
            let len = message.len().min(3);
            bytes[..len].copy_from_slice(&message[..len]);
            if self.queue.try_push(Message { bytes, len }).is_err() {
                self.dropped += 1;
            }
        }

        /// Waits, counting JACK cycles rather than time (a loaded machine runs them late), until
        /// a cycle that started after this call has emptied the queue, and then one more cycle
        /// so clients after Segno in the graph have read them. Gives up when JACK stops cycling
        /// for a second (a stuck or vanished server).
        fn flush(&self) {
            let cycles = || self.progress.cycles.load(Ordering::Acquire);
            let start = cycles();
            let mut drained_at = None;
            let mut last = (start, Instant::now());
            loop {
                let now = cycles();
                if now != last.0 {
                    last = (now, Instant::now());
                } else if last.1.elapsed() > Duration::from_secs(1) {
                    return;
                }
                match drained_at {
                    Some(at) if now > at => return,
                    // The cycle that completes as `start + 2` began after this call, so it saw every
                    // message sent before it.
                    None if now >= start + 2 && self.progress.drained.load(Ordering::Acquire) => {
                        // Read again: `drained` may come from a cycle after `now`.
                        drained_at = Some(cycles())
                    }
                    _ => {}
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    impl Drop for JackMidiOut {
        /// The last messages (the final clocks, Stop) are still queued when the app ends.
        fn drop(&mut self) {
            self.flush();
        }
    }
}
