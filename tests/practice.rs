//! Practice-proof following on the bundled example: the minuet's performance cut as a pianist
//! practising plays it (a restart, a skip, a start in the middle), rendered on another piano and
//! followed as a live input, as the benchmark does (`segno eval --practice`).

mod common;

use segno::eval::cases::{read_truth, Case};
use segno::eval::practice::Scenario;
use segno::eval::run::{run_practice_case, EvalConfig};

use common::{example, performance_font, reference_font};

fn minuet() -> Case {
    Case {
        id: "minuet".into(),
        score: example("minuet.musicxml"),
        performance: example("minuet-performance.mid"),
        truth: read_truth(&example("minuet-performance.truth.csv")).unwrap(),
    }
}

/// Each scenario on the example, followed with or without relocation: the seconds until each
/// jump was found (`None`: never), printed with the tracking share.
fn recoveries(relocation: bool) -> Vec<(Scenario, Vec<Option<f64>>)> {
    let mut cfg = EvalConfig::new(reference_font(), performance_font());
    cfg.relocation = relocation;
    let case = minuet();
    let results = run_practice_case(&case, &cfg, &Scenario::ALL).unwrap();
    assert_eq!(
        results.len(),
        3,
        "the example is long enough for every scenario"
    );
    results
        .into_iter()
        .map(|r| {
            let s = r.score;
            eprintln!(
                "relocation {relocation}, {}: found after {:?} s; {:.1} % of ticks on target, {:.2} % falsely confident",
                r.scenario,
                s.recoveries,
                100.0 * s.on_target_share(),
                100.0 * s.false_confidence_share()
            );
            (r.scenario, s.recoveries)
        })
        .collect()
}

/// Relocation finds the pianist after each jump, where the follower alone never finds the
/// restart or the skip. The target is 3 s; measured here: 3.0, 2.6 and 3.1 s (the
/// bound below leaves room for timing noise, not for a different behaviour).
#[test]
fn relocation_finds_a_restart_a_skip_and_a_mid_piece_start() {
    for (scenario, found) in recoveries(true) {
        assert!(
            !found.is_empty() && found.iter().all(|t| t.is_some_and(|t| t <= 4.0)),
            "{scenario}: {found:?}"
        );
    }
    let alone = recoveries(false);
    for (scenario, found) in &alone[..2] {
        assert_eq!(
            found,
            &vec![None],
            "{scenario}: the follower alone does not find it"
        );
    }
}
