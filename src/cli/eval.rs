//! `segno eval`: the benchmark on real performances, with a table for BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::PathBuf;

use segno::eval::calibration::{
    other_pieces, run_calibration_case, CalibrationResult, StateCounts, Unrelated, SWEEP,
    UNRELATED_S,
};
use segno::eval::cases::Case;
use segno::eval::cases::{load_cases, pieces};
use segno::eval::identify;
use segno::eval::localiser::{localise_case, Buckets};
use segno::eval::metrics::{summarize, Summary, THRESHOLDS_MS};
use segno::eval::practice::Scenario;
use segno::eval::rendering::Rendering;
use segno::eval::run::{
    peak_memory_mib, run_all, run_case, run_practice_case, CaseResult, EvalConfig, PracticeResult,
};
use segno::eval::themes;
use segno::follow::Method;
use segno::locate::dual_stack::{self, DualStack};
use segno::render::{find_soundfont, load_soundfont};
use segno::resources::Resources;
use segno::resources::{OTHER_PIANO_SOUNDFONT, SYSTEM_SOUNDFONTS};
use segno::similarity::{Similarity, SimilarityPlanner, Task, HYBRID_WEIGHT};
use segno::themes::{ChromaExtractor, TempoRange, Transpositions};

use super::themes::ChromaArgs;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Folder of cases (`<case_id>/<case_id>.{score.mid,perf.mid,truth.csv}`).
    #[arg(long, default_value = "../shared/benchmark/dev")]
    cases: PathBuf,
    /// Only cases whose id contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Only every n-th case (a quick, spread-out subset).
    #[arg(long, default_value_t = 1)]
    every: usize,
    /// At most this many cases.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// SoundFont for the score reference (default: the system's, FluidR3 first).
    #[arg(long)]
    soundfont: Option<PathBuf>,
    /// SoundFont for the performance (default: TimGM6mb; another piano than the reference).
    #[arg(long)]
    performance_soundfont: Option<PathBuf>,
    /// General MIDI program of the performance (default 0, acoustic grand; 1, bright piano, when
    /// the performance uses the reference's SoundFont).
    #[arg(long)]
    performance_program: Option<u8>,
    /// How frames are compared: classical (chroma + onset), chroma (chroma only, the plain DTW
    /// baseline), learned (Euclidean distance of --model's embeddings), learned-binary (seed 000's
    /// binary matrix), hybrid (classical + --hybrid-weight × learned) or auto (as `segno follow`).
    #[arg(long, default_value_t = Similarity::Classical)]
    similarity: Similarity,
    /// Weight of the learned distance added to the classical cost, for --similarity hybrid.
    #[arg(long, default_value_t = HYBRID_WEIGHT)]
    hybrid_weight: f32,
    /// The learned-similarity model (default: as `segno follow`, models/scnn_semitone.onnx).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Online aligner: filter (position–tempo filter) or oltw (online time warping).
    #[arg(long, default_value_t = Method::default())]
    follower: Method,
    /// Let the follower also look for the pianist over the whole piece (experimental relocation
    /// after restarts and skips; off by default). Seed 001's localiser (models/localiser.onnx)
    /// checks every place found before the follower moves there.
    #[arg(long)]
    relocation: bool,
    /// With --relocation: move on the classical search alone, without the localiser's check.
    #[arg(long, requires = "relocation")]
    no_localiser: bool,
    #[arg(long)]
    no_online: bool,
    #[arg(long)]
    no_offline: bool,
    /// Online: cross score onsets at the 23 ms frames only, not at the attack heard between
    /// them (the follower's default).
    #[arg(long)]
    no_attack_crossing: bool,
    /// Offline: leave the onsets where the DTW path puts them (at its 23 ms frames), without
    /// moving each to its attack (`segno align` refines them).
    #[arg(long)]
    no_refine: bool,
    /// Play every performance this many times as slowly as recorded (2: half speed, 0.5: twice
    /// as fast; the notes themselves sound as before), the truth stretched with it: does an
    /// error depend on the tempo? 0.25–4; not with --practice, --calibration or
    /// --localiser-buckets.
    #[arg(long, default_value_t = 1.0, conflicts_with_all = ["practice", "calibration", "localiser_buckets"])]
    stretch: f64,
    /// Play every case as a pianist practising, and measure how the follower finds them again:
    /// restart (stop, start again 4–20 s earlier), skip (8–30 s ahead), mid-piece (start 20–60 %
    /// into the piece), repeat-not-taken (where the score has a repeat: the benchmark's MIDI
    /// scores have theirs written out), or all (no value). Online only.
    #[arg(long, num_args = 0..=1, default_missing_value = "all", value_name = "SCENARIO")]
    practice: Option<String>,
    /// Play every performance on each of these pianos and rooms (comma-separated names, or all:
    /// timgm-hall, csound-studio, timgm-bright-church) and report each and the worst.
    #[arg(long, conflicts_with_all = ["performance_soundfont", "performance_program", "practice", "summary_csv"])]
    renderings: Option<String>,
    /// Measure the dual-stack localiser instead of following (seed 001's buckets: exact model
    /// frame, within one, within 250 ms, on a snippet every second of each performance): the
    /// model at this path, or models/localiser.onnx without one.
    #[arg(long, num_args = 0..=1, value_name = "MODEL", conflicts_with = "practice")]
    localiser_buckets: Option<Option<PathBuf>>,
    /// Measure what the state `following` is worth: on each case's own performance, the share of
    /// `following` frames within 0.5 s of the truth; on white noise, a sine tone and another
    /// piece played against the score, the share of frames said `following`. Online only; with
    /// --renderings, on each piano and room.
    #[arg(long, conflicts_with_all = ["practice", "localiser_buckets", "summary_csv"])]
    calibration: bool,
    /// Measure the theme search instead of following (seed 004's retrieval): this many themes
    /// per piece (10 without a value) from its top voice, for the pieces by composers the deep
    /// chroma was not trained on (as seed 004 splits by composer), each searched for among all
    /// the performances rendered on one piano (--renderings, csound-studio by default): Top-k
    /// and MRR.
    #[arg(long, num_args = 0..=1, default_missing_value = "10", value_name = "PER_PIECE",
          conflicts_with_all = ["practice", "localiser_buckets", "calibration", "summary_csv", "stretch"])]
    themes: Option<usize>,
    /// Measure piece identification instead of following (seed 002's Tables I and II): a library
    /// of every dev and train score, and fragments (10, 20, 30, 60 s) and whole performances on
    /// one piano (--renderings, csound-studio by default) as queries.
    #[arg(long, conflicts_with_all = ["practice", "localiser_buckets", "calibration", "summary_csv", "stretch", "themes"])]
    identify: bool,
    /// With --identify: rank by seed 003's cross-modal embedding instead
    /// (models/crossmodal_audio.onnx and crossmodal_score.onnx), as `segno identify` does.
    #[arg(long, requires = "identify")]
    crossmodal: bool,
    /// With --identify: also put the scores under these folders (MIDI, MusicXML, .mxl) in the
    /// library, as pieces no query plays: another corpus, for a larger library.
    #[arg(long, requires = "identify", value_name = "DIR")]
    more_scores: Vec<PathBuf>,
    /// With --themes: try every transposition of each theme (twelve chroma shifts).
    #[arg(long, requires = "themes")]
    transpose: bool,
    /// With --themes: the tempi each theme is tried at, written (the default, as for a theme
    /// from a score) or any (also a quarter to four times, as for a typed theme).
    #[arg(long, requires = "themes", default_value_t = TempoRange::Written)]
    tempo: TempoRange,
    /// With --themes: give each theme the length it has in the performance it was drawn from,
    /// as seed 004's queries have ("a globally corresponding rendition of the query theme (i.e.,
    /// matching duration and transposition)"): its notes stretched evenly. A user's theme has no
    /// such length; this measures what not knowing the pianist's tempo costs.
    #[arg(long, requires = "themes")]
    as_played: bool,
    /// With --themes: the chroma the recordings are described by.
    #[command(flatten)]
    chroma: ChromaArgs,
    /// Write each case's rendered performance (.wav) and follower positions (.positions.csv) here;
    /// with --practice also the practice performance's truth (.truth.csv, every 100 ms tick).
    #[arg(long)]
    dump: Option<PathBuf>,
    /// Write the result tables as Markdown to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Append one summary row (pooled shares online and offline, compute per frame) named
    /// --summary-name to this CSV: the rows of BENCHMARKS.md's Table II.
    #[arg(long, requires = "summary_name", conflicts_with = "practice")]
    summary_csv: Option<PathBuf>,
    #[arg(long)]
    summary_name: Option<String>,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    if !args.cases.is_dir() {
        println!("benchmark data not found at {}: skipping (it is not part of the repository; see BENCHMARKS.md)", args.cases.display());
        return Ok(());
    }
    let mut cases = load_cases(&args.cases)?;
    if let Some(only) = &args.only {
        cases.retain(|c| c.id.contains(only.as_str()));
    }
    cases = cases.into_iter().step_by(args.every.max(1)).collect();
    cases.truncate(args.limit.unwrap_or(usize::MAX));
    anyhow::ensure!(!cases.is_empty(), "no case matches --only");
    let ref_path = find_soundfont(args.soundfont.as_deref())?;
    let perf_path = args
        .performance_soundfont
        .clone()
        .unwrap_or_else(|| OTHER_PIANO_SOUNDFONT.into());
    anyhow::ensure!(
        perf_path.is_file(),
        "performance SoundFont {} is missing: install timgm6mb-soundfont (`cargo xtask setup`) or pass --performance-soundfont (one of {})",
        perf_path.display(),
        SYSTEM_SOUNDFONTS.join(", ")
    );
    let mut cfg = EvalConfig::new(load_soundfont(&ref_path)?, load_soundfont(&perf_path)?);
    if ref_path == perf_path {
        cfg.performance_program = 1; // bright piano: at least another preset than the reference
    }
    if let Some(program) = args.performance_program {
        anyhow::ensure!(
            program < 128,
            "--performance-program {program}: General MIDI programs are 0..127"
        );
        cfg.performance_program = program;
    }
    anyhow::ensure!(
        (0.25..=4.0).contains(&args.stretch),
        "--stretch {}: play performances 0.25 to 4 times as slowly as recorded",
        args.stretch
    );
    cfg.stretch = args.stretch;
    cfg.method = args.follower;
    cfg.relocation = args.relocation;
    if args.relocation && !args.no_localiser {
        cfg.localiser = Some(localiser_model(None)?);
        eprintln!("relocation checked by {}", dual_stack::MODEL_FILE);
    }
    // The benchmark measures on the CPU, the machine every figure in BENCHMARKS.md comes from.
    let planner = SimilarityPlanner::new(Resources::default(), segno::nn::Device::Cpu)
        .with_model(args.model.clone())
        .with_hybrid_weight(args.hybrid_weight);
    let task = if args.no_online {
        Task::Align
    } else {
        Task::Follow(cfg.method)
    };
    cfg.similarity = planner.plan(args.similarity, task)?;
    eprintln!("comparing frames with {}", cfg.similarity.describe());
    cfg.online = !args.no_online;
    cfg.offline = !args.no_offline;
    cfg.refine = !args.no_refine;
    cfg.attack_crossing = !args.no_attack_crossing;
    cfg.dump = args.dump.clone();
    eprintln!("{} cases; reference {}", cases.len(), ref_path.display());
    if args.renderings.is_none() && args.themes.is_none() && !args.identify {
        describe_performance(&cfg, &perf_path);
    }
    let bar = indicatif::ProgressBar::new(cases.len() as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} {elapsed_precise} eta {eta}  {msg}",
        )
        .expect("valid template"),
    );
    let started = std::time::Instant::now();
    let name = |c: &Case| c.id.clone();
    let progress = |done: usize, _: usize, id: &str| {
        bar.set_position(done as u64);
        bar.set_message(id.to_owned());
    };
    let report = match (args.practice.as_deref(), &args.localiser_buckets) {
        _ if args.themes.is_some() => themes_benchmark(&cases, &cfg, &args, &bar, &progress)?,
        _ if args.identify => identify_benchmark(&cases, &cfg, &args, &bar, &progress)?,
        _ if args.calibration => {
            let others = other_pieces(&cases)?;
            let pairs: Vec<(&Case, Option<&Case>)> = cases
                .iter()
                .zip(others.iter().map(|o| o.map(|o| &cases[o])))
                .collect();
            // The report of one rendering, and its totals.
            let calibrate = |cfg: &EvalConfig| {
                let started = std::time::Instant::now();
                bar.reset();
                let results = succeeded(run_all(
                    &pairs,
                    args.threads,
                    |p| p.0.id.clone(),
                    &progress,
                    |p| run_calibration_case(p.0, p.1, cfg),
                ));
                let wall_s = started.elapsed().as_secs_f64();
                (
                    calibration_report(&results, wall_s),
                    calibration_totals(&results),
                )
            };
            let report = match &args.renderings {
                None => calibrate(&cfg).0,
                Some(names) => {
                    let mut sections = String::new();
                    let mut rows = Vec::new();
                    for rendering in parse_renderings(names)? {
                        let cfg = cfg.rendered(rendering)?;
                        describe_performance(&cfg, rendering.soundfont());
                        let (section, totals) = calibrate(&cfg);
                        let _ = write!(sections, "\n## Rendering {rendering}\n{section}");
                        rows.push((rendering, totals));
                    }
                    calibration_renderings_report(&rows) + &sections
                }
            };
            bar.finish_and_clear();
            report
        }
        (_, Some(model)) => {
            let model = localiser_model(model.as_deref())?;
            let results = run_all(&cases, args.threads, name, &progress, |c| {
                let mut localiser = DualStack::load(&model, segno::nn::Device::Cpu)?;
                localise_case(c, &cfg, &mut localiser)
            });
            bar.finish_and_clear();
            localiser_report(&model, &succeeded(results), started.elapsed().as_secs_f64())
        }
        (Some(which), None) => {
            let scenarios = practice_scenarios(which)?;
            let name = |c: &Case| c.id.clone();
            let results = run_all(&cases, args.threads, name, &progress, |c| {
                run_practice_case(c, &cfg, &scenarios)
            });
            bar.finish_and_clear();
            let ok: Vec<PracticeResult> = succeeded(results).into_iter().flatten().collect();
            practice_report(
                &ok,
                &scenarios,
                started.elapsed().as_secs_f64(),
                args.threads,
            )
        }
        (None, None) if args.renderings.is_some() => {
            let renderings = parse_renderings(args.renderings.as_deref().unwrap_or("all"))?;
            let mut sections = String::new();
            let mut rows = Vec::new();
            for &rendering in &renderings {
                let cfg = cfg.rendered(rendering)?;
                describe_performance(&cfg, rendering.soundfont());
                bar.reset();
                let results = run_all(&cases, args.threads, name, &progress, |c| run_case(c, &cfg));
                let ok = succeeded(results);
                let _ = write!(sections, "\n## Rendering {rendering}\n");
                sections += &report(&ok, &cfg, started.elapsed().as_secs_f64(), args.threads);
                rows.push((rendering, rendering_row(&ok, &cfg)));
            }
            bar.finish_and_clear();
            renderings_report(&rows) + &sections
        }
        (None, None) => {
            let results = run_all(&cases, args.threads, name, &progress, |c| run_case(c, &cfg));
            bar.finish_and_clear();
            let ok = succeeded(results);
            if let (Some(path), Some(name)) = (&args.summary_csv, &args.summary_name) {
                append_summary(path, name, &ok, &cfg)?;
            }
            report(&ok, &cfg, started.elapsed().as_secs_f64(), args.threads)
        }
    };
    print!("{report}");
    if let Some(path) = &args.markdown {
        segno::output::write_file(path, report.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The configuration a retrieval benchmark plays its recordings with: on the one rendering
/// named, or csound-studio.
fn retrieval_config(
    cfg: &EvalConfig,
    args: &EvalArgs,
    flag: &str,
) -> anyhow::Result<(Rendering, EvalConfig)> {
    let rendering = match args.renderings.as_deref() {
        Some(names) => match parse_renderings(names)?.as_slice() {
            [one] => *one,
            _ => anyhow::bail!("{flag} plays the performances on one piano: name one rendering"),
        },
        None => Rendering::CsoundStudio,
    };
    let cfg = cfg.rendered(rendering)?;
    describe_performance(&cfg, rendering.soundfont());
    Ok((rendering, cfg))
}

/// Seconds of the fragments the scaling run times, and how many.
const SCALING_QUERY_S: f64 = 30.0;
const SCALING_QUERIES: usize = 6;

/// Seed 002's identification tables, and what a query costs.
fn identify_benchmark(
    cases: &[Case],
    cfg: &EvalConfig,
    args: &EvalArgs,
    bar: &indicatif::ProgressBar,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
) -> anyhow::Result<String> {
    let (rendering, cfg) = retrieval_config(cfg, args, "--identify")?;
    let started = std::time::Instant::now();
    let mut splits = vec![args.cases.clone()];
    let train = args.cases.with_file_name("train");
    if train.is_dir() && train != args.cases {
        splits.push(train);
    }
    let (lib, unread) = identify::BenchLibrary::build(&splits, &args.more_scores)?;
    let library = &lib.library;
    let hours = library.pieces.iter().map(|p| p.duration_s).sum::<f64>() / 3600.0;
    eprintln!(
        "library: {} pieces ({hours:.1} h at their written tempi; {unread} files of --more-scores unread); performances on {rendering}",
        library.pieces.len()
    );
    if args.crossmodal {
        return crossmodal_benchmark(cases, &cfg, args, &lib, progress, &rendering);
    }
    let catalogue = library.catalogue();
    let results = run_all(
        cases,
        args.threads,
        |c| c.id.clone(),
        progress,
        |c| {
            let relevant = lib
                .piece_of(c)?
                .expect("every case's score is in the library");
            let (chroma, chroma_cost) =
                themes::performance_chroma(c, &cfg, &mut ChromaExtractor::Classical)?;
            Ok((
                identify::query_case(&c.id, &chroma, relevant, &lib, &catalogue),
                (
                    identify::fragment_query(&c.id, &chroma, SCALING_QUERY_S),
                    chroma_cost,
                ),
                (relevant, segno::identify::Query::from_chroma(&chroma)),
            ))
        },
    );
    bar.finish_and_clear();
    let mut outcomes = Vec::new();
    let mut described: Vec<(_, f64)> = Vec::new();
    let (mut recording_pieces, mut recordings) = (Vec::new(), Vec::new());
    for (o, d, (piece, query)) in succeeded(results) {
        outcomes.push(o);
        described.push(d);
        recording_pieces.push(piece);
        recordings.push(query);
    }
    let s2a_started = std::time::Instant::now();
    let s2a = identify::score_to_audio_ranks(library, lib.works(), &recording_pieces, &recordings);
    let s2a_s = s2a_started.elapsed().as_secs_f64();
    let chroma_ms = 1000.0 * SCALING_QUERY_S * described.iter().map(|d| d.1).sum::<f64>()
        / described.len().max(1) as f64;
    let outcomes: Vec<identify::Outcome> = outcomes.into_iter().flatten().collect();
    let queries: Vec<_> = described
        .into_iter()
        .filter_map(|d| d.0)
        .take(SCALING_QUERIES)
        .collect();
    let mut out = format!(
        "\n### Piece identification, audio to score: {} performances on {rendering}, library of {} pieces\n\n",
        cases.len(),
        library.pieces.len(),
    );
    out += &identify_table(&outcomes, args.threads);
    out += &score_to_audio_table(&s2a, s2a_s);
    out += &scaling_table(
        &identify::scaling(library, &queries),
        queries.len(),
        "The library is grown with copies of its pieces in other keys.",
    );
    let _ = writeln!(
        out,
        "\n- a recording's chroma (what a query is described from) takes {chroma_ms:.0} ms per {SCALING_QUERY_S:.0} s of audio, on one thread with {} threads busy",
        args.threads
    );
    let _ = writeln!(
        out,
        "\n- wall time {:.0} s on {} threads",
        started.elapsed().as_secs_f64(),
        args.threads
    );
    Ok(out)
}

/// Other bars the benchmark reports the cross-modal confidence at.
const CONFIDENCE_SWEEP: [f32; 6] = [0.05, 0.08, 0.1, 0.12, 0.15, 0.2];

/// Seed 002's figures for seed 003's cross-modal embedding, per query span.
fn crossmodal_benchmark(
    cases: &[Case],
    cfg: &EvalConfig,
    args: &EvalArgs,
    lib: &identify::BenchLibrary,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
    rendering: &dyn std::fmt::Display,
) -> anyhow::Result<String> {
    use segno::identify::crossmodal::CrossModal;
    let resources = Resources::default();
    let load = || CrossModal::installed(&resources, segno::nn::Device::Cpu);
    // Said once, before any work, if the model is missing.
    load()?;
    let library = &lib.library;
    let started = std::time::Instant::now();
    let pieces = identify::embed_library(library, &resources, args.threads)?;
    let library_s = started.elapsed().as_secs_f64();
    let music: Vec<&[_]> = pieces.iter().map(Vec::as_slice).collect();
    let started = std::time::Instant::now();
    let index = segno::identify::neighbours::NeighbourIndex::build(&music)?;
    let index_s = started.elapsed().as_secs_f64();
    let catalogue = segno::identify::Catalogue::with_shortlist(music.iter().copied(), &index);
    let results = run_all(
        cases,
        args.threads,
        |c| c.id.clone(),
        progress,
        |c| {
            let relevant = lib
                .piece_of(c)?
                .expect("every case's score is in the library");
            let (audio, _) = segno::eval::run::render_performance(c, cfg)?;
            let (_, semitones) =
                segno::features::extract_with_semitones(&audio, segno::features::SAMPLE_RATE);
            // The chroma's queries are drawn over its duration: the fragments start where theirs do.
            let chroma = segno::themes::RecordingChroma::from_semitones(&semitones);
            let mut model = load()?;
            let (outcomes, whole) = identify::crossmodal_case(
                &c.id,
                &semitones,
                chroma.duration_s(),
                relevant,
                lib,
                &catalogue,
                &mut model,
            )?;
            let fragment = identify::crossmodal_fragment(
                &c.id,
                &semitones,
                chroma.duration_s(),
                SCALING_QUERY_S,
            )
            .map(<[f32]>::to_vec);
            Ok((outcomes, fragment, (relevant, whole)))
        },
    );
    let mut outcomes = Vec::new();
    let mut fragments = Vec::new();
    let (mut recording_pieces, mut recordings) = (Vec::new(), Vec::new());
    for (o, f, (piece, whole)) in succeeded(results) {
        outcomes.push(o);
        fragments.push(f);
        if let Some(whole) = whole {
            recording_pieces.push(piece);
            recordings.push(whole);
        }
    }
    let s2a_started = std::time::Instant::now();
    let s2a =
        identify::score_to_audio_ranks_by(&music, lib.works(), &recording_pieces, &recordings);
    let s2a_s = s2a_started.elapsed().as_secs_f64();
    let outcomes: Vec<identify::CrossModalOutcome> = outcomes.into_iter().flatten().collect();
    let fragments: Vec<&[f32]> = fragments
        .iter()
        .flatten()
        .map(Vec::as_slice)
        .take(SCALING_QUERIES)
        .collect();
    let mut model = load()?;
    let scaling = identify::crossmodal_scaling(library, &pieces, &fragments, &mut model)?;
    let mut out = format!(
        "\n### Piece identification by seed 003's cross-modal embedding: {} performances on {rendering}, library of {} pieces (embedded in {library_s:.0} s on {} threads, its snippet index built in {index_s:.1} s on one)\n\n| query | queries | R@1 | R@5 | R@10 | MRR | median rank | named, sure enough to say so % | not in library: another named % | ms per query | voting: R@1 | MRR |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        cases.len(),
        library.pieces.len(),
        args.threads
    );
    for span in identify::SPANS {
        let these: Vec<_> = outcomes.iter().filter(|o| o.span == span).collect();
        let f = identify::Figures::of(&these.iter().map(|o| o.rank).collect::<Vec<_>>());
        let v = identify::Figures::of(&these.iter().map(|o| o.voting_rank).collect::<Vec<_>>());
        let n = these.len().max(1) as f64;
        let ms = 1000.0 * these.iter().map(|o| o.seconds).sum::<f64>() / n;
        let pct = |keep: fn(&identify::CrossModalOutcome) -> bool| {
            format!(
                "{:.1}",
                100.0 * these.iter().filter(|o| keep(o)).count() as f64 / n
            )
        };
        let _ = writeln!(
            out,
            "| {span} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {ms:.0} | {:.3} | {:.3} |",
            f.queries, f.recall[0], f.recall[1], f.recall[2], f.mrr, f.median_rank,
            pct(|o| o.own_confidence >= segno::identify::MIN_CROSSMODAL_CONFIDENCE),
            pct(|o| o.other_confidence >= segno::identify::MIN_CROSSMODAL_CONFIDENCE),
            v.recall[0],
            v.mrr,
        );
    }
    // How deep the filter must keep for the full alignment to see the right piece.
    let mut deepest: Vec<usize> = outcomes.iter().map(|o| o.shortlist_rank).collect();
    deepest.sort_unstable();
    let _ = write!(
        out,
        "\n- the own piece's place in the filter's rough ranking: within"
    );
    for k in [1, 2, 4, 8, 16, 24] {
        let _ = write!(
            out,
            " {k}: {:.1} %;",
            100.0 * deepest.iter().filter(|&&r| r <= k).count() as f64
                / deepest.len().max(1) as f64
        );
    }
    let _ = writeln!(out, " deepest {}", deepest.last().copied().unwrap_or(0));
    // What the confidence separates: named and falsely named at other bars, over all spans and
    // per span (a short query's costs are noisier).
    let sweep = |these: &[&identify::CrossModalOutcome]| {
        let share = |keep: &dyn Fn(&identify::CrossModalOutcome) -> bool| {
            100.0 * these.iter().filter(|o| keep(o)).count() as f64 / these.len().max(1) as f64
        };
        CONFIDENCE_SWEEP
            .iter()
            .map(|&bar| {
                format!(
                    " {bar:.2}: {:.1} / {:.1} %;",
                    share(&|o| o.rank == 1 && o.own_confidence >= bar),
                    share(&|o| o.other_confidence >= bar)
                )
            })
            .collect::<String>()
    };
    let all: Vec<&identify::CrossModalOutcome> = outcomes.iter().collect();
    let _ = writeln!(
        out,
        "\n- named / another named (all spans) at confidence{}",
        sweep(&all)
    );
    for span in identify::SPANS {
        let these: Vec<_> = outcomes.iter().filter(|o| o.span == span).collect();
        let _ = writeln!(out, "  - {span}:{}", sweep(&these));
    }
    let _ = writeln!(
        out,
        "\n- a query's time: embedding it at every tempo scale, filter and refine, and its confidence, one thread, {} threads busy",
        args.threads
    );
    out += &score_to_audio_table(&s2a, s2a_s);
    let rows: Vec<identify::ScalingRow> = scaling.iter().map(|r| r.row).collect();
    out += &scaling_table(
        &rows,
        fragments.len(),
        &format!(
            "The library is grown with copies of its pieces (chroma in other keys, embeddings as they are); filter and refine shortlists by the snippet index. Embedding a query at every tempo scale: {:.0} ms. Per size: the filter alone (the index's votes), the confidence after ranking (the transposed rival), and building the snippet index on one thread: {}.",
            scaling.first().map_or(f64::NAN, |r| r.embed_ms),
            scaling
                .iter()
                .map(|r| format!(
                    "{} pieces {:.0} ms, {:.0} ms, {:.1} s",
                    r.row.pieces, r.filter_ms, r.confidence_ms, r.index_s
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    Ok(out)
}

/// Seed 002's figures per method and query span.
fn identify_table(outcomes: &[identify::Outcome], threads: usize) -> String {
    let mut out = String::from("| method | query | queries | R@1 | R@5 | R@10 | MRR | median rank | named, sure enough to say so % | not in library: another named % | ms per query |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for method in segno::identify::Method::ALL {
        for span in identify::SPANS {
            let these: Vec<&identify::Outcome> = outcomes
                .iter()
                .filter(|o| o.method == method && o.span == span)
                .collect();
            let ranks: Vec<usize> = these.iter().map(|o| o.rank).collect();
            let f = identify::Figures::of(&ranks);
            let n = these.len().max(1) as f64;
            let pct = |k: usize| format!("{:.1}", 100.0 * k as f64 / n);
            let (named, false_pct) = if method == segno::identify::Method::Voting {
                ("–".into(), "–".into())
            } else {
                (
                    pct(these.iter().filter(|o| o.named()).count()),
                    pct(these.iter().filter(|o| o.false_match()).count()),
                )
            };
            let ms = 1000.0 * these.iter().map(|o| o.seconds).sum::<f64>() / n;
            let _ = writeln!(
                out,
                "| {method} | {span} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {named} | {false_pct} | {ms:.0} |",
                f.queries, f.recall[0], f.recall[1], f.recall[2], f.mrr, f.median_rank
            );
        }
    }
    let _ = writeln!(
        out,
        "\n- a query's time includes describing it (its chroma precomputed), on one thread, with {threads} threads busy"
    );
    out
}

/// Seed 002's figures for the score-to-audio direction.
fn score_to_audio_table(ranks: &[usize], seconds: f64) -> String {
    let f = identify::Figures::of(ranks);
    format!(
        "\n#### Score to audio: each performance's score ranks it among the performances of every other piece (one relevant)\n\n| queries | R@1 | R@5 | R@10 | MRR | median rank | s for all |\n|---|---|---|---|---|---|---|\n| {} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {seconds:.0} |\n",
        f.queries, f.recall[0], f.recall[1], f.recall[2], f.mrr, f.median_rank
    )
}

/// Query time against library size, over `queries` queries; `how` says how the library was grown.
fn scaling_table(rows: &[identify::ScalingRow], queries: usize, how: &str) -> String {
    let mut out = format!(
        "\n#### Query time against library size: {queries} queries of {SCALING_QUERY_S:.0} s, one thread, nothing else running\n\n{how}\n\n| pieces | filter and refine, ms per query | every piece aligned, ms | ratio | library file, MB |\n|---|---|---|---|---|\n"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.3} | {:.1} |",
            row.pieces,
            row.filtered_ms,
            row.full_ms,
            row.filtered_ms / row.full_ms.max(1e-9),
            row.bytes as f64 / 1e6
        );
    }
    out
}

/// Seed 004's retrieval table for the theme search, and what a query costs.
fn themes_benchmark(
    cases: &[Case],
    cfg: &EvalConfig,
    args: &EvalArgs,
    bar: &indicatif::ProgressBar,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
) -> anyhow::Result<String> {
    let (rendering, cfg) = retrieval_config(cfg, args, "--themes")?;
    let started = std::time::Instant::now();
    let piece_of = pieces(cases)?;
    let mut drawn = themes::draw_themes(cases, &piece_of, args.themes.unwrap_or(10))?;
    // Seed 004 splits by composer: a trained chroma never meets a composer it learned from.
    drawn.retain(|t| themes::HELD_OUT_COMPOSERS.contains(&cases[t.relevant].composer()));
    for t in &mut drawn {
        t.theme.tempo = args.tempo;
        if args.as_played {
            t.theme.stretch_to(t.perf_span.1 - t.perf_span.0);
        }
    }
    let model = args.chroma.model()?;
    eprintln!(
        "{} themes by {}; performances on {rendering}; {} chroma",
        drawn.len(),
        themes::HELD_OUT_COMPOSERS.join(", "),
        args.chroma.kind()
    );
    let chroma = run_all(
        cases,
        args.threads,
        |c| c.id.clone(),
        progress,
        |c| {
            let mut extractor = ChromaExtractor::of(model.as_deref(), segno::nn::Device::Cpu)?;
            themes::performance_chroma(c, &cfg, &mut extractor).map(|(chroma, _)| chroma)
        },
    );
    bar.finish_and_clear();
    let chroma = chroma
        .into_iter()
        .map(|r| r.map_err(|(id, e)| anyhow::anyhow!("{id}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let transpositions = Transpositions::when(args.transpose);
    let r = themes::search_all(
        &drawn,
        cases,
        &piece_of,
        &chroma,
        transpositions,
        args.threads,
    );
    let mut out = format!(
        "\n### Theme search: {} themes, {} recordings ({:.2} h) on {rendering}\n\n| chroma | transpositions | tempo | pool | Top-01 | Top-05 | Top-10 | Top-20 | Top-50 | MRR | rank 1 and matched where the theme was drawn from % |\n|---|---|---|---|---|---|---|---|---|---|---|\n| {} | {} | {} | {:.0} ",
        r.ranks.len(),
        cases.len(),
        r.recordings_s / 3600.0,
        model.as_deref().map_or_else(|| "classical".to_owned(), |m| format!("deep ({})", m.display())),
        if args.transpose { "all 12" } else { "as written" },
        if args.as_played { format!("{}, as played", args.tempo) } else { args.tempo.to_string() },
        r.pool.iter().sum::<usize>() as f64 / r.pool.len().max(1) as f64,
    );
    for k in themes::TOP_K {
        let _ = write!(out, "| {:.3} ", r.top(k));
    }
    let placed = 100.0 * r.placed as f64 / r.ranks.len().max(1) as f64;
    let _ = writeln!(out, "| {:.3} | {placed:.1} |", r.mrr());
    let mean_s = r.query_s.iter().sum::<f64>() / r.query_s.len().max(1) as f64;
    let _ = writeln!(
        out,
        "\n- per query {mean_s:.3} s on one thread over its pool; {:.2} s over 4 h of recordings, features precomputed\n- wall time {:.0} s on {} threads",
        r.seconds_per_query(4.0),
        started.elapsed().as_secs_f64(),
        args.threads
    );
    Ok(out)
}

/// The localiser to use: `given`, or the one in models/.
fn localiser_model(given: Option<&std::path::Path>) -> anyhow::Result<PathBuf> {
    if let Some(given) = given {
        return Ok(given.to_owned());
    }
    dual_stack::find_model(&Resources::default()).ok_or_else(|| {
        anyhow::anyhow!(
            "no {} in the models folder: train it with `cargo xtask models localiser` or pass --localiser PATH",
            dual_stack::MODEL_FILE
        )
    })
}

/// Seed 001's bucket hit rates, pooled over the cases.
fn localiser_report(model: &std::path::Path, results: &[Buckets], wall_s: f64) -> String {
    let mut all = Buckets::default();
    for b in results {
        all.add(*b);
    }
    let [exact, one, ms250] = all.shares().map(|s| s * 100.0);
    format!(
        "\n### Localiser ({}): seed 001's buckets\n\n| cases | snippets | exact model frame ({:.0} ms) % | within one frame % | within 250 ms % |\n|---|---|---|---|---|\n| {} | {} | {exact:.1} | {one:.1} | {ms250:.1} |\n\n- wall time {wall_s:.0} s\n",
        model.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        dual_stack::MODEL_FRAME_S * 1e3,
        results.len(),
        all.snippets
    )
}

/// The calibration table: what `following` is worth on each case's own performance, and how
/// often it is claimed on audio that is not the piece; then each case.
fn calibration_report(results: &[CalibrationResult], wall_s: f64) -> String {
    let (own, unrelated) = calibration_totals(results);
    let mut out = format!(
        "\n### Calibration: what `following` is worth\n\n| audio | cases | frames | said `following` % | of those within 0.5 s of the truth % | said `lost` or `searching` % |\n|---|---|---|---|---|---|\n| its own performance | {} | {} | {:.1} | {:.2} | {:.1} |\n",
        results.len(),
        own.frames,
        100.0 * own.following_share(),
        100.0 * own.precision(),
        100.0 * own.given_up_share()
    );
    for (kind, (cases, c)) in Unrelated::ALL.iter().zip(&unrelated) {
        let _ = writeln!(
            out,
            "| {kind} ({UNRELATED_S:.0} s) | {cases} | {} | {:.2} | – | {:.1} |",
            c.frames,
            100.0 * c.following_share(),
            100.0 * c.given_up_share()
        );
    }
    out.push_str(&calibration_curve(&own, &unrelated));
    let _ = writeln!(out, "\n- wall time {wall_s:.0} s\n\n### Per case\n\n| case | own: `following` % | own: within 0.5 s % | noise % | sine % | another piece % |\n|---|---|---|---|---|---|");
    for r in results {
        let shares: Vec<String> = Unrelated::ALL
            .iter()
            .map(|kind| {
                r.unrelated
                    .iter()
                    .find(|u| u.0 == *kind)
                    .map_or("–".into(), |(_, c)| {
                        format!("{:.1}", 100.0 * c.following_share())
                    })
            })
            .collect();
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {} |",
            r.id,
            100.0 * r.own.following_share(),
            100.0 * r.own.precision(),
            shares.join(" | ")
        );
    }
    out
}

/// The counts of every case's own performance, and per kind of unrelated audio the cases that
/// had it ("another piece" needs a case of another piece) and their counts.
type CalibrationTotals = (StateCounts, [(usize, StateCounts); Unrelated::ALL.len()]);

fn calibration_totals(results: &[CalibrationResult]) -> CalibrationTotals {
    let mut own = StateCounts::default();
    let mut unrelated = [(0usize, StateCounts::default()); Unrelated::ALL.len()];
    for r in results {
        own.add(r.own);
        for (kind, c) in &r.unrelated {
            let k = Unrelated::ALL
                .iter()
                .position(|u| u == kind)
                .expect("one of all");
            unrelated[k].0 += 1;
            unrelated[k].1.add(*c);
        }
    }
    (own, unrelated)
}

/// One row per rendering: the calibration's headline figures.
fn calibration_renderings_report(rows: &[(Rendering, CalibrationTotals)]) -> String {
    let mut out = String::from(
        "\n### Calibration on each piano and room\n\n| rendering | own: `following` % | own: within 0.5 s % |",
    );
    for kind in Unrelated::ALL {
        let _ = write!(out, " {kind}: `following` % |");
    }
    out.push_str(&format!("\n|{}\n", "---|".repeat(3 + Unrelated::ALL.len())));
    for (rendering, (own, unrelated)) in rows {
        let _ = write!(
            out,
            "| {rendering} | {:.1} | {:.2} |",
            100.0 * own.following_share(),
            100.0 * own.precision()
        );
        for (_, c) in unrelated {
            let _ = write!(out, " {:.2} |", 100.0 * c.following_share());
        }
        out.push('\n');
    }
    out
}

/// The calibration curve: what `following` would be worth if it began at each confidence of
/// [`SWEEP`].
fn calibration_curve(own: &StateCounts, unrelated: &[(usize, StateCounts)]) -> String {
    let mut out = String::from(
        "\n#### If `following` began at a higher confidence\n\n| from confidence | own: `following` % | own: within 0.5 s % |",
    );
    for kind in Unrelated::ALL {
        let _ = write!(out, " {kind}: `following` % |");
    }
    out.push_str(&format!("\n|{}\n", "---|".repeat(3 + Unrelated::ALL.len())));
    for (k, at) in SWEEP.iter().enumerate() {
        let (share, precision) = own.at_sweep(k);
        let _ = write!(
            out,
            "| {at:.2} | {:.1} | {:.2} |",
            100.0 * share,
            100.0 * precision
        );
        for (_, c) in unrelated {
            let _ = write!(out, " {:.2} |", 100.0 * c.at_sweep(k).0);
        }
        out.push('\n');
    }
    out
}

/// How the performances are played and recorded.
fn describe_performance(cfg: &EvalConfig, soundfont: &std::path::Path) {
    let d = cfg.degradation;
    eprintln!(
        "performance {} (program {}), ±{} cents, {} dB SNR, reverb {} s ({:.0} % wet), EQ tilt {}",
        soundfont.display(),
        cfg.performance_program,
        cfg.max_detune_cents,
        d.snr_db,
        d.reverb_decay_s,
        d.reverb_wet * 100.0,
        d.tilt
    );
}

/// `all`, or names separated by commas.
fn parse_renderings(s: &str) -> anyhow::Result<Vec<Rendering>> {
    if s == "all" {
        return Ok(Rendering::ALL.to_vec());
    }
    s.split(',')
        .map(|r| r.trim().parse().map_err(anyhow::Error::msg))
        .collect()
}

/// Within 100 ms online and offline (%), and the longest a case was lost online (s).
type RenderingRow = (f64, f64, f64);

fn rendering_row(results: &[CaseResult], cfg: &EvalConfig) -> RenderingRow {
    let within_100 = |online: bool| {
        let s = pooled(results, None, online);
        THRESHOLDS_MS
            .iter()
            .position(|&t| t == 100.0)
            .map_or(f64::NAN, |i| 100.0 * s.within[i])
    };
    let lost = results.iter().map(|r| r.longest_lost_s).fold(0.0, f64::max);
    (
        if cfg.online {
            within_100(true)
        } else {
            f64::NAN
        },
        if cfg.offline {
            within_100(false)
        } else {
            f64::NAN
        },
        lost,
    )
}

/// One row per rendering, then the worst of each column ("–": not measured).
fn renderings_report(rows: &[(Rendering, RenderingRow)]) -> String {
    let cell = |x: f64| {
        if x.is_finite() {
            format!("{x:.1}")
        } else {
            "–".into()
        }
    };
    let mut out = String::from("\n### Renderings: each piano and room, and the worst\n\n| rendering | online ≤100 ms % | offline ≤100 ms % | longest lost s |\n|---|---|---|---|\n");
    for (r, (on, off, lost)) in rows {
        let _ = writeln!(out, "| {r} | {} | {} | {lost:.1} |", cell(*on), cell(*off));
    }
    let lowest = |f: fn(&RenderingRow) -> f64| {
        rows.iter()
            .map(|(_, row)| f(row))
            .filter(|x| x.is_finite())
            .fold(f64::INFINITY, f64::min)
    };
    let longest = rows.iter().map(|(_, r)| r.2).fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "| **worst** | {} | {} | {longest:.1} |",
        cell(lowest(|r| r.0)),
        cell(lowest(|r| r.1))
    );
    out
}

/// `all`, or one scenario.
fn practice_scenarios(s: &str) -> anyhow::Result<Vec<Scenario>> {
    match s {
        "all" => Ok(Scenario::ALL.to_vec()),
        other => Ok(vec![other.parse().map_err(anyhow::Error::msg)?]),
    }
}

/// The results that came, with the failures said.
fn succeeded<T>(results: Vec<Result<T, (String, String)>>) -> Vec<T> {
    results
        .into_iter()
        .filter_map(|r| r.map_err(|(id, e)| eprintln!("{id}: FAILED: {e}")).ok())
        .collect()
}

/// Tables of the practice scenarios: tracking, recovery, false confidence, cost.
fn practice_report(
    results: &[PracticeResult],
    scenarios: &[Scenario],
    wall_s: f64,
    threads: usize,
) -> String {
    let mut out = String::from("\n### Practice: finding the pianist again\n\n| scenario | cases | jumps | recovered ≤3 s % | median recovery s | never recovered | ticks on target (≤0.5 s) % | false confidence % of ticks | µs per frame |\n|---|---|---|---|---|---|---|---|---|\n");
    for &scenario in scenarios {
        let rs: Vec<&PracticeResult> = results.iter().filter(|r| r.scenario == scenario).collect();
        let recoveries: Vec<Option<f64>> =
            rs.iter().flat_map(|r| r.score.recoveries.clone()).collect();
        let mut found: Vec<f64> = recoveries.iter().flatten().copied().collect();
        found.sort_by(f64::total_cmp);
        let within = found.iter().filter(|&&t| t <= 3.0).count();
        let sum = |f: fn(&PracticeResult) -> usize| rs.iter().map(|r| f(r)).sum::<usize>();
        let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
        let frames = sum(|r| r.frames);
        let secs: f64 = rs.iter().map(|r| r.compute_s).sum();
        let _ = writeln!(
            out,
            "| {scenario} | {} | {} | {:.1} | {} | {} | {:.1} | {:.2} | {} |",
            rs.len(),
            recoveries.len(),
            pct(within, recoveries.len()),
            found
                .get(found.len() / 2)
                .map_or("–".into(), |m| format!("{m:.1}")),
            recoveries.len() - found.len(),
            pct(sum(|r| r.score.on_target), sum(|r| r.score.ticks)),
            pct(
                sum(|r| r.score.falsely_confident),
                sum(|r| r.score.all_ticks)
            ),
            if frames == 0 {
                "–".into()
            } else {
                format!("{:.0}", secs / frames as f64 * 1e6)
            }
        );
    }
    let _ = writeln!(
        out,
        "\n- {} practice performances, wall time {wall_s:.0} s on {threads} threads",
        results.len()
    );
    let _ = writeln!(out, "\n### Per case\n\n| case | scenario | recovery s | ticks on target % | false confidence % |\n|---|---|---|---|---|");
    for r in results {
        let rec: Vec<String> = r
            .score
            .recoveries
            .iter()
            .map(|t| t.map_or("never".into(), |t| format!("{t:.1}")))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.2} |",
            r.id,
            r.scenario,
            rec.join(", "),
            100.0 * r.score.on_target_share(),
            100.0 * r.score.false_confidence_share()
        );
    }
    out
}

/// `name,online shares…,offline shares…,µs per frame` (shares in %, empty when not run).
fn append_summary(
    path: &std::path::Path,
    name: &str,
    results: &[CaseResult],
    cfg: &EvalConfig,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let shares = |online: bool, enabled: bool| -> Vec<String> {
        let s = pooled(results, None, online);
        s.within
            .iter()
            .map(|w| {
                if enabled {
                    format!("{:.1}", w * 100.0)
                } else {
                    String::new()
                }
            })
            .collect()
    };
    let frames: usize = results.iter().map(|r| r.online_frames).sum();
    let secs: f64 = results.iter().map(|r| r.online_compute_s).sum();
    let per_frame = if cfg.online && frames > 0 {
        format!("{:.0}", secs / frames as f64 * 1e6)
    } else {
        String::new()
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let name = name.replace(',', ";");
    writeln!(
        f,
        "{name},{},{},{per_frame}",
        shares(true, cfg.online).join(","),
        shares(false, cfg.offline).join(",")
    )?;
    Ok(())
}

fn row(name: &str, s: &Summary) -> String {
    let shares: Vec<String> = s
        .within
        .iter()
        .map(|w| format!("{:.1}", w * 100.0))
        .collect();
    format!(
        "| {name} | {} | {} | {:.0} | {:.0} | {:+.0} | {:.1} |\n",
        s.rows,
        shares.join(" | "),
        s.mean_abs_ms,
        s.median_abs_ms,
        s.median_signed_ms,
        s.unreached * 100.0
    )
}

fn pooled(results: &[CaseResult], source: Option<&str>, online: bool) -> Summary {
    let errors: Vec<Option<f64>> = results
        .iter()
        .filter(|r| source.is_none_or(|s| r.source == s))
        .flat_map(|r| {
            if online {
                r.online_errors.clone()
            } else {
                r.offline_errors.clone()
            }
        })
        .collect();
    summarize(&errors)
}

fn report(results: &[CaseResult], cfg: &EvalConfig, wall_s: f64, threads: usize) -> String {
    let mut out = String::new();
    let header = format!(
        "| rows | n | {} | mean ms | median ms | median signed ms | unreached % |\n|---|---|{}---|---|---|---|\n",
        THRESHOLDS_MS.iter().map(|t| format!("≤{t} ms %")).collect::<Vec<_>>().join(" | "),
        "---|".repeat(THRESHOLDS_MS.len())
    );
    for (online, enabled, title) in [
        (true, cfg.online, "Online follower"),
        (false, cfg.offline, "Offline aligner"),
    ] {
        if !enabled {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n\n{header}",);
        out.pop();
        out += &row("all", &pooled(results, None, online));
        out += &row("ASAP (beats)", &pooled(results, Some("asap"), online));
        out += &row(
            "Vienna 4x22 (notes)",
            &pooled(results, Some("vienna4x22"), online),
        );
    }
    let audio_s: f64 = results.iter().map(|r| r.performance_s).sum();
    let _ = writeln!(out, "\n### Compute and robustness\n");
    if cfg.online {
        let frames: usize = results.iter().map(|r| r.online_frames).sum();
        let secs: f64 = results.iter().map(|r| r.online_compute_s).sum();
        let lost = results.iter().filter(|r| r.longest_lost_s > 5.0).count();
        let _ = writeln!(out, "- follower (features + {}): {:.0} frames/s of compute per core = {:.0}× real time; {:.1} µs per 23 ms frame", match cfg.method { Method::Filter(_) => "position-tempo filter", Method::Oltw(_) => "OLTW" }, frames as f64 / secs, audio_s / secs, secs / frames as f64 * 1e6);
        let _ = writeln!(out, "- cases lost for more than 5 s (position more than 2 s of performance time off the truth): {lost} of {} ({:.1} %)", results.len(), 100.0 * lost as f64 / results.len().max(1) as f64);
    }
    if cfg.offline {
        let secs: f64 = results.iter().map(|r| r.offline_compute_s).sum();
        let longest = results
            .iter()
            .max_by(|a, b| a.performance_s.total_cmp(&b.performance_s));
        let _ = writeln!(
            out,
            "- offline (features + multiscale DTW{}): {:.0}× real time overall",
            if cfg.refine { " + onsets refined" } else { "" },
            audio_s / secs
        );
        if let Some(l) = longest {
            let _ = writeln!(
                out,
                "- longest case: {} ({:.0} s of audio) aligned in {:.2} s",
                l.id, l.performance_s, l.offline_compute_s
            );
        }
    }
    let _ = writeln!(out, "- {} cases, {:.2} h of performance, wall time {:.0} s on {} threads, peak memory {:.0} MiB", results.len(), audio_s / 3600.0, wall_s, threads, peak_memory_mib().unwrap_or(f64::NAN));
    let _ = writeln!(out, "\n### Per case\n\n| case | audio s | detune ¢ | online ≤100 ms % | online ≤500 ms % | offline ≤50 ms % | longest lost s |\n|---|---|---|---|---|---|---|");
    for r in results {
        let (on, off) = (r.online(), r.offline());
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:+.0} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.id,
            r.performance_s,
            r.detune_cents,
            on.within[2] * 100.0,
            on.within[5] * 100.0,
            off.within[1] * 100.0,
            r.longest_lost_s
        );
    }
    out
}
