//! `segno melody-dataset`: weakly aligned training data for seed 004's deep chroma, from the
//! benchmark's *train* split. Per case: the performance rendered on a random training piano
//! (never the theme benchmark's csound piano), detuned and degraded as a recording, and the score's
//! top voice with each note's time in that performance (from note-level anchors). The training
//! code (`models/train/train_deep_chroma.py`) cuts passages of 4–12 notes from it and keeps only
//! each passage's start and end: the labels are the passage's pitch classes, not their performed
//! times.
//!
//! Cases by the composers the theme benchmark tests on
//! ([`segno::eval::themes::HELD_OUT_COMPOSERS`]) are left out, as seed 004 splits by composer.
//!
//! Files per case, in `<out>/<case_id>/`: `audio.npy` (mono f32 at 22 050 Hz) and `melody.npy`
//! (notes × 4: performance onset s, performance end s, MIDI pitch, written length in the score s;
//! written last, it marks a finished case). The written lengths serve the frame-wise
//! cross-entropy training (the shipped model), which stretches a passage's notes linearly over
//! its audio by them; the CTC training uses the pitch classes alone.

use std::path::Path;
use std::sync::Arc;

use rustysynth::SoundFont;
use segno::eval::anchors::note_anchors;
use segno::eval::cases::Case;
use segno::eval::degrade::Degradation;
use segno::eval::metrics::{truth_perf_at, truth_score_at};
use segno::eval::run::{run_all, EvalError};
use segno::eval::themes::HELD_OUT_COMPOSERS;
use segno::features::SAMPLE_RATE;
use segno::nn::npy;
use segno::render::{find_soundfont, load_soundfont, render_events, RenderOptions};
use segno::resources::OTHER_PIANO_SOUNDFONT;
use segno::rng::Rng;
use segno::score::{midi, Score};
use segno::themes::Theme;

use super::dataset::TrainSplitArgs;

/// General MIDI programs played: the acoustic and the bright grand.
const PROGRAMS: [u8; 2] = [0, 1];

pub fn run(args: TrainSplitArgs) -> anyhow::Result<()> {
    let cases = args.cases(|c| !HELD_OUT_COMPOSERS.contains(&c.composer()))?;
    let pianos = [
        load_soundfont(&find_soundfont(None)?)?,
        load_soundfont(Path::new(OTHER_PIANO_SOUNDFONT))?,
    ];
    std::fs::create_dir_all(&args.out)?;
    let bar = indicatif::ProgressBar::new(cases.len() as u64).with_message("rendering");
    let written = run_all(
        &cases,
        args.threads,
        |c| c.id.clone(),
        &|done, _, _| bar.set_position(done as u64),
        |c| {
            write_case(c, &args, &pianos).map_err(|e| EvalError::Performance {
                path: c.performance.clone(),
                message: format!("{e:#}"),
            })
        },
    );
    bar.finish_and_clear();
    let failures: Vec<_> = written.into_iter().filter_map(Result::err).collect();
    for (id, e) in &failures {
        eprintln!("skipped {id}: {e}");
    }
    eprintln!(
        "wrote {} of {} cases (composers {} left out) to {}",
        cases.len() - failures.len(),
        cases.len(),
        HELD_OUT_COMPOSERS.join(", "),
        args.out.display()
    );
    Ok(())
}

fn write_case(case: &Case, args: &TrainSplitArgs, pianos: &[Arc<SoundFont>]) -> anyhow::Result<()> {
    let dir = args.out.join(&case.id);
    if dir.join("melody.npy").is_file() {
        return Ok(());
    }
    let first_perf = case.truth[0].1;
    let last_perf = case.truth.last().expect("truth has rows").1;
    let perf_end = (first_perf + args.max_seconds).min(last_perf);
    let score = Score::load(&case.score)?;
    let bytes = std::fs::read(&case.performance)?;
    let mut events =
        midi::read_events(&bytes).map_err(|e| anyhow::anyhow!("{}: {}", e.place, e.message))?;
    let anchors = note_anchors(&score.notes, &events, &case.truth);
    anyhow::ensure!(anchors.len() >= 2, "fewer than 2 score onsets matched");
    let melody = melody(&score, &anchors, truth_score_at(&anchors, perf_end));
    anyhow::ensure!(melody.len() >= 12, "fewer than 12 melody notes matched");

    let mut rng = Rng::from_name(&case.id);
    events.retain(|e| e.time_s < perf_end + 1.0 || e.command == 0x80);
    let font = &pianos[(rng.next_u64() % pianos.len() as u64) as usize];
    let program = PROGRAMS[(rng.next_u64() % PROGRAMS.len() as u64) as usize];
    let mut audio = render_events(
        font,
        &events,
        RenderOptions {
            sample_rate: SAMPLE_RATE,
            program,
            detune_cents: (rng.uniform() * 2.0 - 1.0) * 30.0,
        },
    )?;
    audio.truncate(((perf_end + 1.0) * f64::from(SAMPLE_RATE)) as usize);
    Degradation::random(&mut rng).apply(&mut audio, &mut rng);

    std::fs::create_dir_all(&dir)?;
    npy::write(&dir.join("audio.npy"), &[audio.len()], &audio)?;
    let rows: Vec<f32> = melody
        .iter()
        .flat_map(|n| {
            [
                n.onset as f32,
                n.end as f32,
                f32::from(n.pitch),
                n.written as f32,
            ]
        })
        .collect();
    // Written last: its presence marks a finished case.
    npy::write(&dir.join("melody.npy"), &[melody.len(), 4], &rows)?;
    Ok(())
}

/// A melody note as performed.
struct MelodyNote {
    /// Performance seconds.
    onset: f64,
    end: f64,
    pitch: u8,
    /// Score seconds.
    written: f64,
}

/// The score's top voice up to `score_end`, with performance times read from the anchors; notes
/// outside the anchors' span are left out.
fn melody(score: &Score, anchors: &[(f64, f64)], score_end: f64) -> Vec<MelodyNote> {
    let (first, last) = (anchors[0].0, anchors[anchors.len() - 1].0);
    let onsets = score.onsets();
    Theme::top_voice(score)
        .notes
        .iter()
        .zip(&onsets)
        .map(|(n, o)| (o.score_s, o.score_s + n.duration_s, n.pitch))
        .filter(|&(on, end, _)| on >= first && end <= last.min(score_end))
        .map(|(on, end, pitch)| MelodyNote {
            onset: truth_perf_at(anchors, on),
            end: truth_perf_at(anchors, end),
            pitch,
            written: end - on,
        })
        .collect()
}
