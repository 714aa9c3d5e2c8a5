//! `segno-app`: Segno as a standalone program. With a display it opens the plugin's editor and
//! listens to an audio input through nice-plug's standalone wrapper (cpal/JACK); `--headless
//! --input-file` follows a recording at the speed of the file instead, for tests and dry runs.
//! Either way it can send the position over OSC and as MIDI clock on a system port.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use segno::identify::listen::{Identification, FIRST_LOOK_S, LOOK_EVERY_S};
use segno::live::osc::OscSender;
use segno::live::{link, Command, Identifying, ReportSink};
use segno::position::csv::PositionWriter;
use segno::position::Report;
use segno::score::Score;
use segno_plugin::app_setup::{self, AppSetup};
use segno_plugin::midi_clock_port::MidiClockPort;
use segno_plugin::score_file::read_score_file;
use segno_plugin::Segno;

const USAGE: &str = "usage: segno-app [options] [audio options]

options:
  --score FILE         the score to follow (.musicxml, .mxl, .mid)
  --osc HOST:PORT      send the position as OSC over UDP (e.g. 127.0.0.1:9000)
  --midi-port NAME     send Song Position Pointer and MIDI clock to the output port whose name
                       contains NAME (`virtual` creates a port named Segno)
  --input-file FILE    follow this recording (WAV, FLAC, MP3, OGG) instead of an input device:
                       a simulated performance, in the window at its own speed
  --list-devices       list the audio input devices
  --headless           no window and no audio device: follow --input-file and exit
  --realtime           with --headless: play the file at its own speed instead of as fast as possible
  --out FILE           with --headless: write the positions as CSV (the columns of `segno follow`)
  --identify           What am I playing?: name the piece being played from the score library,
                       refined while the pianist plays (with --headless: print each answer)
  --library FILE       the score library (default: `segno library add`'s, library.segnolib in
                       Segno's data folder)
  -h, --help           this help, then the audio options

audio options (the window mode; nice-plug's standalone wrapper):
  --input-device NAME, --output-device NAME, --sample-rate HZ, --period-size FRAMES, --backend ...
  (see the list below)";

#[derive(Default)]
struct Options {
    score: Option<PathBuf>,
    osc: Option<String>,
    midi_port: Option<String>,
    headless: bool,
    input_file: Option<PathBuf>,
    realtime: bool,
    out: Option<PathBuf>,
    identify: bool,
    library: Option<PathBuf>,
    help: bool,
    list_devices: bool,
    /// Everything else goes to nice-plug's standalone wrapper.
    wrapper_args: Vec<String>,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Options> {
    let mut o = Options::default();
    let mut args = args.into_iter();
    o.wrapper_args
        .push(args.next().unwrap_or_else(|| "segno-app".into()));
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value; see --help"))
        };
        match a.as_str() {
            "--score" => o.score = Some(value("--score")?.into()),
            "--osc" => o.osc = Some(value("--osc")?),
            "--midi-port" => o.midi_port = Some(value("--midi-port")?),
            "--headless" => o.headless = true,
            "--input-file" => o.input_file = Some(value("--input-file")?.into()),
            "--realtime" => o.realtime = true,
            "--out" => o.out = Some(value("--out")?.into()),
            "--identify" => o.identify = true,
            "--library" => o.library = Some(value("--library")?.into()),
            "-h" | "--help" => o.help = true,
            "--list-devices" => o.list_devices = true,
            _ => o.wrapper_args.push(a),
        }
    }
    if o.headless && o.input_file.is_none() {
        bail!("--headless needs --input-file: the recording to follow");
    }
    if !o.headless && (o.out.is_some() || o.realtime) {
        bail!("--out and --realtime only work with --headless");
    }
    Ok(o)
}

fn main() -> Result<()> {
    let options = parse(std::env::args())?;
    if options.help {
        println!("{USAGE}\n");
        nice_plug::prelude::nice_export_standalone_with_args::<Segno, _>([
            "segno-app".to_owned(),
            "--help".to_owned(),
        ]);
        return Ok(());
    }
    if options.list_devices {
        for name in input_devices() {
            println!("{name}");
        }
        return Ok(());
    }
    let mut sinks: Vec<Box<dyn ReportSink>> = Vec::new();
    if let Some(target) = &options.osc {
        sinks.push(Box::new(OscSender::new(target)?));
    }
    if let Some(port) = &options.midi_port {
        sinks.push(Box::new(
            MidiClockPort::open(port).map_err(anyhow::Error::msg)?,
        ));
    }
    let score = options
        .score
        .as_deref()
        .map(read_score_file)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if options.headless {
        anyhow::ensure!(
            score.is_some() || options.identify,
            "--headless needs --score (the score to follow) or --identify"
        );
        return headless(&options, sinks, score);
    }
    let input_file = options
        .input_file
        .as_deref()
        .map(segno::audio::decode::decode_file)
        .transpose()?;
    let wrapper_args = with_default_input(options.wrapper_args, input_file.is_some());
    app_setup::hand_over(AppSetup {
        sinks,
        score,
        input_file,
        library: options.library.clone(),
        identify: options.identify,
    });
    if !nice_plug::prelude::nice_export_standalone_with_args::<Segno, _>(wrapper_args) {
        bail!("the audio backend could not start; see the messages above, or pick a device with --input-device");
    }
    Ok(())
}

fn input_devices() -> Vec<String> {
    use cpal::traits::{DeviceTrait, HostTrait};
    let host = cpal::default_host();
    host.input_devices()
        .map(|ds| {
            ds.filter_map(|d| d.description().ok().map(|d| d.name().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// nice-plug's wrapper connects no input unless told to (against feedback in effect plugins);
/// a score follower needs one, so without `--input-device` (or a chosen backend) Segno listens to
/// the system's default input, the laptop's microphone.
fn with_default_input(mut args: Vec<String>, simulated: bool) -> Vec<String> {
    let chosen = args.iter().any(|a| {
        a == "--input-device"
            || a == "--backend"
            || a.starts_with("--input-device=")
            || a.starts_with("--backend=")
    });
    if chosen || simulated {
        if simulated {
            eprintln!("following the --input-file recording instead of an audio input");
        }
        return args;
    }
    use cpal::traits::{DeviceTrait, HostTrait};
    match cpal::default_host()
        .default_input_device()
        .and_then(|d| d.description().ok())
    {
        Some(d) => {
            eprintln!(
                "listening on '{}' (choose another with --input-device; see --list-devices)",
                d.name()
            );
            if cfg!(target_os = "linux") {
                args.extend(["--backend".into(), "alsa".into()]);
            }
            args.extend(["--input-device".into(), d.name().to_owned()]);
        }
        None => eprintln!(
            "no audio input found: connect a microphone, or follow a recording with --input-file"
        ),
    }
    args
}

/// Follows a file, or names its piece (`--identify`), or both, through the same worker and
/// queues the plugin uses.
fn headless(
    options: &Options,
    mut sinks: Vec<Box<dyn ReportSink>>,
    score: Option<(String, Arc<[u8]>)>,
) -> Result<()> {
    let input = options.input_file.as_deref().expect("checked in parse");
    let audio = segno::audio::decode::decode_file(input)?;
    if let Some(out) = &options.out {
        let mut inputs = vec![("--input-file", input)];
        inputs.extend(options.score.as_deref().map(|s| ("--score", s)));
        sinks.push(Box::new(CsvSink(Some(PositionWriter::create(
            out, &inputs,
        )?))));
    }
    let worker = segno_plugin::new_worker(sinks, segno_plugin::planner());
    worker.start();
    let following = score.is_some();
    if let Some((name, bytes)) = score {
        prepare(&worker, bytes, name)?;
    }
    if options.identify {
        let library = match &options.library {
            Some(l) => l.clone(),
            None => segno::identify::library::default_path()
                .context("no home folder to find the default library in: pass --library FILE")?,
        };
        worker.send(Command::Identify { library });
    }
    let (mut audio_end, worker_end) = link(audio.sample_rate, worker.published.clone());
    worker.send(Command::Attach(worker_end));
    eprintln!(
        "following {} ({:.1} s at {} Hz)",
        input.display(),
        audio.duration_s(),
        audio.sample_rate
    );
    let start = Instant::now();
    let block = 512;
    let mut answers = Answers::default();
    for (i, chunk) in audio.samples.chunks(block).enumerate() {
        audio_end.push_block(&[chunk]);
        audio_end.drain_events(|_, _| {});
        answers.print_new(&worker.status().identifying)?;
        if options.realtime {
            let due =
                Duration::from_secs_f64(((i + 1) * block) as f64 / f64::from(audio.sample_rate));
            std::thread::sleep(due.saturating_sub(start.elapsed()));
        } else {
            // As fast as the follower goes, but never faster: nothing may be dropped.
            while audio_end.backlog() > audio.sample_rate as usize {
                std::thread::sleep(Duration::from_millis(1));
            }
            if options.identify {
                let heard_s = ((i + 1) * block) as f64 / f64::from(audio.sample_rate);
                answers.keep_up(&worker, heard_s)?;
            }
        }
    }
    if !audio_end.wait_for_worker(Duration::from_secs(60)) {
        eprintln!(
            "the worker did not finish the last {} samples within a minute",
            audio_end.backlog()
        );
    }
    if options.identify {
        answers.wait_for_last(&worker, audio.duration_s())?;
    }
    let dropped = worker.published.dropped.load(Ordering::Relaxed);
    let last = worker.published.snapshot();
    drop(worker);
    match last {
        _ if !following => eprintln!("done; {dropped} samples dropped"),
        Some(s) => eprintln!(
            "done: last position measure {} beat {:.1} ({:?}); {dropped} samples dropped",
            s.measure_index + 1,
            s.beat_in_measure,
            s.state
        ),
        None => eprintln!("done: nothing was followed (no note heard); {dropped} samples dropped"),
    }
    Ok(())
}

/// Loads a score into the worker and waits until it is ready to follow.
fn prepare(worker: &segno::live::Worker, bytes: Arc<[u8]>, name: String) -> Result<()> {
    worker.send(Command::LoadScore {
        bytes,
        name,
        soundfont: None,
        start_measure: None,
    });
    eprintln!("preparing the score…");
    loop {
        let status = worker.status();
        if let Some(e) = status.error {
            bail!("{e}");
        }
        if status.score.is_some() {
            eprintln!("comparing frames with {}", status.similarity);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `--identify --headless`: each new answer, printed as it comes.
#[derive(Default)]
struct Answers {
    last: Option<Identification>,
}

impl Answers {
    fn print_new(&mut self, identifying: &Option<Identifying>) -> Result<()> {
        match identifying {
            Some(Identifying::Failed(why)) => bail!("{why}"),
            Some(Identifying::Found(found)) if self.last.as_ref() != Some(found) => {
                println!("{}", describe(found));
                self.last = Some(found.clone());
            }
            _ => {}
        }
        Ok(())
    }

    /// Faster than real time, the audio would outrun the looks (a look due while another runs
    /// is taken when that one ends, on whatever has come by then), and how many answers a file
    /// gets would depend on the machine. So the audio waits for each look's answer before it
    /// passes the point where the look after it falls due: every look is taken, on the same
    /// audio, and printed.
    fn keep_up(&mut self, worker: &segno::live::Worker, heard_s: f64) -> Result<()> {
        // More than the worker's chunk and this loop's block together overshoot a look's due time.
        const SLACK_S: f64 = 0.5;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.print_new(&worker.status().identifying)?;
            let answered_s = self
                .last
                .as_ref()
                .map_or(FIRST_LOOK_S - LOOK_EVERY_S, |found| found.until_s);
            if heard_s < answered_s + 2.0 * LOOK_EVERY_S - SLACK_S {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "no answer within a minute of the look due at {:.1} s",
                    answered_s + LOOK_EVERY_S
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits for the look at the end of the recording (a look is due every few seconds of
    /// audio, and one due when the audio ends is still taken).
    fn wait_for_last(&mut self, worker: &segno::live::Worker, duration_s: f64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            self.print_new(&worker.status().identifying)?;
            match &self.last {
                Some(found) if found.until_s + LOOK_EVERY_S >= duration_s => return Ok(()),
                None if duration_s < FIRST_LOOK_S => {
                    println!("the recording is too short to name a piece ({duration_s:.1} s; at least {FIRST_LOOK_S:.0} s)");
                    return Ok(());
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        bail!("no answer within a minute of the end of the recording")
    }
}

/// One answer on one line: the verdict, then the candidates with their confidence and where the
/// pianist was in each.
fn describe(found: &Identification) -> String {
    let verdict = match found.named() {
        Some(c) => format!("this is {}", c.title),
        None => "not in your library".to_owned(),
    };
    let candidates: Vec<String> = found
        .candidates
        .iter()
        .map(|c| {
            let place = c.now_measure.as_deref().unwrap_or("?");
            format!("{} ({:.2}, m. {place})", c.title, c.confidence)
        })
        .collect();
    format!(
        "at {:.0} s (the last {:.0} s heard, compared by {}): {verdict}; candidates: {}",
        found.until_s,
        found.heard_s,
        found.descriptor,
        candidates.join(", ")
    )
}

/// `positions.csv`, written as the worker reports.
struct CsvSink(Option<PositionWriter>);

impl ReportSink for CsvSink {
    fn report(&mut self, report: &Report, score: &Score, _sample_time: u64) {
        if let Some(Err(e)) = self.0.as_mut().map(|w| w.write(score, report)) {
            eprintln!("cannot write positions: {e}");
        }
    }
}

impl Drop for CsvSink {
    fn drop(&mut self) {
        if let Some(Err(e)) = self.0.take().map(PositionWriter::finish) {
            eprintln!("cannot write positions: {e}");
        }
    }
}
