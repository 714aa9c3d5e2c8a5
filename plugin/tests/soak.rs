//! The plugin over a long session (issue 11): takes of the example performance through
//! `process()`, one after another, faster than real time, each at a random sample rate (a new
//! activation), in random block sizes, stopped at a random point (the transport stops: the host
//! deactivates), some after a score reload and some after the project's state was saved and
//! restored. After every take the follower must be where the pianist is; nothing may be dropped
//! (the host renders offline, so each block waits for the worker); memory must stay flat.
//!
//! `SEGNO_SOAK_S` sets the seconds of audio (default 7200, the 2 hours the test suite runs in
//! about 90 s: memory rises in steps over the first hour's takes, so a shorter run cannot tell
//! a leak from that). `SEGNO_SOAK_TRACE` prints each take.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::*;
use segno::rng::Rng;
use serde_json::Value;

use common::example;
use common::host::{activate_in, load_example_score, process_block, Host};
use segno_plugin::Segno;

const RATES: [u32; 3] = [44_100, 48_000, 96_000];
const MAX_BLOCK: usize = 4096;
/// How far the reported position may be from the pianist's at the end of a take.
const TOLERANCE_S: f64 = 1.0;
/// Growth of resident memory allowed over the second half of the takes. Over the first ones it
/// rises in steps (about 100 MB over the first 60 takes of the 2-hour run) and then stays flat,
/// so the second half is where a leak shows.
const MAX_GROWTH_MB: f64 = 64.0;

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Score time at performance time `t`, from the example's truth (score_time_s, perf_time_s).
fn truth_at(truth: &[(f64, f64)], t: f64) -> f64 {
    let i = truth
        .partition_point(|r| r.1 <= t)
        .clamp(1, truth.len() - 1);
    let (a, b) = (truth[i - 1], truth[i]);
    a.0 + (b.0 - a.0) * ((t - a.1) / (b.1 - a.1)).clamp(0.0, 1.0)
}

/// Saves the project's state and restores it, as a host reopening the project does. The saved
/// measure is dropped, so the take starts from the beginning as the performance does.
fn save_and_restore(plugin: &Segno) {
    let mut saved: Value = plugin.session().map(|v| v.clone());
    saved["last_measure"] = Value::Null;
    plugin.session().set(saved);
}

/// A block length from 1 to [`MAX_BLOCK`], spread evenly over its logarithm.
fn block_len(rng: &mut Rng) -> usize {
    (MAX_BLOCK as f64).powf(rng.uniform()).round().max(1.0) as usize
}

#[test]
fn hours_of_takes_keep_memory_flat_and_the_follower_in_place() {
    let soak_s: f64 = std::env::var("SEGNO_SOAK_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7200.0);
    let truth = segno::eval::cases::read_truth(&example("minuet-performance.truth.csv")).unwrap();
    // Rendered before memory is measured.
    let audio: HashMap<u32, Vec<f32>> = RATES
        .iter()
        .map(|&rate| (rate, common::performance(rate)))
        .collect();
    let mut rng = Rng::from_name("soak");
    let mut plugin = Segno::default();
    load_example_score(&plugin);
    let (mut played_s, mut takes, mut worst_s) = (0.0, 0, 0.0f64);
    let mut rss = Vec::new();
    let start = std::time::Instant::now();
    while played_s < soak_s {
        let rate = RATES[(rng.next_u64() % RATES.len() as u64) as usize];
        let performance = &audio[&rate];
        match rng.next_u64() % 4 {
            0 => load_example_score(&plugin),
            1 => save_and_restore(&plugin),
            _ => {}
        }
        activate_in(&mut plugin, rate, MAX_BLOCK, ProcessMode::Offline);
        // Stopped anywhere from 10 s in to the end of the performance.
        let seconds = 10.0 + rng.uniform() * (truth.last().unwrap().1 - 10.0);
        let end = ((seconds * f64::from(rate)) as usize).min(performance.len());
        let mut host = Host::new(rate);
        let mut at = 0;
        while at < end {
            let n = block_len(&mut rng).min(end - at);
            let block = &performance[at..at + n];
            host.events.clear();
            process_block(&mut plugin, &mut host, [block, block]);
            at += n;
        }
        let published = &plugin.worker().published;
        let snap = published.snapshot().expect("a position after a take");
        let t = end as f64 / f64::from(rate);
        let err = (snap.score_time_s - truth_at(&truth, t)).abs();
        assert!(
            err <= TOLERANCE_S,
            "take {takes} ({rate} Hz, stopped at {t:.1} s): the follower is {err:.2} s off"
        );
        assert_eq!(published.dropped.load(Ordering::Relaxed), 0, "take {takes}");
        plugin.deactivate();
        worst_s = worst_s.max(err);
        played_s += t;
        takes += 1;
        rss.push(rss_mb());
        if std::env::var_os("SEGNO_SOAK_TRACE").is_some() {
            eprintln!(
                "take {takes}: {rate} Hz, {t:.1} s, RSS {:.0} MB",
                rss[takes - 1]
            );
        }
    }
    let (first, half, last) = (rss[0], rss[takes / 2], rss[takes - 1]);
    eprintln!(
        "{takes} takes, {played_s:.0} s of audio in {:.0} s; worst position error at a take's end \
         {worst_s:.2} s; resident memory {first:.0} MB after the first take, {half:.0} MB half way, \
         {last:.0} MB after the last",
        start.elapsed().as_secs_f64(),
    );
    assert!(
        last - half <= MAX_GROWTH_MB,
        "memory grew by {:.0} MB over the second half",
        last - half
    );
}
